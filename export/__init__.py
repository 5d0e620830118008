"""Export: a training run to ONNX, a versioned model bundle, and the installable Blender extension."""

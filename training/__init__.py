"""Training: PyTorch models of the motion-language space, trained on canonical motion from ``engine``."""

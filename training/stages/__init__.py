"""The pipeline's stages, one module each (``run(ctx) -> metrics``), and what they share (context, loop)."""

"""Export a trained run as a TensorFlow SavedModel (recipes/export.py): TensorFlow-specific, so it
lives here and not in the Keras-only models."""

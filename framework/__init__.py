"""rnnseq: recurrent sequence models on Keras 3 (see README.md)."""

from framework.onednn import prefer_onednn

prefer_onednn()  # before anything imports TensorFlow (framework/onednn.py says why)

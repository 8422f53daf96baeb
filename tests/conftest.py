"""Test-wide settings.

On a PyTorch GPU, cuDNN computes float32 RNNs in TF32 (a 10-bit mantissa) by default, which moves
outputs by ~1e-4 relative (seen on an H200: 8e-5 absolute against the generic loop). The tests
compare kernels and paths that must compute the same float32 math, so they turn TF32 off; the
benchmark keeps PyTorch's default and records it (framework.environment).
"""

import keras


def pytest_configure(config):
    if keras.backend.backend() != "torch":
        return
    try:
        import torch
    except ImportError:
        return
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False

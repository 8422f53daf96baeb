"""Turn TensorFlow's oneDNN CPU kernels on unless the user chose otherwise.

TensorFlow's Linux wheels carry oneDNN kernels but use them by default only on CPUs with
AVX512_VNNI, AVX512_BF16, AVX_VNNI or AMX (``DefaultOneDnnPolicy`` in its ``util/port.cc``). On
others, such as AMD Zen 3 (AVX2), its matmuls run on Eigen, and the batched matmuls of our
fused RNN loops there took 2.4 times as long a call (README, "A family-25 CPU"). The switch is read once, when
TensorFlow loads, so it has to be set before anything imports TensorFlow: ``framework`` does it
on import. A value the user set (``TF_ENABLE_ONEDNN_OPTS=0``) is kept. Other backends ignore it.
"""

from __future__ import annotations

import os

SWITCH = "TF_ENABLE_ONEDNN_OPTS"


def prefer_onednn() -> None:
    """oneDNN on in TensorFlow, if nothing has loaded TensorFlow yet and the user left the switch unset."""
    os.environ.setdefault(SWITCH, "1")


def onednn_state() -> str:
    """Whether TensorFlow runs its oneDNN kernels in this process, and who decided, for reports."""
    try:
        from tensorflow.python.util import _pywrap_util_port  # TensorFlow's own check, the one its kernels use
    except ImportError:  # internal API: a later TensorFlow may move it
        return f"unknown ({SWITCH}={os.environ.get(SWITCH, 'unset')})"
    state = "on" if _pywrap_util_port.IsMklEnabled() else "off"
    return f"{state} ({SWITCH}={os.environ[SWITCH]})" if SWITCH in os.environ else f"{state} (TensorFlow's default)"

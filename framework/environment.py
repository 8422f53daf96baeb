"""What a run ran on (versions, device, backend), recorded in every report."""

from __future__ import annotations

import os
import platform
from importlib import metadata


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo (Linux), else platform.processor()."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe_environment() -> dict[str, str]:
    """Library versions, Keras backend, CPU/GPU devices, core count."""
    import keras

    from framework.models.cudnn import gpu_available

    info = {
        "python": platform.python_version(),
        "keras": keras.__version__,
        "keras_backend": keras.backend.backend(),
        "numpy": _version("numpy"),
        "cpu": cpu_name(),
        "cpu_cores": str(os.cpu_count()),
        "gpu": "yes" if gpu_available() else "none visible",
        "platform": platform.platform(),
    }
    for package in ("tensorflow", "tensorflow-cpu", "tensorflow-datasets", "hydra-core"):
        version = _version(package)
        if version != "not installed":
            info[package] = version
    return info

"""What a run ran on (versions, device, backend), recorded in every report."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

from framework.onednn import onednn_state


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def cpu_name(cpuinfo: str = "/proc/cpuinfo") -> str:
    """The CPU model from /proc/cpuinfo (Linux), with its family and model numbers where given (a
    virtual machine may name only "AMD EPYC", whose generations differ twofold in matmul rate),
    else platform.processor()."""
    fields: dict[str, str] = {}
    try:
        with open(cpuinfo, encoding="utf-8") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                if not key.strip():
                    break  # the first processor's block ends here
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    if "model name" not in fields:
        return platform.processor() or platform.machine()
    if "cpu family" in fields and "model" in fields:
        return f"{fields['model name']} (family {fields['cpu family']}, model {fields['model']})"
    return fields["model name"]


def gpu_name() -> str:
    """The first GPU's name as the active Keras backend reports it (cuDNN runs there)."""
    import keras

    try:
        if keras.backend.backend() == "torch":
            import torch

            return torch.cuda.get_device_name(0)
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            gpus = tf.config.list_physical_devices("GPU")
            return tf.config.experimental.get_device_details(gpus[0]).get("device_name", gpus[0].name)
    except Exception:  # noqa: BLE001 - a name is a nicety; the report then says only that one is there
        pass
    return "yes"


def usable_cores() -> int:
    """The cores this process may run on (taskset, a container's CPU set), not the host's count:
    what speed figures are per."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30, check=True)
    return done.stdout.strip()


def code_version(root: Path = Path(__file__).resolve().parents[1]) -> str:
    """rnnseq's version and, when it runs from a git checkout, the commit and whether tracked files
    differed from it: which code produced a run's or a benchmark's figures."""
    version = _version("rnnseq")
    if not (root / ".git").exists():  # an installed copy: its version is all there is
        return version
    try:
        commit = _git(root, "rev-parse", "--short=12", "HEAD")
        changed = _git(root, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):  # no git binary, or a checkout it cannot read
        return version
    return f"{version} (git {commit}{', with uncommitted changes' if changed else ''})"


# Read when the framework is imported, at a run's start: the code this process loaded, even if the
# checkout is edited while it runs (as it may be during an hour of training or a benchmark).
LOADED_CODE_VERSION = code_version()


def describe_environment() -> dict[str, str]:
    """rnnseq's version and commit, library versions, Keras backend, CPU/GPU devices, core count."""
    import keras

    from framework.models.cudnn import gpu_available

    info = {
        "rnnseq": LOADED_CODE_VERSION,
        "python": platform.python_version(),
        "keras": keras.__version__,
        "keras_backend": keras.backend.backend(),
        "numpy": _version("numpy"),
        "cpu": cpu_name(),
        "cpu_cores": str(usable_cores()),
        "gpu": gpu_name() if gpu_available() else "none visible",
        "platform": platform.platform(),
    }
    if keras.backend.backend() == "tensorflow":
        info["onednn"] = onednn_state()  # off, our loops' matmuls ran 2.4x slower on one CPU (framework/onednn.py)
        from framework.threads import describe_threads

        info["tensorflow_threads"] = describe_threads()  # one an op trained 1.2x as fast on one CPU
    if keras.backend.backend() == "torch" and gpu_available():
        import torch

        info["cuda"], info["cudnn"] = str(torch.version.cuda), str(torch.backends.cudnn.version())
        # TF32 (10-bit mantissa) tensor-core math: PyTorch allows it in cuDNN by default, not in matmuls
        info["tf32"] = f"cudnn={torch.backends.cudnn.allow_tf32}, matmul={torch.backends.cuda.matmul.allow_tf32}"
    for package in ("tensorflow", "tensorflow-cpu", "tensorflow-datasets", "hydra-core", "torch"):
        version = _version(package)
        if version != "not installed":
            info[package] = version
    return info

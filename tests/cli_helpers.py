"""Run a recipe or script as a user does and check its one-line error (shared by the error, recipe and sweep tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def user_env() -> dict[str, str]:
    """This environment without ``HYDRA_FULL_ERROR`` or ``TF_CPP_MIN_LOG_LEVEL``: what a user's shell has."""
    env = {key: value for key, value in os.environ.items() if key not in ("HYDRA_FULL_ERROR", "TF_CPP_MIN_LOG_LEVEL")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_command_as_user(command: list[str], timeout: int = 900) -> subprocess.CompletedProcess:
    """``command`` from the repository root, in the user's environment."""
    return subprocess.run(command, cwd=ROOT, env=user_env(), capture_output=True, text=True, timeout=timeout)


def run_as_user(recipe: str, *overrides: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """``python recipes/<recipe>.py <overrides>`` from the repository root."""
    return run_command_as_user([sys.executable, f"recipes/{recipe}.py", *overrides], timeout=timeout)


def shown(result: subprocess.CompletedProcess) -> str:
    """The tail of a run's output, for assertion messages."""
    return f"exit {result.returncode}\n--- stderr\n{result.stderr[-4000:]}\n--- stdout (tail)\n{result.stdout[-2000:]}"


def assert_user_error(result: subprocess.CompletedProcess, *fragments: str) -> str:
    """Exit status 2 and exactly one stderr line, ``error: ...``, containing every fragment."""
    message = shown(result)
    assert result.returncode == 2, message
    lines = result.stderr.splitlines()
    assert len(lines) == 1, message
    assert lines[0].startswith("error: "), message
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, message
    for fragment in fragments:
        assert fragment in lines[0], message
    return lines[0]

"""Errors for a user's mistakes, printed as one line instead of a traceback."""

from __future__ import annotations


class UserError(Exception):
    """A mistake in the user's input or config; the recipes print it as one line and exit 2."""


class DataError(UserError):
    """A data file is wrong: names the file, the 1-based line, and what was expected.

    Example: ``DataError("train.conll", 12, "expected 4 columns, found 3")`` prints as
    ``train.conll:12: expected 4 columns, found 3``. ``line`` may be None for file-level
    problems (missing or empty file).
    """

    def __init__(self, path: str, line: int | None, message: str):
        self.path = str(path)
        self.line = line
        self.message = message
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {message}")


class ConfigError(UserError):
    """A config value that cannot work, caught at start-up (e.g. one that takes a layer off cuDNN)."""


class RunDirTaken(ConfigError):
    """The run dir holds a run trained under another config: nothing may be written there.

    A multirun trial that fails records its failure in its run dir's ``metrics.json``; this one
    must not, or rerunning a sweep with other values into the same sweep dir would replace the
    earlier trials' results.
    """

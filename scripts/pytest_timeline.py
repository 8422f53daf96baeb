"""When each test ran on each pytest-xdist worker: how balanced the suite's two workers are (README "Tests").

As a pytest plugin it appends each test's start and end (wall clock) to ``<dir>/<worker>.jsonl``;
as a script it prints when each worker ran its first and last test and the seconds of each test
file, longest first (the figures behind ``LONGEST_FIRST`` in ``tests/conftest.py``):

    rm -rf runs/timeline
    RNNSEQ_TIMELINE_DIR=runs/timeline PYTHONPATH=scripts python3 -m pytest -q -n 2 --dist loadfile -p pytest_timeline
    python3 scripts/pytest_timeline.py runs/timeline
"""

from __future__ import annotations

import collections
import json
import os
import sys
import time
from pathlib import Path

_log = None
_recording = True


def pytest_configure(config):
    """Only the processes that run tests record: an xdist controller sees every worker's tests go by too."""
    global _recording
    _recording = hasattr(config, "workerinput") or getattr(config.option, "dist", "no") == "no"


def _write(event: dict) -> None:
    global _log
    if not _recording:
        return
    if _log is None:
        folder = Path(os.environ.get("RNNSEQ_TIMELINE_DIR", "runs/timeline"))
        folder.mkdir(parents=True, exist_ok=True)
        _log = open(folder / f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}.jsonl", "a")  # noqa: SIM115
    _log.write(json.dumps(event) + "\n")
    _log.flush()


def pytest_runtest_logstart(nodeid, location):
    _write({"test": nodeid, "start": time.time()})


def pytest_runtest_logfinish(nodeid, location):
    _write({"test": nodeid, "end": time.time()})


def summary(folder: Path) -> str:
    """Each worker's span (seconds from the first test anywhere) and each file's seconds, longest first."""
    workers, file_seconds = {}, collections.Counter()
    for path in sorted(folder.glob("*.jsonl")):
        started, ends = {}, []
        for line in path.read_text().splitlines():
            event = json.loads(line)
            if "start" in event:
                started[event["test"]] = event["start"]
            else:
                ends.append(event["end"])
                file_seconds[event["test"].split("::")[0]] += event["end"] - started[event["test"]]
        if started:
            workers[path.stem] = (min(started.values()), max(ends))
    if not workers:
        raise SystemExit(f"error: {folder}: no <worker>.jsonl timelines (run pytest with -p pytest_timeline first)")
    zero = min(first for first, _ in workers.values())
    lines = [f"{name}: tests from {first - zero:.1f} s to {last - zero:.1f} s" for name, (first, last) in workers.items()]
    lines += [f"{seconds:8.1f} s  {name}" for name, seconds in file_seconds.most_common()]
    return "\n".join(lines)


if __name__ == "__main__":
    print(summary(Path(sys.argv[1] if len(sys.argv) > 1 else "runs/timeline")))

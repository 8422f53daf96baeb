"""Where the benchmark tagger's training step spends its time, by TensorFlow op type (issue 6).

Traces ``--steps`` training steps with TensorFlow's profiler and sums each op type's time over
TensorFlow's compute threads, per step (two threads on two cores: the sum can exceed the step's
wall time). Op names tell the kernels apart: ``_MklMatMul`` / ``_MklBatchMatMulV2`` are oneDNN's,
plain ``MatMul`` / ``BatchMatMulV2`` Eigen's (framework/onednn.py). The trace itself slows the step.

    python3 scripts/profile_tagger_step.py [--steps 5] [--top 15] [--set units=256 ...]
"""

from __future__ import annotations

import argparse
import collections
import tempfile
import time
from pathlib import Path

from framework import benchmarking
from framework.config import BenchmarkShapes
from framework.onednn import onednn_state

import tensorflow as tf  # noqa: E402 - after framework, which chooses TensorFlow's kernels before it loads
from tensorflow.tsl.profiler.protobuf import xplane_pb2  # noqa: E402 - the profiler's trace format


def op_time_by_type(trace: Path) -> tuple[collections.Counter, collections.Counter]:
    """Picoseconds and calls per op type on the host's TensorFlow compute threads."""
    space = xplane_pb2.XSpace()
    space.ParseFromString(trace.read_bytes())
    picoseconds, calls = collections.Counter(), collections.Counter()
    for plane in space.planes:
        for line in plane.lines:
            if not line.name.startswith("tf_Compute"):
                continue
            for event in line.events:
                name = plane.event_metadata[event.metadata_id].name  # "<node name>:<op type>"
                if ":" in name and "::" not in name:
                    op_type = name.rsplit(":", 1)[1]
                    picoseconds[op_type] += event.duration_ps
                    calls[op_type] += 1
    return picoseconds, calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="benchmark shapes, e.g. units=128")
    args = parser.parse_args()
    shapes = BenchmarkShapes.with_overrides(args.set)
    x, tags = benchmarking.tagger_batch(shapes)
    model = benchmarking._tagger(shapes, "lstm")
    for _ in range(max(1, shapes.warmup)):
        model.train_on_batch(x, tags)
    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        start = time.perf_counter()
        for _ in range(args.steps):
            model.train_on_batch(x, tags)
        wall = (time.perf_counter() - start) / args.steps
        tf.profiler.experimental.stop()
        traces = sorted(Path(logdir).rglob("*.xplane.pb"))
        if not traces:
            raise SystemExit(f"error: {logdir}: the profiler wrote no *.xplane.pb trace")
        picoseconds, calls = op_time_by_type(traces[-1])
    total = sum(picoseconds.values()) / 1e9 / args.steps
    print(f"tagger training step, batch {shapes.batch_size} x {shapes.seq_len} steps, {shapes.units} units; "
          f"oneDNN {onednn_state()}")  # fmt: skip
    print(f"{wall * 1000:.1f} ms a step (traced), op time {total:.1f} ms a step over the compute threads")
    for op_type, ps in picoseconds.most_common(args.top):
        per_step, per_call = ps / 1e9 / args.steps, ps / calls[op_type] / 1e6
        print(f"{op_type:28s} {per_step:9.2f} ms {calls[op_type] // args.steps:6d} calls {per_call:9.1f} us/call")


if __name__ == "__main__":
    main()

"""Where the benchmark tagger's training step spends its time, by TensorFlow op type (issue 6).

Traces ``--steps`` training steps with TensorFlow's profiler and sums each op type's time over
TensorFlow's compute threads, per step (two threads on two cores: the sum can exceed the step's
wall time). Op names tell the kernels apart: ``_MklMatMul`` / ``_MklBatchMatMulV2`` are oneDNN's,
plain ``MatMul`` / ``BatchMatMulV2`` Eigen's (framework/onednn.py). ``--by-node`` splits each type
by the graph node that ran it (its numeric suffixes dropped, so both layers' and every step's copies
of one node add up): the forward loop's matmul apart from its gradient's, the input projections apart
from the loop. The trace itself slows the step.

    python3 scripts/profile_tagger_step.py [--steps 5] [--top 15] [--by-node] [--set units=256 ...]
"""

from __future__ import annotations

import argparse
import collections
import re
import tempfile
import time
from pathlib import Path

from framework import benchmarking
from framework.onednn import onednn_state

import tensorflow as tf  # noqa: E402 - after framework, which chooses TensorFlow's kernels before it loads
from tensorflow.tsl.profiler.protobuf import xplane_pb2  # noqa: E402 - the profiler's trace format


def op_time_by_type(trace: Path, by_node: bool = False) -> tuple[collections.Counter, collections.Counter]:
    """Picoseconds and calls per (op type, node) on TensorFlow's compute threads; the node is "" unless
    ``by_node``."""
    space = xplane_pb2.XSpace()
    space.ParseFromString(trace.read_bytes())
    picoseconds, calls = collections.Counter(), collections.Counter()
    for plane in space.planes:
        keys = {}  # per event metadata: its (op type, node), or None for events that are not ops
        for metadata_id, metadata in plane.event_metadata.items():
            name = metadata.name  # "<node name>:<op type>"
            if ":" in name and "::" not in name:
                node, op_type = name.rsplit(":", 1)
                keys[metadata_id] = (op_type, re.sub(r"_[0-9]+", "", node) if by_node else "")
        for line in plane.lines:
            if not line.name.startswith("tf_Compute"):
                continue
            for event in line.events:
                key = keys.get(event.metadata_id)
                if key is not None:
                    picoseconds[key] += event.duration_ps
                    calls[key] += 1
    return picoseconds, calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--by-node", action="store_true", help="split each op type by the graph node that ran it")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="benchmark shapes, e.g. units=128")
    args = parser.parse_args()
    shapes = benchmarking.shapes_from_command_line(args.set)
    x, tags = benchmarking.tagger_batch(shapes)
    model = benchmarking._tagger(shapes, benchmarking.BILSTM_SOFTMAX)
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
        picoseconds, calls = op_time_by_type(traces[-1], args.by_node)
    total = sum(picoseconds.values()) / 1e9 / args.steps
    print(f"tagger training step, batch {shapes.batch_size} x {shapes.seq_len} steps, {shapes.units} units; "
          f"oneDNN {onednn_state()}")  # fmt: skip
    print(f"{wall * 1000:.1f} ms a step (traced), op time {total:.1f} ms a step over the compute threads")
    for key, ps in picoseconds.most_common(args.top):
        op_type, node = key
        per_step, per_call = ps / 1e9 / args.steps, ps / calls[key] / 1e6
        print(f"{op_type:28s} {per_step:9.2f} ms {calls[key] // args.steps:6d} calls {per_call:9.1f} us/call"
              + (f"  {node}" if node else ""))


if __name__ == "__main__":
    main()

"""Measure speed: ``python recipes/benchmark.py [model=...] [benchmark.batch_size=64 benchmark.units=256 ...]``.

Writes ``benchmark.json`` into its run dir and prints a table: training and inference words/s of
the BiLSTM tagger (or, with ``model=<tagger config>``, that config's cell, head and directions at
the benchmark's sizes) against the same network in plain Keras, the recurrent FLOP/s against a large
fp32 matmul, translator training and greedy/beam decoding speed without and with attention (with
``model=<translator config>``, that config's translator at the benchmark's sizes), peak memory,
kernels, versions.
Runs on any Keras backend (``KERAS_BACKEND=torch`` for a GPU machine without TensorFlow).
"""

import hydra

from framework.cli import hydra_run_dir, import_backend_quietly, plain_config, quiet_tensorflow, user_errors
from framework.config import register_configs

quiet_tensorflow()
register_configs()


@hydra.main(version_base="1.3", config_path="../conf", config_name="benchmark")
def main(cfg):
    with user_errors():
        from framework.config_ranges import check_ranges

        settings = plain_config(cfg)
        check_ranges(settings)  # before the backend's import: a wrong shape fails at once, in one line
        import_backend_quietly()
        from framework.benchmarking import format_table, run_benchmark
        from framework.io import atomic_write_json

        result = run_benchmark(settings.benchmark, settings.get("model"))
        atomic_write_json(hydra_run_dir() / "benchmark.json", result)
    print(format_table(result))
    print(f"benchmark.json -> {hydra_run_dir()}")


if __name__ == "__main__":
    main()

"""Whether a training run continues the run already in its run dir, and whether it may.

A run dir with ``train_state.json`` holds at least one finished epoch: training into it again
continues that run, reusing its vocabularies, subword models and split, so its config must be
the same but for how long and how verbosely to train. Without a finished epoch nothing is
reused: what an earlier start that failed left behind is rebuilt from the new config.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from framework.errors import RunDirTaken
from framework.training.checkpointing import STATE_FILE

# Config keys (and groups) a resumed run may change: how long to train, what to log, where
# things are, how the test set is decoded at the end, how many threads compute it. Anything else
# would mix two runs.
MAY_CHANGE_ON_RESUME = ("experiment_name", "trainer.epochs", "trainer.time_limit_minutes",
                        "trainer.early_stopping_patience", "trainer.verbose", "trainer.eval_batch_size",
                        "trainer.intra_op_threads", "trainer.inter_op_threads",
                        "callbacks", "paths", "decode")  # fmt: skip


def is_resuming(run_dir: Path) -> bool:
    """Whether ``run_dir`` holds a run with a finished epoch, which training continues."""
    return (Path(run_dir) / STATE_FILE).is_file()


def check_resumable(run_dir: Path, settings: Any) -> None:
    """A RunDirTaken (a ConfigError) when ``run_dir`` holds a run trained under another config.

    Called before the new config is written, so the run dir keeps the record of its own run.
    """
    previous_path = Path(run_dir) / "config.yaml"
    if not is_resuming(run_dir) or not previous_path.is_file():
        return
    previous = OmegaConf.to_container(OmegaConf.load(previous_path))
    current = OmegaConf.to_container(settings) if OmegaConf.is_config(settings) else settings
    changed = [key for key in differing_keys(previous, current) if not _may_change(key)]
    cosine = _at(previous, "optimizer.schedule") == "cosine"
    if cosine and _at(previous, "trainer.epochs") != _at(current, "trainer.epochs"):
        changed.append("trainer.epochs")  # the cosine decay spans the epochs: the rate would jump
    if changed:
        shown = ", ".join(f"{key}: {_at(previous, key)!r} -> {_at(current, key)!r}" for key in changed[:3])
        more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
        raise RunDirTaken(f"{run_dir}: holds a run trained with another config ({shown}{more}); re-run with that "
                          "run's config to resume it, or set a new hydra.run.dir (hydra.sweep.dir for a multirun)")


def differing_keys(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two nested dicts (a key on one side only counts)."""
    if isinstance(old, dict) and isinstance(new, dict):
        keys = list(old) + [key for key in new if key not in old]
        return [found for key in keys
                for found in differing_keys(old.get(key), new.get(key), f"{prefix}{key}.")]  # fmt: skip
    return [] if old == new else [prefix.rstrip(".")]


def _may_change(key: str) -> bool:
    return any(key == allowed or key.startswith(allowed + ".") for allowed in MAY_CHANGE_ON_RESUME)


def _at(config: dict, key: str) -> Any:
    for part in key.split("."):
        config = config.get(part) if isinstance(config, dict) else None
    return config

"""Sections every run report ends with: where it ran and exactly how it was configured."""

from __future__ import annotations

from typing import Any

from omegaconf import OmegaConf

from framework.reporting.document import Document


def add_environment_and_config(doc: Document, environment: dict[str, str], cfg: Any) -> Document:
    """The environment (versions, device, RNN kernels) and the resolved config as YAML."""
    doc.heading("Environment").key_values(environment)
    return doc.heading("Configuration").code(OmegaConf.to_yaml(cfg) if OmegaConf.is_config(cfg) else str(cfg), "yaml")

"""Rebuild a trained component from its artifact folder: config.yaml + model.safetensors.

Production must serve exactly what training published, so nothing here reads the run config:
the component section comes from the artifact's own `config.yaml`, the architecture from the
spec's `build_model` on that section and the data it builds, and the weights from the artifact's
safetensors file, loaded strictly (a missing or extra key means the artifact and the code
disagree, which must stop the release rather than ship a half-initialised model).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import yaml
from pydantic import ValidationError
from torch import nn

from astrobio.errors import AstrobioError, RuntimeFailure
from astrobio.spec import ComponentSpec, TrainData
from astrobio.trainer.checkpoint import MODEL_FILE, load_weights

CONFIG_FILE = "config.yaml"


class DataUnavailable(RuntimeFailure):
    """The component's data cannot be built on this machine (a user CSV path of the training host,
    a generator package missing from this image): the model can be registered but not measured."""


@dataclass
class LoadedComponent:
    """A component rebuilt from its artifact, on CPU, in eval mode."""

    name: str
    spec: ComponentSpec
    cfg: Any
    data: TrainData
    model: nn.Module

    @property
    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    def example_batch(self) -> Any:
        """The first training batch of epoch 0: deterministic, so fp32 and int8 time the same input."""
        for batch in self.data.batches(0):
            return batch
        raise RuntimeFailure(f"{self.name}: its data yields no batch to time the model on")


def read_section(spec: ComponentSpec, folder: Path, inputs: Mapping[str, Path] | None = None) -> Any:
    """The component section of the artifact, validated by the spec's config class.

    A downstream component's `inputs` name local folders of the machine that trained it; they are
    replaced by `inputs` (this machine's copies of the same upstream artifacts).
    """
    path = folder / CONFIG_FILE
    try:
        tree = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise RuntimeFailure(f"{spec.name}: cannot read {path}: {exc.__class__.__name__}") from None
    if not isinstance(tree, dict):
        raise RuntimeFailure(f"{spec.name}: {path} is not a mapping")
    if spec.upstream:
        tree["inputs"] = {name: str(p) for name, p in (inputs or {}).items() if name in spec.upstream}
    try:
        return spec.config_cls.model_validate(tree)
    except ValidationError as exc:
        first = str(exc).splitlines()[0]
        raise RuntimeFailure(f"{spec.name}: {path} does not validate against this code's config ({first})") from None


def load_component(spec: ComponentSpec, folder: Path, cache_dir: Path,
                   inputs: Mapping[str, Path] | None = None) -> LoadedComponent:
    """Build data and model from the artifact's config, then load its weights strictly, on CPU."""
    cfg = read_section(spec, folder, inputs)
    try:
        data = spec.build_data(cfg, 0, 1, cache_dir)
    except (ImportError, OSError, AstrobioError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise DataUnavailable(f"cannot rebuild its data here ({exc.__class__.__name__}: {first})"[:300]) from None
    model = spec.build_model(cfg, data)
    weights = folder / MODEL_FILE
    try:
        model.load_state_dict(load_weights(weights), strict=True)
    except (RuntimeError, OSError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise RuntimeFailure(f"{spec.name}: {weights} does not fit the rebuilt model: {first}") from None
    model.to(torch.device("cpu")).eval()
    return LoadedComponent(spec.name, spec, cfg, data, model)

"""Loading a user's weights file into a component's model (`init_from`, `astrobio models inspect`).

Old scripts left files such as `trained_pathway_vae.pth` in several shapes: a bare state dict, a
checkpoint dict holding one, a PyTorch Lightning `.ckpt` whose keys carry a `model.` prefix, or
safetensors. All are read without unpickling code (`weights_only=True` or safetensors) and
compared key by key against the architecture, so a user sees exactly what matches before training.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from astrobio.errors import UsageError

NESTED_KEYS = ("state_dict", "model_state_dict", "model", "module", "net", "weights")
KNOWN_PREFIXES = ("module.", "model.", "_orig_mod.", "model.module.", "net.", "vae.", "encoder_model.")


@dataclass
class WeightsReport:
    """Key-by-key comparison of a weights file against a model."""

    file: str
    prefix_stripped: str
    matching: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mismatched: list[tuple[str, list[int], list[int]]] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.missing or self.unexpected or self.mismatched)

    def summary(self) -> str:
        return (f"{len(self.matching)} matching, {len(self.missing)} missing, "
                f"{len(self.unexpected)} unexpected, {len(self.mismatched)} mis-shaped")

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "prefix_stripped": self.prefix_stripped, "matching": len(self.matching),
                "missing": self.missing, "unexpected": self.unexpected,
                "mismatched": [{"key": k, "file_shape": a, "model_shape": b} for k, a, b in self.mismatched]}

    def render(self) -> str:
        lines = [f"weights {self.file}: {self.summary()}"]
        if self.prefix_stripped:
            lines.append(f"  key prefix stripped: '{self.prefix_stripped}'")
        lines += [f"  missing     {k}" for k in self.missing]
        lines += [f"  unexpected  {k}" for k in self.unexpected]
        lines += [f"  mis-shaped  {k}: file {a} vs model {b}" for k, a, b in self.mismatched]
        return "\n".join(lines)


def read_weights_file(path: Path) -> dict[str, torch.Tensor]:
    """A flat name->tensor dict from any supported file; code-carrying pickles are refused."""
    if not path.is_file():
        raise UsageError(f"weights file {path}: not found")
    if path.suffix == ".safetensors":
        try:
            return load_file(str(path))
        except (SafetensorError, OSError, ValueError) as exc:
            raise UsageError(f"weights file {path}: not a valid safetensors file ({exc})") from None
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise UsageError(f"weights file {path}: refused, not loadable as a weights-only file "
                         f"({_unpickler_detail(exc)}); only tensors and plain containers are loaded, "
                         f"never pickled code") from None
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise UsageError(f"weights file {path}: unreadable as a PyTorch file ({str(exc).splitlines()[0][:160]})") from None
    return extract_state_dict(obj, path)


def _unpickler_detail(exc: Exception) -> str:
    """The one informative line of torch's long weights-only error (e.g. 'Unsupported global: ...')."""
    text = str(exc)
    _, found, rest = text.partition("WeightsUnpickler error:")
    boilerplate = ("Weights only load failed", "Please file an issue", "Check the documentation")
    lines = [ln.strip() for ln in (rest if found else text).splitlines()
             if ln.strip() and not ln.strip().startswith(boilerplate)]
    return (lines[0] if lines else "unsafe content")[:160]


def extract_state_dict(obj: Any, path: Path) -> dict[str, torch.Tensor]:
    """Find the state dict inside a checkpoint dict (Lightning `state_dict`, `model_state_dict`...)."""
    for _ in range(3):
        if isinstance(obj, dict) and obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
            return {str(k): v for k, v in obj.items()}
        if isinstance(obj, dict):
            inner = next((obj[k] for k in NESTED_KEYS if isinstance(obj.get(k), dict)), None)
            if inner is None:
                break
            obj = {k: v for k, v in inner.items() if isinstance(v, torch.Tensor)} if _mostly_tensors(inner) else inner
            continue
        break
    raise UsageError(f"weights file {path}: no state dict found (expected a name->tensor mapping, "
                     f"or a checkpoint with one under {', '.join(NESTED_KEYS)})")


def _mostly_tensors(d: dict[str, Any]) -> bool:
    return bool(d) and sum(isinstance(v, torch.Tensor) for v in d.values()) >= max(1, len(d) // 2)


def _best_prefix(keys: list[str], expected: set[str]) -> str:
    """The prefix whose removal makes the most file keys match the model (ties: the shortest)."""
    candidates = {""} | set(KNOWN_PREFIXES) | {k.split(".", 1)[0] + "." for k in keys if "." in k}
    def score(prefix: str) -> int:
        return sum((k[len(prefix):] if k.startswith(prefix) else k) in expected for k in keys)
    return max(sorted(candidates, key=len), key=score)


def compare(file_state: dict[str, torch.Tensor], model: torch.nn.Module, file: str) -> tuple[WeightsReport, dict[str, torch.Tensor]]:
    """Report and the prefix-stripped, shape-matching subset ready for `load_state_dict`."""
    target = model.state_dict()
    prefix = _best_prefix(list(file_state), set(target))
    renamed = {(k[len(prefix):] if prefix and k.startswith(prefix) else k): v for k, v in file_state.items()}
    report = WeightsReport(file=file, prefix_stripped=prefix)
    usable: dict[str, torch.Tensor] = {}
    for key, value in sorted(renamed.items()):
        if key not in target:
            report.unexpected.append(key)
        elif tuple(value.shape) != tuple(target[key].shape):
            report.mismatched.append((key, list(value.shape), list(target[key].shape)))
        else:
            report.matching.append(key)
            usable[key] = value
    report.missing = sorted(set(target) - set(renamed))
    return report, usable


def inspect_weights(path: Path, model: torch.nn.Module) -> WeightsReport:
    report, _ = compare(read_weights_file(path), model, str(path))
    return report


def apply_init_from(model: torch.nn.Module, path: Path, strict: bool) -> WeightsReport:
    """Load `path` into `model`; strict refuses any difference, non-strict loads what matches."""
    report, usable = compare(read_weights_file(path), model, str(path))
    if strict and not report.clean:
        raise UsageError(f"init_from {path}: does not match the architecture ({report.summary()}); "
                         f"run `astrobio models inspect {path} --component ...` or set init_strict: false")
    if not usable:
        raise UsageError(f"init_from {path}: no key matches the architecture ({report.summary()})")
    model.load_state_dict(usable, strict=False)
    return report

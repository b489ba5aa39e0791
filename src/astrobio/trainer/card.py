"""Model card (JSON + Markdown) and the held-out-vs-baseline comparison, as pure functions."""

from __future__ import annotations

import importlib.metadata
import platform
from typing import Any

from astrobio.heldout import baseline_rows

VERSIONED_PACKAGES = ("astrobio", "torch", "torch-geometric", "numpy", "pydantic", "safetensors")


def package_versions(names: tuple[str, ...] = VERSIONED_PACKAGES) -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def build_card(*, component: str, phase: str, description: str, run_id: str, config_hash: str,
               config: dict[str, Any], data: dict[str, Any], metrics: dict[str, float], step: int,
               best_step: int | None, init_from: dict[str, Any] | None, versions: dict[str, str]) -> dict[str, Any]:
    """Everything a reader needs to trust or reproduce an artifact."""
    return {
        "component": component,
        "phase": phase,
        "description": description,
        "run_id": run_id,
        "config_hash": config_hash,
        "trained_steps": step,
        "weights_from_step": best_step if best_step is not None else step,
        "data": data,
        "metrics": {k: v for k, v in metrics.items() if not k.startswith("baseline_")},
        "baselines": {k: v for k, v in metrics.items() if k.startswith("baseline_")},
        "init_from": init_from,
        "config": config,
        "versions": versions,
    }


def render_card_markdown(card: dict[str, Any]) -> str:
    all_metrics = {**card["metrics"], **card["baselines"]}
    lines = [f"# Model card: {card['component']}", "", card["description"], "",
             f"- phase: {card['phase']}", f"- run: {card['run_id']}", f"- config hash: {card['config_hash']}",
             f"- trained steps: {card['trained_steps']} (weights from step {card['weights_from_step']})",
             f"- init_from: {card['init_from']['file'] if card['init_from'] else 'none (random init)'}", "",
             "## Held-out metrics vs baselines", "", "| metric | model | baselines |", "| --- | --- | --- |"]
    for name, value, base in baseline_rows(all_metrics):
        shown = ", ".join(f"{b} {v:.4f}" for b, v in base.items()) or "-"
        lines.append(f"| {name} | {value:.4f} | {shown} |")
    lines += ["", "## Data", ""] + [f"- {k}: {v}" for k, v in card["data"].items()]
    lines += ["", "## Versions", ""] + [f"- {k}: {v}" for k, v in card["versions"].items()]
    return "\n".join(lines) + "\n"

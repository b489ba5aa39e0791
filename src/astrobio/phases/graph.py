"""The five-phase graph, defined once: the local runner and the KFP pipeline both read it.

Phase 1's components are independent (they run in parallel); every later phase consumes the
artifacts of the phases it `needs`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Phase:
    number: int
    name: str
    components: tuple[str, ...]
    needs: tuple[str, ...]
    description: str


PHASES: tuple[Phase, ...] = (
    Phase(1, "pretrain", ("graph_vae", "datacube", "spectra", "causal"), (),
          "component pre-training, independent and in parallel"),
    Phase(2, "integrate", ("fusion",), ("pretrain",), "multimodal fusion over the phase-1 encoders"),
    Phase(3, "llm_guided", ("llm",), ("integrate",), "LoRA fine-tuning of a small LLM conditioned on fusion embeddings"),
    Phase(4, "galactic", ("galactic",), ("integrate",), "federated fine-tuning across observatories"),
    Phase(5, "production", ("production",), ("pretrain", "integrate", "llm_guided", "galactic"),
          "export, int8 quantisation, latency/accuracy report, model registry entries"),
)


def phase_by_name(name: str) -> Phase:
    for phase in PHASES:
        if phase.name == name:
            return phase
    raise KeyError(name)


def phase_of_component(component: str) -> Phase:
    for phase in PHASES:
        if component in phase.components:
            return phase
    raise KeyError(component)

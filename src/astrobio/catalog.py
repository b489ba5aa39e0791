"""THE component table: one row per model component, and the five phases they run in.

Why one table: a component's facts (its config class, the module holding its `SPEC`, its phase, what
it reads, which metric names it prints and which one headlines the run summary) used to live in
four files, so forgetting one silently dropped the component from the pipeline. The config schema,
the phase graph, the pipeline, tune, the report and the chart all read them from here, and
`tests/test_catalog.py` proves they agree with each `SPEC`.

Torch-free on purpose (an import-linter contract checks it): the CLI, the KFP launcher pod and the
renderers import this table. A row names its config class (a pydantic leaf,
`components/<name>/config.py`) and metric rule (`components/<name>/metrics.py`) directly, the one
place a lower layer names component modules; `SPEC` imports torch, so it is loaded only by
`get_spec`, by module name.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from astrobio.components.causal.config import CausalConfig
from astrobio.components.causal.metrics import metric_names as causal_metrics
from astrobio.components.datacube.config import DatacubeConfig
from astrobio.components.fusion.config import FusionConfig
from astrobio.components.fusion.metrics import metric_names as fusion_metrics
from astrobio.components.galactic.config import GalacticConfig
from astrobio.components.graph_vae.config import GraphVAEConfig
from astrobio.components.graph_vae.metrics import metric_names as graph_vae_metrics
from astrobio.components.llm.config import LLMConfig
from astrobio.components.spectra.config import SpectraConfig
from astrobio.errors import UsageError

if TYPE_CHECKING:
    from pydantic import BaseModel

    from astrobio.spec import ComponentSpec


@dataclass(frozen=True)
class Phase:
    """One phase of the graph. Its components are the catalog rows that name it, in table order,
    plus `steps` that are not trained components (phase 5's `production`)."""

    number: int
    name: str
    needs: tuple[str, ...]
    description: str
    steps: tuple[str, ...] = ()

    @property
    def components(self) -> tuple[str, ...]:
        return tuple(row.name for row in COMPONENTS if row.phase == self.name) + self.steps


@dataclass(frozen=True)
class Component:
    """One row: everything the rest of the package may know about a component without importing it.

    - `metrics`: the names `evaluate` prints, a pure function of the component's config section
      (Katib and Optuna check an objective against them before spending GPU hours); None when only
      a finished trial can tell.
    - `headline`: its main metric(s) without the split, and whether higher is better; the run
      summary shows the first one the artifact reports.
    - `image` and `description`: its container image (without registry or tag) and one line on what
      it is and what it is judged against; `astrobio components` prints them without loading SPEC
      (which imports torch), and SPEC takes them from here.
    - `supports_ddp`: whether its training runs as several ranks; the job renderers size the job
      from it without loading SPEC (False: causal's NOTEARS, galactic's clients simulated in one
      process, whose averaging is its on_step_end hook).
    - `figure`: "module:function" of its run-report figure (SPEC.figure, which must need no model),
      so a pipeline step draws it without loading SPEC: SPEC imports the model library (diffusers,
      torch_geometric, peft), which cost a reused step more CPU than the figure (#19 item 5).
    """

    name: str
    config_cls: type[BaseModel]
    spec_module: str
    phase: str
    headline: tuple[tuple[str, str], ...]
    upstream: tuple[str, ...] = ()
    metrics: Callable[[Any], set[str]] | None = field(default=None, compare=False)
    image: str = field(kw_only=True)
    description: str = field(kw_only=True)
    supports_ddp: bool = field(default=True, kw_only=True)
    figure: str | None = field(default=None, kw_only=True)


PHASES: tuple[Phase, ...] = (
    Phase(1, "pretrain", (), "component pre-training, independent and in parallel"),
    Phase(2, "integrate", ("pretrain",), "multimodal fusion over the phase-1 encoders"),
    Phase(3, "llm_guided", ("integrate",), "LoRA fine-tuning of a small LLM conditioned on fusion embeddings"),
    Phase(4, "galactic", ("integrate",), "federated fine-tuning across observatories"),
    Phase(5, "production", ("pretrain", "integrate", "llm_guided", "galactic"),
          "export, int8 quantisation, latency/accuracy report, model registry entries", steps=("production",)),
)
"""Phase 1's components are independent (they run in parallel); every later phase consumes the
artifacts of the phases it `needs`. The local runner and the KFP pipeline both read this."""

_PRETRAINED = ("graph_vae", "datacube", "spectra", "causal")

COMPONENTS: tuple[Component, ...] = (
    Component("graph_vae", GraphVAEConfig, "astrobio.components.graph_vae.task", "pretrain",
              (("auc", "max"), ("ap", "max")), metrics=graph_vae_metrics,
              image="astrobio/graph-vae", figure="astrobio.components.graph_vae.figure:draw",
              description="variational graph auto-encoder over cobra metabolic networks; held-out link "
                          "prediction AUC/AP vs common neighbours, Adamic-Adar and L3"),
    Component("datacube", DatacubeConfig, "astrobio.components.datacube.task", "pretrain", (("rmse", "min"),),
              image="astrobio/datacube", figure="astrobio.components.datacube.figure:draw",
              description="CNN-ViT hybrid surrogate of clero's exoplanet climate fields (planet parameters -> "
                          "32x64 maps); held-out RMSE vs nearest-neighbour and linear baselines"),
    Component("spectra", SpectraConfig, "astrobio.components.spectra.task", "pretrain", (("rmse", "min"),),
              image="astrobio/spectra", figure="astrobio.components.spectra.figure:draw",
              description="conditional diffusion (diffusers UNet1D, DDPM training, DDIM sampling) over lazuli-exo "
                          "transmission spectra given (T, [M/H], C/O); judged against k-NN interpolation of the training set"),
    Component("causal", CausalConfig, "astrobio.components.causal.task", "pretrain",
              (("shd", "min"), ("cf_rmse", "min"), ("nll", "min")), metrics=causal_metrics, supports_ddp=False,
              image="astrobio/causal", figure="astrobio.components.causal.figure:draw",
              description="NOTEARS causal world model (linear or MLP SEM) with physics priors and counterfactuals; "
                          "judged by SHD/precision/recall vs PC and the empty graph, and counterfactual RMSE on a planetary SCM"),
    Component("fusion", FusionConfig, "astrobio.components.fusion.task", "integrate",
              (("accuracy", "max"),), upstream=_PRETRAINED, metrics=fusion_metrics,
              image="astrobio/fusion", figure="astrobio.components.fusion.figure:draw",
              description="late fusion of climate (clero), transmission spectrum (lazuli-exo), planetary-SCM and metabolic-"
                          "network modalities into one planet embedding; four-class habitability / CH4-detectability "
                          "accuracy vs the best single modality and the majority class"),
    Component("galactic", GalacticConfig, "astrobio.components.galactic.task", "galactic",
              (("accuracy", "max"),), upstream=("fusion",), supports_ddp=False,
              image="astrobio/galactic", figure="astrobio.components.galactic.figure:draw",
              description="federated training (FedAvg / FedProx, simulated observatories in one process) of the fusion "
                          "model over non-IID observatory shards; accuracy vs local-only and centralised training, "
                          "bytes communicated per round"),
    Component("llm", LLMConfig, "astrobio.components.llm.task", "llm_guided",
              (("ppl", "min"), ("num_acc", "max")), upstream=("fusion",),
              image="astrobio/llm", figure="astrobio.components.llm.figure:draw",
              description="small instruction LLM (SmolLM2-135M-Instruct) with LoRA, conditioned on fusion planet embeddings "
                          "(a soft-prompt projector, or a readout prompt); judged by held-out perplexity and numeric-answer accuracy vs the base model"),
)
"""Rows in phase order, phase 1 as the runs and manifests have always listed it; also the order of
the `components:` config sections (hence of every written config.yaml)."""

_BY_NAME: dict[str, Component] = {row.name: row for row in COMPONENTS}


def component_names() -> list[str]:
    """Registered component names, sorted."""
    return sorted(_BY_NAME)


def component(name: str) -> Component:
    """The row of `name`; unknown names are a usage error with a suggestion."""
    row = _BY_NAME.get(name)
    if row is None:
        close = difflib.get_close_matches(name, component_names(), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise UsageError(f"unknown component '{name}'{hint}; expected one of: {', '.join(component_names())}")
    return row


def get_spec(name: str) -> ComponentSpec:
    """Import and return the `SPEC` of `name` (this imports torch), checked against its row so a
    SPEC that disagrees with the table fails here rather than deep in a run."""
    row = component(name)
    spec = importlib.import_module(row.spec_module).SPEC
    if getattr(spec, "name", None) != name:
        raise RuntimeError(f"{row.spec_module}.SPEC is not the ComponentSpec of '{name}'")
    own = (spec.phase, tuple(spec.upstream), spec.config_cls, spec.image, spec.description, spec.supports_ddp,
           spec.figure)
    facts = (row.phase, row.upstream, row.config_cls, row.image, row.description, row.supports_ddp,
             get_figure(name))
    if own != facts:
        raise RuntimeError(f"{row.spec_module}.SPEC (phase, upstream, config_cls, image, description, supports_ddp, "
                           f"figure) = {own} disagrees with the catalog row {facts}")
    return spec


def get_figure(name: str) -> Callable[[Any], Any] | None:
    """Import and return the figure hook the row of `name` names (None when it has none), without
    loading SPEC: the figure module imports no model library."""
    path = component(name).figure
    if path is None:
        return None
    module, _, function = path.partition(":")
    return getattr(importlib.import_module(module), function)


def figure_module(name: str) -> str | None:
    """The module of the figure hook the row of `name` names (None when it has none): what a step
    may import ahead of drawing (`astrobio.pipeline.meanwhile`), without importing it here."""
    path = component(name).figure
    return None if path is None else path.partition(":")[0]


def phase_of_component(name: str) -> Phase:
    """The phase a component (or phase 5's `production` step) runs in."""
    for phase in PHASES:
        if name in phase.components:
            return phase
    raise KeyError(name)

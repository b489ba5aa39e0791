"""Config of the `causal` component: which data, which DAG learner, which physics priors.

Imports only pydantic (and the shared config sections) so that validating a config file never pays
for torch, numpy, cdt or pgmpy. Whether a CSV exists, or a prior names a real variable, is checked
when the data loads: only then are the variable names known.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from astrobio.sections import ComponentConfig, Strict

BUNDLED_SOURCES: tuple[str, ...] = ("sachs", "planetary_scm")
PGMPY_PREFIX = "pgmpy:"


class CausalDataConfig(Strict):
    """Where the observations (and, when known, the true graph) come from, and how they are split."""

    source: str = Field(
        "planetary_scm",
        description="planetary_scm (simulated, known interventions/counterfactuals) | sachs (cdt's "
                    "protein-signalling data + consensus graph) | pgmpy:<example model> | path to a .csv "
                    "whose header names the variables",
    )
    graph: str | None = Field(None, description="CSV edge list (cause,effect per line) of the true graph of a .csv source")
    n_samples: int = Field(2000, ge=20, le=10_000_000, description="rows simulated for planetary_scm and pgmpy sources")
    nonlinear: bool = Field(False, description="planetary_scm: radiative (T ~ flux^1/4) and sigmoid water mechanisms")
    noise_scale: float = Field(1.0, gt=0, le=100, description="planetary_scm: multiplies every noise standard deviation")
    data_seed: int = Field(0, ge=0, le=2**31 - 1, description="seeds simulation (planetary_scm, pgmpy)")
    transform: Literal["none", "log"] = Field("none", description="log: natural log of every column (all values must be > 0)")
    standardize: bool = Field(True, description="unit variance per column (false: only centred); training-split statistics")
    val_frac: float = Field(0.1, gt=0, lt=0.5)
    test_frac: float = Field(0.1, gt=0, lt=0.5)
    split_seed: int = Field(0, ge=0, le=2**31 - 1, description="seeds the row split and minibatch order")
    batch_size: int | None = Field(None, ge=2, le=10_000_000, description="None = full batch (NOTEARS' setting)")

    @field_validator("source")
    @classmethod
    def _known_source(cls, source: str) -> str:
        """Reject what can never load; a .csv path's existence is checked when the data loads."""
        if source in BUNDLED_SOURCES or source.lower().endswith((".csv", ".tsv")):
            return source
        if source.startswith(PGMPY_PREFIX) and len(source) > len(PGMPY_PREFIX):
            return source
        raise ValueError(f"'{source}' is not one of {', '.join(BUNDLED_SOURCES)}, pgmpy:<name> or a .csv path")


def _edge(value: Any) -> Any:
    """Accept 'a->b' (handy with --set) as well as [a, b]."""
    if isinstance(value, str) and "->" in value:
        cause, effect = (part.strip() for part in value.split("->", 1))
        return (cause, effect)
    return value


class CausalPriorConfig(Strict):
    """Physics priors as hard structure constraints, by variable name.

    Forbidden edges, edges into an exogenous variable and edges from a later tier into an earlier one
    are masked out of the weights, so they can never appear. A required edge is exempt from the l1 penalty, always kept when the graph is read,
    and its reverse is masked (a required a->b rules out b->a).
    """

    required_edges: list[tuple[str, str]] = Field(default_factory=list, max_length=10_000)
    forbidden_edges: list[tuple[str, str]] = Field(default_factory=list, max_length=100_000)
    exogenous: list[str] = Field(default_factory=list, max_length=10_000,
                                 description="variables with no parents, e.g. stellar_flux")
    tiers: list[list[str]] = Field(default_factory=list, max_length=1000,
                                   description="causal layers, earliest first (star/geology, atmosphere, climate, "
                                               "hydrosphere, biosphere): no edge may point to an earlier tier")

    @field_validator("required_edges", "forbidden_edges", mode="before")
    @classmethod
    def _arrows(cls, edges: Any) -> Any:
        return [_edge(e) for e in edges] if isinstance(edges, list) else edges


class CausalModelConfig(Strict):
    """NOTEARS: least squares + l1 + augmented Lagrangian on h(W) = tr(exp(W∘W)) - d."""

    kind: Literal["linear", "mlp"] = Field("linear", description="linear SEM weights W, or per-variable MLPs (NOTEARS-MLP)")
    hidden: int = Field(10, ge=1, le=4096, description="mlp: hidden units per variable")
    lambda1: float = Field(0.01, ge=0, le=100, description="l1 weight on W (linear) or first-layer weights (mlp)")
    lambda2: float = Field(0.0, ge=0, le=100, description="mlp: l2 weight on all MLP weights")
    w_threshold: float = Field(0.3, ge=0, description="edges with |W_ij| (mlp: first-layer norm) below this are dropped")
    dual_every: int = Field(100, ge=1, le=10_000_000, description="training forward calls between dual (rho/alpha) updates")
    h_progress: float = Field(0.25, gt=0, lt=1, description="rho grows when h did not fall below this fraction of its last value")
    rho_init: float = Field(1.0, gt=0)
    rho_mult: float = Field(10.0, gt=1)
    rho_max: float = Field(1e16, gt=0)
    h_floor: float = Field(0.05, ge=0, description="weights below this (optimizer jitter) do not count in h; keep < w_threshold")
    h_tol: float = Field(1e-8, gt=0, description="below this h the duals freeze: the graph is acyclic")


class CausalEvalConfig(Strict):
    """Counterfactual queries and the PC baseline."""

    cf_targets: list[str] | None = Field(None, description="variables set by do(); None = the SCM's drivers "
                                                            "(stellar_flux, surface_temperature)")
    cf_delta: float = Field(1.0, description="do(X = x_factual + delta), delta in standard deviations")
    cf_max_samples: int = Field(500, ge=1, le=1_000_000, description="held-out rows used for counterfactuals")
    pc_alpha: float = Field(0.05, gt=0, lt=1, description="Fisher-z test level of the PC baseline (0.05: its standard level)")
    pc_max_cond: int | None = Field(3, ge=0, le=100, description="largest conditioning set of PC; None = unlimited")


class CausalConfig(ComponentConfig):
    """The `components.causal` section."""

    data: CausalDataConfig = CausalDataConfig()
    model: CausalModelConfig = CausalModelConfig()
    priors: CausalPriorConfig = CausalPriorConfig()
    eval: CausalEvalConfig = CausalEvalConfig()

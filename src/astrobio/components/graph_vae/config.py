"""Config of the `graph_vae` component: which metabolic networks, which graph, which model.

Imports only pydantic (and the shared config sections) so that loading or validating a config file
never pays for torch, torch-geometric or cobra.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from astrobio.sections import ComponentConfig, Strict

# cobra's bundled SBML files, by the name a config uses (file names live in data.py).
BUNDLED_MODELS: tuple[str, ...] = ("textbook", "iJO1366", "salmonella")
SBML_SUFFIXES: tuple[str, ...] = (".xml", ".xml.gz", ".sbml")

# Cofactors and small inorganics that take part in hundreds of reactions. Left in, they connect
# almost every metabolite to almost every other within two hops, so link prediction degenerates into
# "is a hub involved". Matched on the BiGG id without its compartment suffix (atp_c -> atp).
DEFAULT_CURRENCY: tuple[str, ...] = (
    "h2o", "h", "atp", "adp", "amp", "gtp", "gdp", "nad", "nadh", "nadp", "nadph", "pi", "ppi",
    "co2", "o2", "nh4", "coa", "h2o2", "fad", "fadh2", "q8", "q8h2",
)


class GraphVAEDataConfig(Strict):
    """Where the networks come from, how they become a graph, and how edges are held out."""

    sources: list[str] = Field(
        default_factory=lambda: ["iJO1366"], min_length=1, max_length=64,
        description="bundled model names (textbook | iJO1366 | salmonella) or paths to SBML files "
                    "(.xml, .xml.gz, .sbml); several sources become one disjoint-union graph",
    )
    graph: Literal["metabolite", "bipartite"] = Field(
        "metabolite",
        description="metabolite: substrate-product links per reaction (undirected); "
                    "bipartite: metabolite-reaction links",
    )
    drop_currency: bool = Field(True, description="remove currency metabolites (see `currency`) before building the graph")
    currency: list[str] = Field(
        default_factory=lambda: list(DEFAULT_CURRENCY), max_length=1000,
        description="BiGG ids without compartment suffix treated as currency metabolites",
    )
    features: Literal["chemistry", "identity"] = Field(
        "chemistry",
        description="chemistry: formula element counts, compartment, charge, training degree; "
                    "identity: one-hot node id (transductive only)",
    )
    val_frac: float = Field(0.05, gt=0, lt=0.5, description="fraction of edges held out for validation")
    test_frac: float = Field(0.1, gt=0, lt=0.5, description="fraction of edges held out for test")
    split_seed: int = Field(0, ge=0, le=2**31 - 1, description="seeds the held-out split and training negatives")
    neg_ratio: float = Field(1.0, gt=0, le=100, description="training negatives sampled per positive edge, fresh each epoch")

    @field_validator("sources")
    @classmethod
    def _known_or_sbml_path(cls, sources: list[str]) -> list[str]:
        """A name must be bundled or look like an SBML file; existence is checked when data loads,
        so configs can be validated (and manifests rendered) on machines without the files."""
        for source in sources:
            if source in BUNDLED_MODELS:
                continue
            if not source.lower().endswith(SBML_SUFFIXES):
                raise ValueError(
                    f"'{source}' is neither a bundled model ({' | '.join(BUNDLED_MODELS)}) "
                    f"nor an SBML file path ({', '.join(SBML_SUFFIXES)})"
                )
        if len(set(sources)) != len(sources):
            raise ValueError("the same source is listed twice")
        return sources

    @model_validator(mode="after")
    def _room_for_training(self) -> GraphVAEDataConfig:
        if self.val_frac + self.test_frac >= 0.8:
            raise ValueError(f"val_frac + test_frac = {self.val_frac + self.test_frac:g} leaves too few training edges; keep it below 0.8")
        return self


class GraphVAEModelConfig(Strict):
    """Encoder stack producing mu/logstd, and the edge decoder.

    Defaults are the measured best on held-out iJO1366/salmonella links (GCN + inner product,
    chemistry features): SAGE and TransformerConv trailed by 0.03-0.05 AUC at equal steps.
    """

    encoder: Literal["gcn", "sage", "transformer"] = Field(
        "gcn", description="message-passing layer: GCNConv, SAGEConv or TransformerConv (graph transformer)",
    )
    hidden_dim: int = Field(128, ge=1, le=8192)
    latent_dim: int = Field(64, ge=1, le=4096)
    num_layers: int = Field(2, ge=1, le=16, description="message-passing layers, the mu/logstd layer included")
    heads: int = Field(4, ge=1, le=64, description="attention heads (transformer only); must divide hidden_dim")
    dropout: float = Field(0.0, ge=0, lt=1)
    decoder: Literal["inner", "mlp"] = Field("inner", description="inner: z_u . z_v; mlp: MLP(z_u * z_v), which a bipartite graph needs")

    @model_validator(mode="after")
    def _heads_divide_hidden(self) -> GraphVAEModelConfig:
        if self.encoder == "transformer" and self.hidden_dim % self.heads != 0:
            raise ValueError(f"hidden_dim={self.hidden_dim} is not divisible by heads={self.heads}")
        return self


class GraphVAEConfig(ComponentConfig):
    """`components.graph_vae`: variational graph auto-encoder over metabolic networks."""

    data: GraphVAEDataConfig = GraphVAEDataConfig()
    model: GraphVAEModelConfig = GraphVAEModelConfig()

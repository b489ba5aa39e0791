"""The root of the config tree: one pydantic model for a whole astrobio run.

Top-level `trainer`/`optim` are defaults; `components.<name>.trainer|optim` override them per
component (the loader merges the two before validation, see `load.py`).
"""

from __future__ import annotations

from pydantic import Field

from astrobio.components.causal.config import CausalConfig
from astrobio.components.datacube.config import DatacubeConfig
from astrobio.components.fusion.config import FusionConfig
from astrobio.components.galactic.config import GalacticConfig
from astrobio.components.spectra.config import SpectraConfig
from astrobio.components.graph_vae.config import GraphVAEConfig
from astrobio.components.llm.config import LLMConfig
from astrobio.config.sections import ComponentConfig, OptimConfig, Strict, TrainerConfig
from astrobio.config.kube import KubeSection
from astrobio.config.tune import TuneSection

SAFE_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"


class RunSection(Strict):
    """Identity and seed of a run; `run_id` names its folder in the artifact store."""

    name: str = Field("astrobio", pattern=SAFE_NAME)
    run_id: str | None = Field(None, pattern=SAFE_NAME, description="default: run.name")
    seed: int = Field(0, ge=0, le=2**31 - 1)
    output_root: str = Field("outputs", min_length=1, description="local working folder for checkpoints and logs")

    @property
    def effective_run_id(self) -> str:
        return self.run_id or self.name


class StoreSection(Strict):
    """Where finished artifacts go: a local folder or s3://bucket/prefix (endpoint and keys come
    from the environment, never from this file)."""

    uri: str = Field("artifacts", min_length=1)


class ComponentsSection(Strict):
    """One section per registered component."""

    graph_vae: GraphVAEConfig = GraphVAEConfig()
    causal: CausalConfig = CausalConfig()
    datacube: DatacubeConfig = DatacubeConfig()
    spectra: SpectraConfig = SpectraConfig()
    fusion: FusionConfig = FusionConfig()
    galactic: GalacticConfig = GalacticConfig()
    llm: LLMConfig = LLMConfig()


class AstrobioConfig(Strict):
    """A whole run's configuration, as resolved from YAML + `--set` overrides."""

    run: RunSection = RunSection()
    store: StoreSection = StoreSection()
    trainer: TrainerConfig = TrainerConfig()
    optim: OptimConfig = OptimConfig()
    components: ComponentsSection = ComponentsSection()
    kube: KubeSection = KubeSection()
    tune: TuneSection | None = None

    def component(self, name: str) -> ComponentConfig:
        """The resolved section of one component (trainer/optim already merged)."""
        return getattr(self.components, name)


COMPONENT_FIELDS: tuple[str, ...] = tuple(ComponentsSection.model_fields)

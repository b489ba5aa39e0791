"""The root of the config tree: one pydantic model for a whole astrobio run.

Top-level `trainer`/`optim` are defaults; `components.<name>.trainer|optim` override them per
component (the loader merges the two before validation, see `load.py`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, Field, create_model

from astrobio.catalog import COMPONENTS, component_names
from astrobio.config.kube import KubeSection
from astrobio.sections import ComponentConfig, OptimConfig, Strict, TrainerConfig
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

    @property
    def folder(self) -> Path:
        """`<output_root>/<run_id>`: the run's local folder. One expression, because the steps of a
        local `astrobio run` find what the run made there (its drawings folder) by building it again."""
        return Path(self.output_root) / self.effective_run_id


class StoreSection(Strict):
    """Where finished artifacts go: a local folder or s3://bucket/prefix (endpoint and keys come
    from the environment, never from this file)."""

    uri: str = Field("artifacts", min_length=1)


ComponentsSection: type[Strict] = create_model(
    "ComponentsSection",
    __base__=Strict,
    __doc__="One section per catalog component (`astrobio.catalog.COMPONENTS`), in table order.",
    **{row.name: (row.config_cls, row.config_cls()) for row in COMPONENTS},
)


def _known_images(kube: KubeSection) -> KubeSection:
    """`kube.image_digests` keys name an image: the base or a catalog component (checked here, not in
    the kube section, so the config sections never import the catalog above them)."""
    known = {"base", *component_names()}
    for name in kube.image_digests:
        if name not in known:
            raise ValueError(f"image_digests: '{name}' is not an image; expected one of {sorted(known)}")
    return kube


class AstrobioConfig(Strict):
    """A whole run's configuration, as resolved from YAML + `--set` overrides."""

    run: RunSection = RunSection()
    store: StoreSection = StoreSection()
    trainer: TrainerConfig = TrainerConfig()
    optim: OptimConfig = OptimConfig()
    components: ComponentsSection = ComponentsSection()  # type: ignore[valid-type]
    kube: Annotated[KubeSection, AfterValidator(_known_images)] = KubeSection()
    tune: TuneSection | None = None

    def component(self, name: str) -> ComponentConfig:
        """The resolved section of one component (trainer/optim already merged)."""
        return getattr(self.components, name)


COMPONENT_FIELDS: tuple[str, ...] = tuple(ComponentsSection.model_fields)

"""Give a downstream component the artifacts it reads, fetched from the store.

Phase N trains on exactly what phase N-1 published: each upstream artifact is taken from
`runs/<run_id>/<phase>/<component>/` only if its COMPLETE marker is there, copied locally with its
checksums verified, and its folder recorded in the component's `inputs`.
"""

from __future__ import annotations

from pathlib import Path

from astrobio.sections import ComponentConfig
from astrobio.errors import UsageError
from astrobio.catalog import phase_of_component
from astrobio.spec import ComponentSpec
from astrobio.store import ArtifactStore, artifact_prefix, fetch_dir, is_complete


def resolve_inputs(section: ComponentConfig, spec: ComponentSpec, store: ArtifactStore, run_id: str,
                   workdir: Path) -> ComponentConfig:
    """A copy of `section` whose `inputs` name a local, verified folder for every upstream component."""
    if not spec.upstream:
        return section
    given: dict[str, str] = dict(getattr(section, "inputs", {}))
    for name in spec.upstream:
        if name in given:
            if not (Path(given[name]) / "model_card.json").is_file():
                raise UsageError(f"components.{spec.name}.inputs.{name}: {given[name]} is not an artifact folder "
                                 f"(expected model_card.json inside)")
            continue
        prefix = artifact_prefix(run_id, phase_of_component(name).name, name)
        if not is_complete(store, prefix):
            raise UsageError(f"{spec.name} needs the '{name}' artifact at {store.uri.rstrip('/')}/{prefix}, which is "
                             f"missing or incomplete: train it first (astrobio train -c {name}) or set "
                             f"components.{spec.name}.inputs.{name}=PATH")
        local = workdir / "inputs" / name
        fetch_dir(store, prefix, local)
        given[name] = str(local)
    return section.model_copy(update={"inputs": given})

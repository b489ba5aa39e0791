"""`manifests/`: a PyTorchJob per component, the Katib Experiments in `manifests/katib/`, the
Secret example and the README that gives the apply order (`astrobio render manifests`)."""

from __future__ import annotations

from pathlib import Path

from astrobio.config import AstrobioConfig
from astrobio.kube.render.manifests import FOLDER, KATIB_FOLDER, render_job_files, render_readme
from astrobio.kube.render.yamlio import write_files
from astrobio.kube.validate import validate_object
from astrobio.tune.manifests import render_tuning_manifest_files, tuning_root as default_tuning_root


def render_manifest_files(cfg: AstrobioConfig, source: str = "configs/default.yaml",
                          tuning_root: Path | None = None) -> dict[str, str]:
    """`manifests/<file>` -> text for every registered component, the Katib Experiments of the
    tuning configs under `tuning_root` (default: this checkout) for the same cluster settings,
    the Secret example and README. Each object is validated first."""
    files, jobs = render_job_files(cfg, source)
    for job in jobs.values():
        validate_object(job, require_schema=False)
    experiments = render_tuning_manifest_files(tuning_root or default_tuning_root(None), cfg.kube)
    files.update(experiments)
    files[f"{FOLDER}/README.md"] = render_readme(cfg, source, jobs, sorted(p.split("/", 2)[2] for p in experiments))
    return files


def render_manifests(cfg: AstrobioConfig, root: Path, source: str = "configs/default.yaml",
                     tuning_root: Path | None = None) -> list[Path]:
    """Write the manifests under `root/manifests/` (Experiments under `manifests/katib/`), removing
    YAML files no longer rendered (a component no longer registered, a tuning config removed);
    returns the paths written, sorted."""
    files = render_manifest_files(cfg, source, tuning_root)
    folder = Path(root) / FOLDER
    for stale in [*folder.glob("*.yaml"), *(Path(root) / KATIB_FOLDER).glob("*.yaml")]:
        if stale.relative_to(root).as_posix() not in files:
            stale.unlink()
    return write_files(root, files)

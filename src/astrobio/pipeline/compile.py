"""Compile the pipeline and its components to YAML (submitting a run: `pipeline/submit.py`).

`render_pipeline` is what `astrobio render` writes to `pipelines/` and `components/`; a test renders
again and compares byte for byte. The KFP 2.13 compiler output is already deterministic (no
timestamps; the only version stamp is `sdkVersion: kfp-2.13.0`, pinned in constraints.txt), so
nothing is normalised: the files are exactly what `kfp.compiler.Compiler` writes.
"""

from __future__ import annotations

from pathlib import Path

from astrobio.config import AstrobioConfig

PIPELINES_DIR = "pipelines"
COMPONENTS_DIR = "components"


def pipeline_file(root: Path) -> Path:
    from astrobio.pipeline.kfp_pipeline import PIPELINE_NAME

    return Path(root) / PIPELINES_DIR / f"{PIPELINE_NAME}.yaml"


def render_pipeline(cfg: AstrobioConfig, root: Path) -> list[Path]:
    """Write `root/pipelines/astrobio-five-phase.yaml` and `root/components/<step>.yaml`; return the paths.

    Components are compiled one by one with the same image as the pipeline, so each file can be
    loaded in the KFP UI or with `kfp.components.load_component_from_file` on its own.
    """
    from kfp import compiler

    from astrobio.pipeline.kfp_components import build_components, launcher_image
    from astrobio.pipeline.kfp_pipeline import build_pipeline

    target = pipeline_file(root)
    target.parent.mkdir(parents=True, exist_ok=True)
    compiler.Compiler().compile(build_pipeline(cfg), str(target))
    written = [target]
    components_dir = Path(root) / COMPONENTS_DIR
    components_dir.mkdir(parents=True, exist_ok=True)
    for component in build_components(launcher_image(cfg.kube)).values():
        path = components_dir / f"{component.name}.yaml"
        compiler.Compiler().compile(component, str(path))
        written.append(path)
    return written

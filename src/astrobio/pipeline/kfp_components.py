"""KFP v2 components of the five-phase pipeline: thin shims around `astrobio.pipeline.*`.

KFP embeds a lightweight component's source in the compiled YAML and runs it in `base_image`, so
the shims only import astrobio (already in the image) and delegate; the logic lives in
`launcher.py` / `production.py`, tested without KFP. `install_kfp_package=False` and no
`packages_to_install`: nothing is pip-installed when a step starts, so the image must already hold
`kfp` (for the executor) and `kubeflow-training` (for the launcher) next to astrobio.

Every PHASES component gets its own named component (`train-graph-vae`, ..., `production`), so the
KFP UI, the compiled DAG and `components/<name>.yaml` read like the five-phase table.

No `from __future__ import annotations` here: KFP reads the shims' annotations as real types.
"""

import dataclasses
from typing import TYPE_CHECKING, NamedTuple

from kfp import dsl
from kfp.dsl import HTML, Metrics, Output
from kfp.dsl.python_component import PythonComponent

if TYPE_CHECKING:
    from astrobio.config.kube import KubeSection

DEFAULT_BASE_IMAGE = "ghcr.io/astrobio/base:0.1.0"
"""`astrobio.kube.render.images.base_ref` of the default `kube:` section (a test keeps the two equal); a
literal here so importing this module does not import the renderers."""
PRODUCTION = "production"


def train_step(component: str, run_id: str, config_yaml: str, store_uri: str, mode: str, upstream: str,
               metrics: Output[Metrics], report: Output[HTML]) -> NamedTuple("Outputs", [("artifact_uri", str)]):
    """Train one astrobio component: kubeflow mode creates its PyTorchJob and waits, local mode runs astrobio train.

    Args:
        component: Registered component name, e.g. graph_vae.
        run_id: Run id; artifacts go to runs/<run_id>/<phase>/<component> in the store.
        config_yaml: The resolved astrobio config as YAML.
        store_uri: Artifact store URI (s3://bucket/prefix in a cluster).
        mode: kubeflow (PyTorchJob) or local (subprocess).
        upstream: JSON object component -> artifact URI of every artifact this step reads.
        metrics: Held-out metrics and baselines read back from the artifact.
        report: HTML table of metrics vs baselines.
    """
    import collections
    import os

    from astrobio.errors import AstrobioError
    from astrobio.pipeline.launcher import report_failure_and_exit, run_train_step
    from astrobio.pipeline.step_exit import exit_fast_after_return

    try:
        result = run_train_step(component=component, run_id=run_id, config_yaml=config_yaml, store_uri=store_uri,
                                mode=mode, upstream=upstream, env=os.environ, import_meanwhile=True)
    except AstrobioError as exc:
        report_failure_and_exit(exc)
    from astrobio.pipeline.report import log_metrics, step_page

    log_metrics(metrics, result.metrics)
    with open(report.path, "w", encoding="utf-8") as handle:
        handle.write(step_page(result, os.environ))
    exit_fast_after_return()  # KFP writes the outputs after the return; then no interpreter teardown
    return collections.namedtuple("Outputs", ["artifact_uri"])(result.artifact_uri)


def production_step(run_id: str, config_yaml: str, store_uri: str, mode: str, upstream: str,
                    metrics: Output[Metrics], report: Output[HTML]) -> NamedTuple("Outputs", [("artifact_uri", str)]):
    """Phase 5: verify and register every upstream artifact, export it, quantise to int8 and report latency/accuracy.

    Args:
        run_id: Run id; the registry goes to runs/<run_id>/production/production in the store.
        config_yaml: The resolved astrobio config as YAML.
        store_uri: Artifact store URI (s3://bucket/prefix in a cluster).
        mode: kubeflow or local (the step does the same light work in both).
        upstream: JSON object component -> artifact URI of every phase 1-4 artifact.
        metrics: Number of registered artifacts.
        report: HTML report of every registered artifact and its metrics.
    """
    import collections
    import os

    from astrobio.errors import AstrobioError
    from astrobio.pipeline.launcher import report_failure_and_exit
    from astrobio.pipeline.production import run_production_step
    from astrobio.pipeline.report import log_metrics
    from astrobio.pipeline.step_exit import exit_fast_after_return

    try:
        result, page = run_production_step(run_id=run_id, config_yaml=config_yaml, store_uri=store_uri,
                                           mode=mode, upstream=upstream, env=os.environ)
    except AstrobioError as exc:
        report_failure_and_exit(exc)
    log_metrics(metrics, result.metrics)
    with open(report.path, "w", encoding="utf-8") as handle:
        handle.write(page)
    exit_fast_after_return()  # KFP writes the outputs after the return; then no interpreter teardown
    return collections.namedtuple("Outputs", ["artifact_uri"])(result.artifact_uri)


def kfp_component_name(component: str) -> str:
    """KFP name of the step for a PHASES component: `production`, or `train-<name>` with dashes."""
    return PRODUCTION if component == PRODUCTION else "train-" + component.replace("_", "-")


def launcher_image(kube: "KubeSection") -> str:
    """The shared base image every step runs in (`images/base`, the image all component images
    are built FROM); it must also hold kfp and kubeflow-training, see the module docstring."""
    from astrobio.kube.render.images import base_ref

    return base_ref(kube)


def make_component(component: str, base_image: str = DEFAULT_BASE_IMAGE) -> PythonComponent:
    """The KFP component for one PHASES component, named and described after it."""
    from astrobio.catalog import phase_of_component

    func = production_step if component == PRODUCTION else train_step
    base = dsl.component(func, base_image=base_image, install_kfp_package=False)
    phase = phase_of_component(component)
    what = "register and report" if component == PRODUCTION else f"train {component}"
    spec = dataclasses.replace(base.component_spec, name=kfp_component_name(component),
                               description=f"Phase {phase.number} ({phase.name}): {what}. {base.component_spec.description}")
    return PythonComponent(component_spec=spec, python_func=func)


def build_components(base_image: str = DEFAULT_BASE_IMAGE) -> dict[str, PythonComponent]:
    """Every step of the five-phase graph, keyed by PHASES component name, in PHASES order."""
    from astrobio.catalog import PHASES

    return {name: make_component(name, base_image) for phase in PHASES for name in phase.components}


train_component = dsl.component(train_step, base_image=DEFAULT_BASE_IMAGE, install_kfp_package=False)
"""The generic launcher with the default image (any component name); the pipeline uses named copies."""
production_component = dsl.component(production_step, base_image=DEFAULT_BASE_IMAGE, install_kfp_package=False)

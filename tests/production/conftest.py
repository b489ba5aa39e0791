"""Small real artifacts for the production tests, trained once per session through the trainer.

graph_vae on the bundled textbook (e_coli_core) network for 4 steps and causal on a 300-row
planetary SCM for 20 steps: seconds each, yet real config.yaml + model.safetensors + metrics +
model card, published with COMPLETE last exactly as `astrobio train` does.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

import astrobio.config  # noqa: F401 - first: importing astrobio.config.kube first is a circular import
from astrobio.config import config_hash, load_config
from astrobio.catalog import PHASES, phase_of_component
from astrobio.store import ArtifactStore, artifact_prefix, open_store, publish_dir

RUN_ID = "prod"
OVERRIDES = {
    # SAGE + MLP decoder (not the GCN + inner-product default): more nn.Linear and PyG Linear layers
    # for the int8 path to swap. Component-level trainer keys: smoke.yaml's graph_vae section sets its own.
    "graph_vae": ["components.graph_vae.data.sources=[textbook]", "components.graph_vae.trainer.max_steps=4",
                  "components.graph_vae.trainer.eval_every=4", "components.graph_vae.trainer.early_stopping.metric=null",
                  "components.graph_vae.trainer.checkpoint.every=4", "components.graph_vae.model.encoder=sage",
                  "components.graph_vae.model.decoder=mlp",
                  "components.graph_vae.model.hidden_dim=32", "components.graph_vae.model.latent_dim=16"],
    "causal": ["components.causal.trainer.max_steps=20", "components.causal.trainer.eval_every=20",
               "components.causal.trainer.checkpoint.every=20", "components.causal.data.n_samples=300"],
}


def train_artifact(name: str, store: ArtifactStore, workdir: Path, run_id: str = RUN_ID) -> str:
    """Train `name` briefly in-process and publish it at runs/<run_id>/pretrain/<name>; its URI."""
    from astrobio.catalog import get_spec
    from astrobio.trainer import StopFlag, TrainingRun, train
    from astrobio.trainer.distributed import DistEnv

    cfg = load_config(Path(__file__).resolve().parents[2] / "configs" / "smoke.yaml",
                      ["trainer.device=cpu", *OVERRIDES[name]])
    spec, section = get_spec(name), cfg.component(name)
    prefix = artifact_prefix(run_id, spec.phase, name)

    def publish(folder: Path) -> str:
        publish_dir(store, folder, prefix)
        return f"{store.uri.rstrip('/')}/{prefix}"

    job = TrainingRun(spec=spec, cfg=section, seed=0, output_dir=workdir / name, run_id=run_id,
                   config_hash=config_hash(section), publish=publish)
    result = train(job, DistEnv.from_env({}), StopFlag())
    assert result.artifact_uri
    return result.artifact_uri


def fake_artifact(store: ArtifactStore, prefix: str, metrics: dict | None = None, extra: dict | None = None) -> str:
    """A weightless artifact (metrics.json + a text file), as the pipeline tests' fake trainer writes."""
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "metrics.json").write_text(json.dumps(metrics or {"test_auc": 0.8, "baseline_cn_test_auc": 0.7}))
        for rel, text in (extra or {"weights.txt": prefix}).items():
            Path(tmp, rel).write_text(text)
        publish_dir(store, Path(tmp), prefix)
    return f"{store.uri.rstrip('/')}/{prefix}"


@pytest.fixture(scope="session")
def trained_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding real graph_vae and causal artifacts of run `prod` (read-only for tests: copy it)."""
    import torch

    root = tmp_path_factory.mktemp("trained")
    store = open_store(str(root / "store"), {})
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models on a shared CPU: more threads only add contention
    try:
        for name in ("graph_vae", "causal"):
            train_artifact(name, store, root / "work")
    finally:
        torch.set_num_threads(threads)
    return root / "store"


def upstream_with_fakes(store_root: Path, run_id: str = RUN_ID) -> dict[str, str]:
    """URIs of every phase 1-4 artifact of `run_id`: the real ones where trained, fakes elsewhere."""
    store = open_store(str(store_root), {})
    out = {}
    for phase in PHASES[:4]:
        for name in phase.components:
            prefix = artifact_prefix(run_id, phase_of_component(name).name, name)
            if not store.exists(prefix + "/COMPLETE"):
                fake_artifact(store, prefix)
            out[name] = f"{store.uri.rstrip('/')}/{prefix}"
    return out

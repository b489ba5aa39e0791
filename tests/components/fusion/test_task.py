"""The fusion task: a step learns, evaluate reports the documented names, the embeddings export,
and phase-1 artifact folders become frozen encoders that travel inside the fusion weights."""

from __future__ import annotations

import json

import torch
from safetensors import safe_open

from astrobio.components.fusion import baselines
from astrobio.components.fusion.data import FusionData, build_data, upstream_from_specs
from astrobio.components.fusion.model import FusionNet
from astrobio.components.fusion.task import EMBEDDINGS_FILE, build_model, embeddings, evaluate, export_artifact, step
from tests.components.fusion.helpers import fake_artifacts, make_cfg


def test_one_step_lowers_the_loss(small_data: FusionData):
    torch.manual_seed(0)
    model = build_model(small_data.cfg, small_data)
    batch = next(iter(small_data.batches(0)))
    before, _ = step(model, batch)
    before.backward()
    with torch.no_grad():
        for p in model.parameters():
            if p.grad is not None:
                p -= 0.05 * p.grad
    after, metrics = step(model, batch)
    assert float(after.detach()) < float(before.detach()) and 0 <= metrics["accuracy"] <= 1


def test_evaluate_reports_model_and_baselines(small_data: FusionData):
    torch.manual_seed(0)
    metrics = evaluate(build_model(small_data.cfg, small_data), small_data, "val")
    expected = {"val_accuracy", "val_loss", "val_wet_accuracy", "val_ch4_accuracy", "baseline_majority_val_accuracy",
                "baseline_best_single_val_accuracy"} | {f"baseline_single_{m}_val_accuracy" for m in
                                                        ("climate", "spectrum", "scm", "network")}
    assert set(metrics) == expected
    assert all(0 <= v <= 1 for k, v in metrics.items() if k != "val_loss")
    single = small_data.memo["single"]
    assert metrics["baseline_best_single_val_accuracy"] == max(v["val"] for v in single.values())


def test_baselines_leave_the_global_rng_alone(small_data: FusionData):
    small_data.memo.pop("single", None)
    torch.manual_seed(5)
    baselines.single_modality(small_data, torch.device("cpu"))
    after = torch.rand(3)
    torch.manual_seed(5)
    assert torch.equal(after, torch.rand(3))


def test_export_writes_the_documented_embeddings_file(small_data: FusionData, tmp_path):
    torch.manual_seed(0)
    model = build_model(small_data.cfg, small_data)
    export_artifact(model, small_data, tmp_path)
    with safe_open(str(tmp_path / EMBEDDINGS_FILE), "pt") as f:
        meta = f.metadata()
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    n = len(small_data.planets)
    assert tensors["params"].shape == (n, 13) and tensors["params"].dtype == torch.float32
    assert tensors["embeddings"].shape == (n, 16) and tensors["embeddings"].dtype == torch.float32
    assert torch.equal(tensors["embeddings"], embeddings(model, small_data))
    names = json.loads(meta["param_names"])
    assert names[:2] == ["T_star", "F_star"] and len(names) == 13
    split = json.loads(meta["split"])
    assert split["train"] + split["val"] + split["test"] == n
    assert int((tensors["split"] == split["codes"]["test"]).sum()) == split["test"]
    assert torch.allclose(tensors["params"][:, 1], torch.from_numpy(small_data.planets.params[:, 1]).float())


def test_phase1_artifacts_become_frozen_encoders(tmp_path, cache):
    cfg = make_cfg(inputs=fake_artifacts(tmp_path))
    data = build_data(cfg, 0, 1, cache)
    assert set(data.describe()["encoder_kind"].values()) == {"frozen datacube_inverse", "frozen spectra_unet",
                                                             "frozen causal_abduction", "frozen graph_vae_table"}
    assert data.stats["network_table"].shape == (4, 4)  # the graph_vae latent width
    assert data.stats["climate_mean"].tolist() == [250.0, 230.0]  # the datacube's own normalisation
    torch.manual_seed(0)
    model = build_model(cfg, data)
    batch = next(iter(data.batches(0)))
    loss, _ = step(model, batch)
    loss.backward()
    frozen = [p for n, p in model.named_parameters() if n.startswith(("extractors.spectrum", "extractors.scm"))]
    assert frozen and all(not p.requires_grad and p.grad is None for p in frozen)
    assert all(p.grad is not None for p in model.proj.parameters())
    # the weights file alone rebuilds the model (what the galactic phase does, without phase-1 folders)
    info = data.describe()
    rebuilt_up = upstream_from_specs(info["layout"], info["encoders"])
    stats = {k: torch.zeros_like(v) for k, v in data.stats.items()}
    rebuilt = FusionNet(rebuilt_up.layout, cfg.model, stats, rebuilt_up.frozen)
    rebuilt.load_state_dict(model.state_dict())
    model.eval(), rebuilt.eval()
    assert torch.equal(model(batch), rebuilt(batch))

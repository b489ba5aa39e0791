"""The readout prompt (`model.prompt: readout`): fitted on training planets, chosen on validation,
written in the LM's own number tokens, saved with the adapter."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from astrobio.components.llm.data import build_data
from astrobio.components.llm.model import build_model
from astrobio.components.llm.readout import PENALTIES, TYPICAL, fit_readout, typical_value
from astrobio.components.llm.task import evaluate
from astrobio.components.llm.text import answer_number, is_close
from tests.components.llm.helpers import make_cfg


def _planets(n: int) -> dict[str, list[int]]:
    order = list(range(n))
    return {"train": order[: n * 3 // 5], "val": order[n * 3 // 5: n * 4 // 5], "test": order[n * 4 // 5:]}


def _linear_world(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Embeddings that are a noisy linear map of the log parameters, as the ridge assumes."""
    rng = np.random.default_rng(seed)
    logs = rng.normal(size=(n, 3)) + np.array([8.0, 0.0, -9.0])
    z = logs @ rng.normal(size=(3, 12)) + 0.01 * rng.normal(size=(n, 12))
    params = np.exp(logs)
    params[:, 1] = -params[:, 1]  # not on a ratio scale: never asked, never read out
    return (z - z[: n * 3 // 5].mean(0)) / z[: n * 3 // 5].std(0), params


def test_the_readout_reads_the_values_far_better_than_a_typical_value() -> None:
    z, params = _linear_world()
    numeric = np.array([True, False, True])
    weights, chosen, val_acc = fit_readout(z, params, numeric, _planets(len(z)), 0.1)
    assert set(chosen) == {0, 2} and all(c in PENALTIES for c in chosen.values()) and not weights[:, 1].any()
    test = _planets(len(z))["test"]
    x = np.concatenate([z[test], np.ones((len(test), 1))], axis=1)
    for j in (0, 2):
        hits = [is_close(float(answer_number(float(np.exp(v)))), float(t), 0.1) for v, t in zip(x @ weights[:, j], params[test, j])]
        typical = np.exp(np.median(np.log(params[_planets(len(z))["train"], j])))
        guess = np.mean(np.abs(typical - params[test, j]) <= 0.1 * params[test, j])
        assert np.mean(hits) > 0.9 and np.mean(hits) > guess + 0.5
    assert val_acc > 0.9


def test_the_fit_never_sees_the_test_planets() -> None:
    z, params = _linear_world()
    numeric = np.array([True, False, True])
    split = _planets(len(z))
    changed = params.copy()
    changed[split["test"]] *= 50.0
    a = fit_readout(z, params, numeric, split, 0.1)
    b = fit_readout(z, changed, numeric, split, 0.1)
    assert np.array_equal(a[0], b[0]) and a[1:] == b[1:]
    c = fit_readout(z, np.where(np.isin(np.arange(len(z)), split["val"])[:, None], params * 50.0, params), numeric, split, 0.1)
    assert c[2] < a[2]  # the validation planets do decide the penalty's score


def test_a_parameter_the_embedding_does_not_predict_gets_its_typical_value() -> None:
    z, params = _linear_world()
    rng = np.random.default_rng(3)
    params[:, 1] = np.exp(rng.normal(size=len(z)) * 0.05 + 2.0)  # unrelated to z, narrow: the typical value hits
    weights, chosen, _ = fit_readout(z, params, np.array([True, True, True]), _planets(len(z)), 0.1)
    assert chosen[1] == TYPICAL and not weights[:-1, 1].any()
    train = params[_planets(len(z))["train"], 1]
    assert np.exp(weights[-1, 1]) == pytest.approx(typical_value(train, 0.1))
    assert np.mean(np.abs(np.exp(weights[-1, 1]) - train) <= 0.1 * train) > 0.9


@pytest.fixture
def readout_model(tiny_model, fusion_dir):
    torch.manual_seed(0)
    cfg = make_cfg(tiny_model, fusion_dir, model={"prompt": "readout"})
    data = build_data(cfg, 0, 1)
    return cfg, data, build_model(cfg, data)


def test_the_prompt_writes_the_estimate_of_the_asked_parameter(readout_model) -> None:
    _, data, model = readout_model
    batch = data.collate("val", list(range(6)))
    ids = model.projector(batch["embedding"], batch["param"])
    estimates = model.projector.estimates(batch["embedding"], batch["param"])
    for row, value, param in zip(ids.tolist(), estimates, batch["param"].tolist()):
        text = data.tokenizer.decode(row)
        head, number = text.split(":")
        assert param >= 0 and head == "Estimate" and number.endswith("\n") and number.strip() == answer_number(value)
    embeds, mask = model.embed(batch["input_ids"], batch["attention_mask"], batch["embedding"], True, batch["param"])
    assert embeds.shape[1] == ids.shape[1] + batch["input_ids"].shape[1] and bool(mask[:, : ids.shape[1]].all())
    with pytest.raises(ValueError, match="parameter each question asks"):
        model.embed(batch["input_ids"], batch["attention_mask"], batch["embedding"], True)


def test_the_readout_is_saved_with_the_adapter_and_nothing_of_it_trains(readout_model) -> None:
    _, _, model = readout_model
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n for n in trainable)
    assert {"projector.weights", "projector.mean", "projector.std"} <= set(model.state_dict())


def test_evaluation_reports_what_copying_the_readout_would_score(readout_model) -> None:
    _, data, model = readout_model
    metrics = evaluate(model, data, "val")
    assert 0.0 <= metrics["val_readout_num_acc"] <= 1.0 and "val_num_acc" in metrics

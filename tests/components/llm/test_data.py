"""The llm data: the fusion contract, planet splits, tokenised texts and deterministic batches."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import save_file

from astrobio.components.llm.data import FUSION_FILE, IGNORE, build_data
from astrobio.errors import UsageError
from tests.components.llm.helpers import PARAM_NAMES, make_cfg


def test_build_is_deterministic(tiny_model, fusion_dir):
    a, b = build_data(make_cfg(tiny_model, fusion_dir), 0, 1), build_data(make_cfg(tiny_model, fusion_dir), 0, 1)
    assert a.examples == b.examples and a.encoded == b.encoded
    for x, y in zip(a.batches(3), b.batches(3)):
        assert x.keys() == y.keys() and all(torch.equal(x[k], y[k]) for k in x)
    first = lambda epoch: next(iter(a.batches(epoch)))["input_ids"]  # noqa: E731
    assert not torch.equal(first(0), first(1))


def test_planets_not_texts_are_split(tiny_model, fusion_dir):
    data = build_data(make_cfg(tiny_model, fusion_dir), 0, 1)
    sets = {s: set(data.planets[s]) for s in ("train", "val", "test")}
    assert not (sets["train"] & sets["val"] or sets["train"] & sets["test"] or sets["val"] & sets["test"])
    assert sets["train"] | sets["val"] | sets["test"] == set(range(40))
    for split in ("val", "test"):
        assert {ex.planet for ex in data.examples[split]} <= sets[split]
    described = data.describe()
    assert described["n_val_planets"] == 4 and described["param_names"] == PARAM_NAMES
    assert described["n_train_texts"] == 32 * (len(PARAM_NAMES) + 1)


def test_loss_only_on_answer_tokens(tiny_model, fusion_dir):
    data = build_data(make_cfg(tiny_model, fusion_dir), 0, 1)
    batch = data.collate("val", [0, 1, 2])
    for r in range(3):
        prompt, answer = data.encoded["val"][r]
        labels, ids, mask = batch["labels"][r], batch["input_ids"][r], batch["attention_mask"][r]
        assert (labels[:len(prompt)] == IGNORE).all() and (labels[len(prompt) + len(answer):] == IGNORE).all()
        assert labels[len(prompt):len(prompt) + len(answer)].tolist() == answer
        assert ids[:len(prompt) + len(answer)].tolist() == prompt + answer
        assert int(mask.sum()) == len(prompt) + len(answer)
        text = data.tokenizer.decode(answer, skip_special_tokens=True)
        assert text.strip() == data.examples["val"][r].answer
    planets = [data.examples["val"][i].planet for i in range(3)]
    assert torch.equal(batch["embedding"], data.embeddings[planets])


def test_ranks_get_equal_shards(tiny_model, fusion_dir):
    cfg = make_cfg(tiny_model, fusion_dir, data={"batch_size": 1000})
    r0, r1 = (next(iter(build_data(cfg, r, 2).batches(0))) for r in (0, 1))
    assert r0["input_ids"].shape[0] == r1["input_ids"].shape[0] == 144


def test_chat_models_use_their_template(tiny_chat_model, fusion_dir):
    data = build_data(make_cfg(tiny_chat_model, fusion_dir), 0, 1)
    prompt, answer = data.encoded["train"][0]
    text = data.tokenizer.decode(prompt + answer)
    assert text.startswith("<|im_start|>system\nAnswer briefly.<|im_end|>\n<|im_start|>user\n")
    assert data.tokenizer.decode(answer).endswith("<|im_end|>\n")
    assert data.tokenizer.convert_tokens_to_ids("<|im_end|>") in data.stop_ids


def test_chat_template_false_asks_a_chat_model_in_plain_lines(tiny_chat_model, fusion_dir):
    data = build_data(make_cfg(tiny_chat_model, fusion_dir, data={"chat_template": False, "system_prompt": None}), 0, 1)
    prompt, answer = data.encoded["train"][0]
    assert data.tokenizer.decode(prompt).startswith("Question: ") and "<|im_start|>" not in data.tokenizer.decode(prompt)
    assert data.tokenizer.decode(prompt).endswith("\nAnswer:")
    assert answer[-1] == data.tokenizer.eos_token_id and answer[-1] in data.stop_ids
    assert data.describe()["chat_format"] is False


def test_max_planets_caps_the_table(tiny_model, fusion_dir):
    data = build_data(make_cfg(tiny_model, fusion_dir, data={"max_planets": 10}), 0, 1)
    assert sum(len(p) for p in data.planets.values()) == 10


def test_missing_fusion_input_is_a_usage_error(tiny_model, fusion_dir):
    cfg = make_cfg(tiny_model, fusion_dir).model_copy(update={"inputs": {}})
    with pytest.raises(UsageError, match=r"components\.llm\.inputs\.fusion"):
        build_data(cfg, 0, 1)


def test_missing_embeddings_file_names_the_file(tiny_model, fusion_dir):
    (fusion_dir / FUSION_FILE).unlink()
    with pytest.raises(UsageError, match=rf"{FUSION_FILE}: not found.*'params'.*'embeddings'"):
        build_data(make_cfg(tiny_model, fusion_dir), 0, 1)


def _write(folder, tensors, names=PARAM_NAMES):
    meta = {"param_names": names if isinstance(names, str) else json.dumps(names)} if names is not None else None
    save_file(tensors, str(folder / FUSION_FILE), metadata=meta)


@pytest.mark.parametrize("case,match", [
    ("garbage", "not a readable safetensors file"),
    ("wrong_names", r"has tensors \['emb', 'params'\]; expected"),
    ("rows", "params has 40 rows and embeddings 39"),
    ("one_d", "not 2-D float tensors"),
    ("no_meta", "metadata 'param_names' missing"),
    ("bad_meta", "param_names must list 8 names"),
    ("nan", "NaN or inf"),
])
def test_malformed_embeddings_file_names_the_file(tiny_model, fusion_dir, case, match):
    params, emb = torch.rand(40, 8), torch.randn(40, 16)
    if case == "garbage":
        (fusion_dir / FUSION_FILE).write_bytes(b"\x00garbage")
    elif case == "wrong_names":
        _write(fusion_dir, {"params": params, "emb": emb})
    elif case == "rows":
        _write(fusion_dir, {"params": params, "embeddings": emb[:39]})
    elif case == "one_d":
        _write(fusion_dir, {"params": params, "embeddings": emb[:, 0].contiguous()})
    elif case == "no_meta":
        _write(fusion_dir, {"params": params, "embeddings": emb}, names=None)
    elif case == "bad_meta":
        _write(fusion_dir, {"params": params, "embeddings": emb}, names=["a", "b"])
    else:
        emb[3, 2] = float("nan")
        _write(fusion_dir, {"params": params, "embeddings": emb})
    with pytest.raises(UsageError, match=match) as info:
        build_data(make_cfg(tiny_model, fusion_dir), 0, 1)
    assert str(fusion_dir / FUSION_FILE) in str(info.value) and "\n" not in str(info.value)


def test_base_model_folder_must_exist(tmp_path, fusion_dir):
    with pytest.raises(UsageError, match=r"components\.llm\.model\.model_name_or_path: .* never downloaded"):
        build_data(make_cfg(tmp_path / "nope", fusion_dir), 0, 1)

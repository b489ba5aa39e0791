"""The llm model on a tiny local Llama: soft prompt, loss, what trains, what is saved, decoding."""

from __future__ import annotations

import pytest
import torch

from astrobio.components.llm.base import _cached_base
from astrobio.components.llm.data import build_data
from astrobio.components.llm.model import build_model
from astrobio.errors import UsageError
from tests.components.llm.helpers import make_cfg


@pytest.fixture
def built(tiny_model, fusion_dir):
    torch.manual_seed(0)
    cfg = make_cfg(tiny_model, fusion_dir)
    data = build_data(cfg, 0, 1)
    return cfg, data, build_model(cfg, data)


def test_soft_prompt_shapes(built):
    cfg, data, model = built
    batch = data.collate("train", [0, 1, 2])
    soft = model.projector(batch["embedding"])
    assert soft.shape == (3, cfg.model.n_soft_tokens, 32)
    embeds, mask = model.embed(batch["input_ids"], batch["attention_mask"], batch["embedding"], conditioned=True)
    width = batch["input_ids"].shape[1] + cfg.model.n_soft_tokens
    assert embeds.shape == (3, width, 32) and mask.shape == (3, width)
    assert (mask[:, :cfg.model.n_soft_tokens] == 1).all()
    plain, _ = model.embed(batch["input_ids"], batch["attention_mask"], batch["embedding"], conditioned=False)
    assert torch.equal(plain, embeds[:, cfg.model.n_soft_tokens:])


def test_soft_prompt_depends_on_the_planet(built):
    _, data, model = built
    soft = model.projector(data.embeddings[:2])
    assert not torch.allclose(soft[0], soft[1])


def test_one_step_lowers_the_loss_on_a_fixed_batch(built):
    _, data, model = built
    batch = data.collate("train", list(range(8)))
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    model.eval()  # no LoRA dropout: compare like with like
    loss = model(batch)
    before = loss.item()
    loss.backward()
    opt.step()
    with torch.no_grad():
        assert model(batch).item() < before


def test_only_adapter_and_projector_train_and_are_saved(built):
    _, _, model = built
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all(n.startswith("projector.") or "lora_" in n for n in trainable)
    keys = set(model.state_dict())
    assert keys == trainable | {"projector.mean", "projector.std"}
    total = sum(p.numel() for p in model.parameters())
    saved = sum(v.numel() for v in model.state_dict().values())
    assert saved < 0.2 * total
    trainable_n, all_n = model.parameter_counts()
    assert trainable_n == sum(p.numel() for p in model.parameters() if p.requires_grad) and all_n == total


def test_state_dict_round_trip_and_strict_keys(built, tiny_model, fusion_dir):
    cfg, data, model = built
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p.add_(0.01)
    fresh = build_model(cfg, data)
    batch = data.collate("val", [0, 1])
    model.eval(), fresh.eval()
    assert not torch.allclose(model(batch), fresh(batch))
    result = fresh.load_state_dict(model.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert torch.allclose(model(batch), fresh(batch))
    partial = {k: v for k, v in model.state_dict().items() if k.startswith("projector.")}
    with pytest.raises(RuntimeError, match="missing keys"):
        fresh.load_state_dict(partial)
    assert fresh.load_state_dict(partial, strict=False).missing_keys


def test_the_cached_base_stays_clean(built, tiny_model):
    _, _, model = built
    cached = _cached_base(str(tiny_model), None, "float32")
    assert not any("lora_" in n for n, _ in cached.named_parameters())
    assert all(a is not b for a, b in zip(cached.parameters(), model.hf.parameters()))


def test_base_only_is_the_untouched_base(built, tiny_model):
    _, data, model = built
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "lora_B" in n:
                p.add_(0.1)  # lora_B starts at zero: make the adapter matter
    batch = data.collate("val", [0, 1])
    model.eval()
    cached = _cached_base(str(tiny_model), None, "float32")
    want = cached(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    with model.base_only():
        got = model.hf(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    adapted = model.hf(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    assert torch.allclose(want, got, atol=1e-6) and not torch.allclose(want, adapted, atol=1e-4)


def test_greedy_matches_uncached_argmax_and_ignores_padding(built):
    _, data, model = built
    model.eval()
    prompts = [data.encoded["val"][i][0] for i in range(3)]
    emb = data.embeddings[[data.examples["val"][i].planet for i in range(3)]]
    batched = model.greedy(prompts, emb, conditioned=True, max_new=5)
    for r in range(3):
        alone = model.greedy([prompts[r]], emb[r:r + 1], conditioned=True, max_new=5)[0]
        ids = torch.tensor([prompts[r]])
        manual: list[int] = []
        with torch.no_grad():
            for _ in range(len(alone)):
                embeds, mask = model.embed(ids, torch.ones_like(ids), emb[r:r + 1], conditioned=True)
                nxt = int(model.hf(inputs_embeds=embeds, attention_mask=mask).logits[0, -1].argmax())
                manual.append(nxt)
                ids = torch.cat([ids, torch.tensor([[nxt]])], dim=1)
        assert alone == manual
        assert batched[r] == alone


def test_bfloat16_base_keeps_float32_adapters(tiny_model, fusion_dir):
    cfg = make_cfg(tiny_model, fusion_dir, model={"dtype": "bfloat16"})
    data = build_data(cfg, 0, 1)
    model = build_model(cfg, data)
    assert model.hf.get_input_embeddings().weight.dtype == torch.bfloat16
    assert all(p.dtype == torch.float32 for p in model.parameters() if p.requires_grad)
    loss = model(data.collate("train", [0, 1]))
    loss.backward()
    assert torch.isfinite(loss) and all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_qlora_on_cpu_is_a_usage_error(tiny_model, fusion_dir):
    cfg = make_cfg(tiny_model, fusion_dir, lora={"qlora": True})
    with pytest.raises(UsageError, match=r"components\.llm\.lora\.qlora"):
        build_data(cfg, 0, 1)
    data = build_data(make_cfg(tiny_model, fusion_dir), 0, 1)
    with pytest.raises(UsageError, match=r"components\.llm\.lora\.qlora"):
        build_model(cfg, data)


def test_unknown_lora_target_is_a_usage_error(tiny_model, fusion_dir):
    cfg = make_cfg(tiny_model, fusion_dir, lora={"target_modules": ["c_attn"]})
    with pytest.raises(UsageError, match=r"components\.llm\.lora\.target_modules"):
        build_model(cfg, build_data(cfg, 0, 1))


def test_saved_weights_load_through_init_from(built, tmp_path):
    from astrobio.trainer.checkpoint import save_weights
    from astrobio.trainer.pretrained import apply_init_from

    cfg, data, model = built
    save_weights(tmp_path / "llm.safetensors", model.state_dict())
    report = apply_init_from(build_model(cfg, data), tmp_path / "llm.safetensors", strict=True)
    assert report.clean and len(report.matching) == len(model.state_dict())

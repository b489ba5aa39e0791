"""Builders shared by the llm tests (and the smoke measurement): a fake fusion artifact and a tiny
local Hugging Face model folder, so most tests never pay for the real 135M base."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import save_file

from astrobio.components.llm.config import LLMConfig
from astrobio.components.llm.text import planet_examples

PARAM_NAMES = ["T_star", "F_star", "radius", "gravity", "P_rot", "P0", "CO2", "CH4"]
RANGES = {"T_star": (2600, 5800), "F_star": (400, 3000), "radius": (0.5, 2.5), "gravity": (5, 20),
          "P_rot": (0.3, 200), "P0": (0.1, 10), "CO2": (1e-4, 0.3), "CH4": (1e-6, 0.03)}
LOG = {"P_rot", "P0", "CO2", "CH4"}


def planet_params(n: int, seed: int = 0) -> np.ndarray:
    """Plausible clero-domain planets (log-uniform where the parameter spans decades)."""
    rng = np.random.default_rng(seed)
    cols = []
    for name in PARAM_NAMES:
        lo, hi = RANGES[name]
        u = rng.uniform(size=n)
        cols.append(np.exp(np.log(lo) + u * (np.log(hi) - np.log(lo))) if name in LOG else lo + u * (hi - lo))
    return np.stack(cols, axis=1)


def write_fusion(folder: Path, n: int = 40, dim: int = 16, seed: int = 0, informative: bool = True) -> Path:
    """A fusion artifact folder: model_card.json + planet_embeddings.safetensors. With `informative`,
    embeddings are a fixed random nonlinear map of the (log-)standardised parameters plus noise, as
    an encoder's would be; otherwise pure noise."""
    folder.mkdir(parents=True, exist_ok=True)
    params = planet_params(n, seed)
    rng = np.random.default_rng(seed + 1)
    if informative:
        feats = np.stack([np.log(params[:, i]) if name in LOG else params[:, i] for i, name in enumerate(PARAM_NAMES)], 1)
        feats = (feats - feats.mean(0)) / feats.std(0)
        emb = np.tanh(feats @ rng.standard_normal((len(PARAM_NAMES), dim)) / 2) + 0.05 * rng.standard_normal((n, dim))
    else:
        emb = rng.standard_normal((n, dim))
    save_file({"params": torch.tensor(params, dtype=torch.float32), "embeddings": torch.tensor(emb, dtype=torch.float32)},
              str(folder / "planet_embeddings.safetensors"), metadata={"param_names": json.dumps(PARAM_NAMES)})
    (folder / "model_card.json").write_text(json.dumps({"component": "fusion", "phase": "integrate"}))
    return folder


def write_tiny_model(folder: Path, chat: bool = False, pretrain_steps: int = 0) -> Path:
    """A 2-layer Llama with a byte-level BPE tokenizer trained on planet texts; randomly initialised,
    or with `pretrain_steps`, pre-trained on texts of other planets (see `_pretrain`)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import AutoModelForCausalLM, LlamaConfig, PreTrainedTokenizerFast

    params = planet_params(30, seed=5)
    corpus = [f"Question: {ex.question}\nAnswer: {ex.answer}" for p in range(30)
              for ex in planet_examples(p, params[p], PARAM_NAMES, 0, True, 3)]
    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    specials = ["<pad>", "<eos>", "<|im_start|>", "<|im_end|>"]
    tk.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=400, special_tokens=specials,
                                                       initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, eos_token="<eos>", pad_token="<pad>")
    if chat:
        tok.chat_template = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
                             "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                      tie_word_embeddings=True, pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id,
                      bos_token_id=None)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(cfg)
    if pretrain_steps:
        _pretrain(model, tok, pretrain_steps)
    model.save_pretrained(str(folder))
    tok.save_pretrained(str(folder))
    return folder


def _pretrain(model: Any, tok: Any, steps: int) -> None:
    """Teach the tiny base the plain Q/A format and each parameter's typical values, on planets that
    are not the fusion fixture's (seed 7): a base that knows the task's language but not the planet,
    as SmolLM2 knows English, so beating it takes reading the soft prompt."""
    params = planet_params(400, seed=7)
    texts = [f"Answer briefly.\nQuestion: {ex.question}\nAnswer: {ex.answer}{tok.eos_token}" for p in range(400)
             for ex in planet_examples(p, params[p], PARAM_NAMES, 1, False, 1)]
    enc = tok(texts, add_special_tokens=False, padding=True, return_tensors="pt")
    labels = enc["input_ids"].masked_fill(enc["attention_mask"] == 0, -100)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(0)
    model.train()
    for _ in range(steps):
        idx = torch.randint(len(texts), (32,), generator=g)
        loss = model(input_ids=enc["input_ids"][idx], attention_mask=enc["attention_mask"][idx], labels=labels[idx]).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()


def make_cfg(model_dir: Path | None, fusion_dir: Path, **over: Any) -> LLMConfig:
    """An LLMConfig on the tiny model (or the bundled base with model_dir=None), small everything."""
    section: dict[str, Any] = {
        "inputs": {"fusion": str(fusion_dir)},
        "model": {"model_name_or_path": str(model_dir) if model_dir else None, "n_soft_tokens": 2, "projector_hidden": 16},
        "lora": {"r": 2, "alpha": 4, "dropout": 0.1},
        "data": {"batch_size": 8},
        "eval": {"max_texts": 16, "num_prompts": 8, "max_new_tokens": 4, "batch_size": 8},
        "trainer": {"device": "cpu"},
    }
    for key, value in over.items():
        section[key] = {**section.get(key, {}), **value} if isinstance(value, dict) else value
    return LLMConfig.model_validate(section)

"""The llm data set: fusion planet embeddings paired with texts about those planets.

Contract with the fusion component: its artifact folder (`inputs["fusion"]`) holds
`planet_embeddings.safetensors` with tensors `params` [N, P] and `embeddings` [N, D] (float32) and
the safetensors metadata `param_names`, a JSON list of the P parameter names. The texts (see
`text.py`) are written from `params`; the model only sees the embedding, through its soft prompt.
Planets, not texts, are split into train/val/test, so held-out scores are about unseen planets.

Every text is tokenised once, here, as (prompt ids, answer ids); the loss is taken on the answer
only. Batches are a pure function of the epoch (and rank), as the trainer's resume requires.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError, safe_open

from astrobio.components.llm.base import BaseRef, check_qlora, load_tokenizer, resolve_base
from astrobio.components.llm.config import FUSION_INPUT, LLMConfig
from astrobio.components.llm.text import Example, planet_examples, ratio_scale
from astrobio.errors import UsageError

FUSION_FILE = "planet_embeddings.safetensors"
EXPECTED = ("tensors 'params' [N,P] and 'embeddings' [N,D] (float32) and metadata 'param_names' "
            "(a JSON list of P names)")
SPLITS = ("train", "val", "test")
IGNORE = -100  # label of tokens that carry no loss (prompt, padding)


@dataclass(frozen=True)
class FusionTable:
    """What the fusion artifact says about each planet."""

    path: Path
    params: np.ndarray        # [N, P] float64
    embeddings: torch.Tensor  # [N, D] float32
    names: list[str]


def read_fusion(folder: Path) -> FusionTable:
    """Load and check the fusion planet table; any defect is a UsageError naming the file."""
    path = folder / FUSION_FILE
    if not path.is_file():
        raise UsageError(f"{path}: not found; the fusion artifact must contain {FUSION_FILE} with {EXPECTED}")
    try:
        with safe_open(str(path), framework="pt") as f:
            keys, meta = set(f.keys()), f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in ("params", "embeddings") if k in keys}
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise UsageError(f"{path}: not a readable safetensors file ({str(exc)[:160]}); expected {EXPECTED}") from None
    if set(tensors) != {"params", "embeddings"}:
        raise UsageError(f"{path}: has tensors {sorted(keys)}; expected {EXPECTED}")
    params, emb = tensors["params"], tensors["embeddings"]
    if params.ndim != 2 or emb.ndim != 2 or not params.is_floating_point() or not emb.is_floating_point():
        raise UsageError(f"{path}: params {list(params.shape)} {params.dtype} / embeddings {list(emb.shape)} "
                         f"{emb.dtype} are not 2-D float tensors; expected {EXPECTED}")
    if params.shape[0] != emb.shape[0] or params.shape[0] < 3:
        raise UsageError(f"{path}: params has {params.shape[0]} rows and embeddings {emb.shape[0]}; expected the "
                         f"same N >= 3 planets ({EXPECTED})")
    try:
        names = json.loads(meta["param_names"])
    except (KeyError, ValueError):
        raise UsageError(f"{path}: metadata 'param_names' missing or not JSON; expected {EXPECTED}") from None
    if not (isinstance(names, list) and len(names) == params.shape[1] and all(isinstance(n, str) for n in names)):
        raise UsageError(f"{path}: param_names must list {params.shape[1]} names (one per params column); "
                         f"got {str(names)[:120]}")
    if not bool(torch.isfinite(emb).all()):
        raise UsageError(f"{path}: embeddings contain NaN or inf")
    return FusionTable(path, params.double().numpy(), emb.float().contiguous(), names)


def split_planets(n: int, val_fraction: float, test_fraction: float, seed: int) -> dict[str, list[int]]:
    """Disjoint planet indices per split; every split gets at least one planet."""
    order = np.random.default_rng(seed).permutation(n)
    n_val = max(1, round(n * val_fraction))
    n_test = max(1, round(n * test_fraction))
    if n - n_val - n_test < 1:
        raise UsageError(f"components.llm.data: {n} planets leave none for training after the val/test fractions")
    parts = {"val": order[:n_val], "test": order[n_val:n_val + n_test], "train": order[n_val + n_test:]}
    return {k: sorted(int(i) for i in v) for k, v in parts.items()}


def render(tokenizer: Any, question: str, answer: str, system: str | None, chat: bool = True) -> tuple[str, str]:
    """(prompt text, answer text): the model's own chat format when it has one (and `chat`), else Q/A lines."""
    if chat and getattr(tokenizer, "chat_template", None):
        msgs = ([{"role": "system", "content": system}] if system is not None else []) + [{"role": "user", "content": question}]
        prompt = tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
        full = tokenizer.apply_chat_template(msgs + [{"role": "assistant", "content": answer}], tokenize=False)
        if full.startswith(prompt):
            return prompt, full[len(prompt):]
        return prompt, answer + (tokenizer.eos_token or "")
    head = f"{system}\n" if system else ""
    return f"{head}Question: {question}\nAnswer:", f" {answer}{tokenizer.eos_token or ''}"


class LLMData:
    """Texts per split, tokenised, with the planet embeddings they are conditioned on."""

    def __init__(self, cfg: LLMConfig, rank: int, world: int, ref: BaseRef, tokenizer: Any, table: FusionTable) -> None:
        self.cfg, self.rank, self.world, self.ref, self.tokenizer, self.table = cfg, rank, world, ref, tokenizer, table
        n = table.params.shape[0] if cfg.data.max_planets is None else min(cfg.data.max_planets, table.params.shape[0])
        dc = cfg.data
        self.planets = split_planets(n, dc.val_fraction, dc.test_fraction, dc.split_seed)
        self.embeddings = table.embeddings
        train_emb = table.embeddings[self.planets["train"]]
        self.emb_mean = train_emb.mean(dim=0)
        self.emb_std = train_emb.std(dim=0, unbiased=False).clamp_min(1e-6)
        self.examples: dict[str, list[Example]] = {}
        self.encoded: dict[str, list[tuple[list[int], list[int]]]] = {}
        self.numeric = ratio_scale(table.params[self.planets["train"]])  # which parameters get numeric questions
        for split in SPLITS:
            texts = [ex for p in self.planets[split] for ex in planet_examples(
                p, table.params[p], table.names, dc.split_seed, dc.describe, dc.describe_max_facts, self.numeric)]
            # Held-out lists are shuffled once so that "the first K" spans many planets and parameters.
            if split != "train":
                texts = [texts[i] for i in np.random.default_rng([dc.split_seed, SPLITS.index(split)]).permutation(len(texts))]
            self.examples[split] = texts
            self.encoded[split] = self._encode(texts)
        self.pad_id = int(tokenizer.pad_token_id)
        self.chat_format = dc.chat_template and bool(getattr(tokenizer, "chat_template", None))
        vocab = tokenizer.get_vocab()
        stops = {tokenizer.eos_token_id, tokenizer.pad_token_id, vocab.get("<|im_end|>")}
        self.stop_ids = tuple(sorted(int(i) for i in stops if i is not None))
        self.memo: dict[Any, Any] = {}  # evaluation caches (e.g. the base model's scores, which never change)

    def _encode(self, texts: list[Example]) -> list[tuple[list[int], list[int]]]:
        if not texts:
            return []
        pairs = [render(self.tokenizer, ex.question, ex.answer, self.cfg.data.system_prompt, self.cfg.data.chat_template)
                 for ex in texts]
        prompts = self.tokenizer([p for p, _ in pairs], add_special_tokens=False)["input_ids"]
        answers = self.tokenizer([a for _, a in pairs], add_special_tokens=False)["input_ids"]
        return [(list(p), list(a)) for p, a in zip(prompts, answers)]

    def collate(self, split: str, indices: list[int]) -> dict[str, torch.Tensor]:
        """Right-padded batch: ids, mask, labels (answer tokens only), the planets' embeddings and the
        parameter each text asks about (-1: a description)."""
        rows = [self.encoded[split][i] for i in indices]
        width = max(len(p) + len(a) for p, a in rows)
        ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        labels = torch.full((len(rows), width), IGNORE, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for r, (p, a) in enumerate(rows):
            ids[r, :len(p) + len(a)] = torch.tensor(p + a)
            labels[r, len(p):len(p) + len(a)] = torch.tensor(a)
            mask[r, :len(p) + len(a)] = 1
        examples = [self.examples[split][i] for i in indices]
        return {"input_ids": ids, "attention_mask": mask, "labels": labels,
                "embedding": self.embeddings[[ex.planet for ex in examples]],
                "param": torch.tensor([ex.param for ex in examples], dtype=torch.long)}

    def batches(self, epoch: int):
        """This rank's training batches of `epoch`; every rank gets the same count (DDP lock-step)."""
        n = len(self.encoded["train"])
        g = torch.Generator().manual_seed(self.cfg.data.split_seed * 1_000_003 + epoch)
        order = torch.randperm(n, generator=g)[self.rank::self.world][: n // self.world].tolist()
        size = self.cfg.data.batch_size
        for start in range(0, len(order), size):
            yield self.collate("train", order[start:start + size])

    def eval_indices(self, split: str, numeric: bool) -> list[int]:
        """The held-out texts scored: the first `max_texts` (perplexity) or `num_prompts` numeric facts."""
        if numeric:
            idx = [i for i, ex in enumerate(self.examples[split]) if ex.value is not None]
            return idx[: self.cfg.eval.num_prompts]
        return list(range(min(self.cfg.eval.max_texts, len(self.examples[split]))))

    def describe(self) -> dict[str, Any]:
        return {"source": str(self.table.path), "base_model": self.ref.label(), "param_names": self.table.names,
                "latent_dim": int(self.embeddings.shape[1]), "chat_format": self.chat_format,
                **{f"n_{s}_planets": len(self.planets[s]) for s in SPLITS},
                **{f"n_{s}_texts": len(self.examples[s]) for s in SPLITS},
                "example": {"question": self.examples["train"][0].question, "answer": self.examples["train"][0].answer}
                if self.examples["train"] else None}


def build_data(cfg: LLMConfig, rank: int, world: int, cache_dir: Path | None = None) -> LLMData:
    """Check the cheap things first (QLoRA here? fusion file sane?), then load the tokenizer."""
    check_qlora(cfg.lora.qlora, cfg.trainer.device)
    folder = cfg.inputs.get(FUSION_INPUT)
    if folder is None:
        raise UsageError(f"components.llm.inputs.{FUSION_INPUT}: not set; the llm trains on the fusion artifact's "
                         f"{FUSION_FILE} (train fusion first, or set it to an artifact folder)")
    table = read_fusion(Path(folder))
    ref = resolve_base(cfg.model.model_name_or_path, cfg.model.gguf_file)
    tokenizer = load_tokenizer(ref.folder, ref.gguf_file)
    return LLMData(cfg, rank, world, ref, tokenizer, table)

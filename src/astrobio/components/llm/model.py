"""The llm model: a frozen base LM with LoRA adapters, conditioned on a planet through soft tokens
(or, with `model.prompt: readout`, through the readout's estimate of the asked value: readout.py).

A projector (MLP) maps a fusion planet embedding to `n_soft_tokens` vectors in the LM's input
embedding space; they are prepended to the token embeddings of the text. Only the adapters and the
projector learn. `forward(batch)` returns the answer-token loss, so one DDP forward touches every
trainable parameter.

Weights: the trainer saves `model.state_dict()` in every checkpoint and in the artifact. The frozen
base is hundreds of MB and is rebuilt from its file anyway, so this module's state_dict holds only
`projector.*` and the `lora_*` tensors ("adapter + projector"); `load_state_dict` expects exactly
those keys. The base stays a registered submodule so `.to(device)`, `.train()`/`.eval()` and DDP's
parameter handling reach it as usual.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from astrobio.components.llm.base import check_qlora, load_base
from astrobio.components.llm.config import LLMConfig
from astrobio.components.llm.data import IGNORE, LLMData
from astrobio.components.llm.decode import NumberGrammar
from astrobio.components.llm.readout import ReadoutPrompt, readout_prompt
from astrobio.errors import UsageError

INIT_TEXT = "Planet data:"  # soft tokens start as these tokens' embeddings (prompt-tuning's vocabulary init)


class Projector(nn.Module):
    """Planet embedding [B, D] -> soft prompt [B, n, H]; standardises with training-split statistics
    kept as buffers, so the artifact alone maps a raw fusion embedding."""

    def __init__(self, latent_dim: int, hidden: int, n_tokens: int, width: int, mean: torch.Tensor,
                 std: torch.Tensor, init_tokens: torch.Tensor, init_scale: float) -> None:
        super().__init__()
        self.n_tokens, self.width = n_tokens, width
        self.register_buffer("mean", mean.detach().float().clone())
        self.register_buffer("std", std.detach().float().clone())
        self.inp = nn.Linear(latent_dim, hidden)
        self.out = nn.Linear(hidden, n_tokens * width)
        with torch.no_grad():  # start near real token embeddings, with a planet-dependent part of similar scale
            nn.init.normal_(self.out.weight, std=init_scale / math.sqrt(hidden))
            self.out.bias.copy_(init_tokens.reshape(-1))

    def forward(self, embedding: torch.Tensor) -> torch.Tensor:
        z = (embedding.float() - self.mean) / self.std
        return self.out(F.gelu(self.inp(z))).view(-1, self.n_tokens, self.width)


class SoftPromptLM(nn.Module):
    """peft-wrapped base LM + projector; see the module docstring for what is saved."""

    def __init__(self, lm: nn.Module, projector: Projector | ReadoutPrompt, pad_id: int, stop_ids: tuple[int, ...],
                 condition: bool = True) -> None:
        super().__init__()
        self.lm = lm
        self.projector = projector
        self.pad_id, self.stop_ids = pad_id, stop_ids
        self.condition = condition  # False: the LoRA-only ablation; the projector then stays frozen and unused
        if not condition:
            projector.requires_grad_(False)

    @property
    def hf(self) -> Any:
        """The transformers model (adapters injected in place)."""
        return self.lm.get_base_model()

    # --- weights: adapter + projector only -------------------------------------------------------
    @staticmethod
    def is_saved(key: str) -> bool:
        return key.startswith("projector.") or "lora_" in key

    def state_dict(self, *args: Any, destination: Any = None, prefix: str = "", keep_vars: bool = False) -> Any:
        out = super().state_dict(*args, destination=destination, prefix=prefix, keep_vars=keep_vars)
        for key in [k for k in out if k.startswith(prefix) and not self.is_saved(k[len(prefix):])]:
            del out[key]
        return out

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False) -> Any:
        expected = set(self.state_dict())
        missing, unexpected = sorted(expected - set(state_dict)), sorted(set(state_dict) - expected)
        if strict and (missing or unexpected):
            raise RuntimeError(f"SoftPromptLM.load_state_dict: {len(missing)} missing keys {missing[:3]}, "
                               f"{len(unexpected)} unexpected keys {unexpected[:3]} (expected adapter + projector)")
        result = super().load_state_dict({k: v for k, v in state_dict.items() if k in expected}, strict=False, assign=assign)
        return result._replace(missing_keys=missing, unexpected_keys=unexpected)

    def parameter_counts(self) -> tuple[int, int]:
        """(trainable, all) parameters; peft counts 4-bit packed weights at their real size."""
        trainable, total = self.lm.get_nb_trainable_parameters()
        proj = sum(p.numel() for p in self.projector.parameters())
        return int(trainable + proj), int(total + proj)

    # --- computation -----------------------------------------------------------------------------
    @contextlib.contextmanager
    def base_only(self) -> Iterator[None]:
        """The untouched base model (adapters off); callers also pass `conditioned=False`."""
        with self.lm.disable_adapter():
            yield

    def embed(self, input_ids: torch.Tensor, mask: torch.Tensor, embedding: torch.Tensor,
              conditioned: bool, param: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Token embeddings, with the planet's prompt in front when conditioned: the soft prompt, or
        the readout's estimate of the asked parameter `param` [B] in number tokens (`readout.py`)."""
        table = self.hf.get_input_embeddings()
        tokens = table(input_ids)
        if not conditioned:
            return tokens, mask
        if isinstance(self.projector, ReadoutPrompt):
            if param is None:
                raise ValueError("the readout prompt needs the parameter each question asks about")
            soft = table(self.projector(embedding, param))
        else:
            soft = self.projector(embedding).to(tokens.dtype)
        return torch.cat([soft, tokens], dim=1), torch.cat([mask.new_ones(soft.shape[:2]), mask], dim=1)

    def answer_nll(self, batch: dict[str, torch.Tensor], conditioned: bool = True) -> torch.Tensor:
        """Per-token negative log-likelihood of the answer tokens (flattened [M]).

        The LM head runs only on positions that predict an answer token: the prompt and soft
        positions would be masked out of the loss anyway, and the head is a large share of the cost.
        """
        ids, labels = batch["input_ids"], batch["labels"]
        embeds, mask = self.embed(ids, batch["attention_mask"], batch["embedding"], conditioned, batch.get("param"))
        hidden = self.hf.base_model(inputs_embeds=embeds, attention_mask=mask).last_hidden_state
        hidden = hidden[:, embeds.shape[1] - ids.shape[1]:]       # drop the soft positions
        target = labels[:, 1:]
        keep = target != IGNORE
        logits = self.hf.get_output_embeddings()(hidden[:, :-1][keep])
        return F.cross_entropy(logits.float(), target[keep], reduction="none")

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.answer_nll(batch, conditioned=self.condition).mean()

    @torch.no_grad()
    def greedy(self, prompts: list[list[int]], embedding: torch.Tensor, conditioned: bool, max_new: int,
               grammar: NumberGrammar | None = None, param: torch.Tensor | None = None) -> list[list[int]]:
        """Greedy continuation of left-padded prompts with a KV cache; stops at end-of-turn tokens.
        With `grammar`, each step's argmax is taken over the tokens the answer format allows.
        `param`: the parameter each prompt asks about (the readout prompt needs it)."""
        device = embedding.device
        width = max(len(p) for p in prompts)
        ids = torch.full((len(prompts), width), self.pad_id, dtype=torch.long, device=device)
        mask = torch.zeros_like(ids)
        for r, p in enumerate(prompts):
            ids[r, width - len(p):] = torch.tensor(p, device=device)
            mask[r, width - len(p):] = 1
        embeds, mask = self.embed(ids, mask, embedding, conditioned, param)
        pos = (mask.cumsum(1) - 1).clamp_min(0)
        logits, out = self._last_logits(inputs_embeds=embeds, attention_mask=mask, position_ids=pos)
        result: list[list[int]] = [[] for _ in prompts]
        done = [False] * len(prompts)
        state = grammar.start(len(prompts), device) if grammar is not None else None
        for step in range(max_new):
            if grammar is not None:
                nxt, state = grammar.choose(logits, state)
            else:
                nxt = logits.argmax(-1)
            for r, token in enumerate(nxt.tolist()):
                if not done[r]:
                    result[r].append(token)
                    done[r] = token in self.stop_ids
            if all(done) or step == max_new - 1:
                break
            mask = torch.cat([mask, mask.new_ones((len(prompts), 1))], dim=1)
            pos = pos[:, -1:] + 1
            # transformers >= 5.2x calls the KV cache `cache`; earlier releases `past_key_values`.
            name = "cache" if hasattr(out, "cache") else "past_key_values"
            logits, out = self._last_logits(inputs_embeds=self.hf.get_input_embeddings()(nxt[:, None]), attention_mask=mask,
                                            position_ids=pos, **{name: getattr(out, name)})
        return result

    def _last_logits(self, **inputs: Any) -> tuple[torch.Tensor, Any]:
        """Float logits [B, V] at the last position, and the body's output (with its KV cache).

        The head runs on a contiguous copy of the last hidden state: transformers' `logits_to_keep=1`
        hands it a strided slice, and a bf16 linear on a strided input took 8 CPU-s for 64 rows
        (measured 2026-12-02; 0.03 s contiguous), three times the whole body's prefill."""
        out = self.hf.base_model(use_cache=True, **inputs)
        last = out.last_hidden_state[:, -1].contiguous()
        return self.hf.get_output_embeddings()(last).float(), out


def build_model(cfg: LLMConfig, data: LLMData) -> SoftPromptLM:
    """Frozen base (cached load, private copy) + LoRA + projector initialised from real tokens."""
    from peft import LoraConfig, get_peft_model

    check_qlora(cfg.lora.qlora, cfg.trainer.device)
    base = load_base(data.ref, cfg.model.dtype, cfg.lora.qlora)
    table = base.get_input_embeddings().weight.detach()
    lcfg = LoraConfig(r=cfg.lora.r, lora_alpha=cfg.lora.alpha, lora_dropout=cfg.lora.dropout,
                      target_modules=list(cfg.lora.target_modules), bias="none", task_type="CAUSAL_LM")
    try:
        with warnings.catch_warnings():  # peft calls a transformers API deprecated in 5.x; not actionable here
            warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
            lm = get_peft_model(base, lcfg)
    except ValueError as exc:
        raise UsageError(f"components.llm.lora.target_modules: {str(exc).splitlines()[0][:200]}") from None
    if cfg.model.prompt == "readout":
        readout, _chosen, _val_acc = readout_prompt(data, cfg.eval.num_tolerance)
        return SoftPromptLM(lm, readout, data.pad_id, data.stop_ids, cfg.model.condition)
    seed_ids = data.tokenizer(INIT_TEXT, add_special_tokens=False)["input_ids"] or [data.pad_id]
    n = cfg.model.n_soft_tokens
    init = table[torch.tensor([seed_ids[i % len(seed_ids)] for i in range(n)])].float().cpu()
    projector = Projector(int(data.embeddings.shape[1]), cfg.model.projector_hidden, n, int(table.shape[1]),
                          data.emb_mean, data.emb_std, init, float(table.float().std()))
    return SoftPromptLM(lm, projector, data.pad_id, data.stop_ids, cfg.model.condition)

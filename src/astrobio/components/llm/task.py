"""The llm component as the trainer sees it: build, step, evaluate, export, and its `SPEC`.

`evaluate(model, data, split)` reports, on held-out planets:

    <split>_ppl                      perplexity of the answer tokens (adapters + soft prompt)
    baseline_base_<split>_ppl        the same texts scored by the base model (no adapter, no soft prompt)
    <split>_num_acc                  share of numeric questions whose greedy answer, held to the number
                                     format (decode.py), is within `eval.num_tolerance` (relative) of the
                                     true value
    baseline_base_<split>_num_acc    the same questions answered by the base model
    <split>_readout_num_acc          (prompt: readout) the readout's own estimates scored alike: what
                                     copying the prompt would give
    <split>_num_questions            how many numeric questions both were scored on
    <split>_trainable_pct            % of all parameters that train (LoRA + projector)

The base model's scores never change during training, so they are computed once per split and kept
on the data object; the adapted model's are reused while its weights are unchanged. The size of evaluation is bounded by `eval.max_texts` / `eval.num_prompts`.
"""

from __future__ import annotations

import contextlib
import json
import math
import warnings
from pathlib import Path

import torch
from torch import nn

from astrobio.components.llm.config import LLMConfig
from astrobio.components.llm.data import LLMData, build_data
from astrobio.components.llm.decode import number_grammar
from astrobio.components.llm.model import SoftPromptLM, build_model
from astrobio.components.llm.readout import FRAME, ReadoutPrompt
from astrobio.components.llm.text import answer_number, is_close, parse_number
from astrobio.components.llm import figure
from astrobio.catalog import component
from astrobio.spec import ComponentSpec
from astrobio.trainer.atomic import write_text_atomic


def step(model: nn.Module, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
    """Mean answer-token NLL; perplexity logged beside it because that is the evaluated metric."""
    loss = model(batch)
    return loss, {"ppl": math.exp(min(float(loss.detach()), 50.0))}


def _to(batch: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    return {k: v.to(device) for k, v in batch.items()}


def _chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def perplexity(net: SoftPromptLM, data: LLMData, split: str, conditioned: bool) -> float:
    """exp(mean NLL) over all answer tokens of the scored held-out texts."""
    device = net.projector.mean.device
    total, count = 0.0, 0
    for chunk in _chunks(data.eval_indices(split, numeric=False), data.cfg.eval.batch_size):
        nll = net.answer_nll(_to(data.collate(split, chunk), device), conditioned)
        total, count = total + float(nll.double().sum()), count + nll.numel()
    return math.exp(total / count) if count else float("nan")


def numeric_accuracy(net: SoftPromptLM, data: LLMData, split: str, conditioned: bool) -> float:
    """Greedy-decode answers to numeric questions, held to the number format (decode.py) for every
    model alike; correct if the number is within the relative tolerance of the true value."""
    ecfg = data.cfg.eval
    device = net.projector.mean.device
    indices = data.eval_indices(split, numeric=True)
    grammar = number_grammar(net, data)
    correct = 0
    for chunk in _chunks(indices, ecfg.batch_size):
        examples = [data.examples[split][i] for i in chunk]
        emb = data.embeddings[[ex.planet for ex in examples]].to(device)
        param = torch.tensor([ex.param for ex in examples], dtype=torch.long)
        outs = net.greedy([data.encoded[split][i][0] for i in chunk], emb, conditioned, ecfg.max_new_tokens, grammar, param)
        for ex, out in zip(examples, outs):
            text = data.tokenizer.decode(out, skip_special_tokens=True)
            correct += is_close(parse_number(text), float(ex.value), ecfg.num_tolerance)  # type: ignore[arg-type]
    return correct / len(indices) if indices else float("nan")


def readout_accuracy(readout: ReadoutPrompt, data: LLMData, split: str) -> float:
    """What copying the readout's estimate would score on the same numeric questions: the LM's
    accuracy above it is what the LM adds to the readout (see readout.py)."""
    examples = [data.examples[split][i] for i in data.eval_indices(split, numeric=True)]
    if not examples:
        return float("nan")
    emb = data.embeddings[[ex.planet for ex in examples]].to(readout.mean.device)
    values = readout.estimates(emb, torch.tensor([ex.param for ex in examples], dtype=torch.long))
    hits = [is_close(float(answer_number(v)), float(ex.value), data.cfg.eval.num_tolerance)  # type: ignore[arg-type]
            for v, ex in zip(values, examples) if v is not None]
    return sum(hits) / len(examples)


def _scores(net: SoftPromptLM, data: LLMData, split: str, conditioned: bool) -> dict[str, float]:
    out = {"ppl": perplexity(net, data, split, conditioned)}
    if data.cfg.eval.num_prompts:
        out["num_acc"] = numeric_accuracy(net, data, split, conditioned)
    return out


def _fingerprint(net: SoftPromptLM) -> tuple[float, ...]:
    """A checksum of the trainable weights: equal only if no optimizer step happened in between."""
    return tuple(float(p.detach().double().sum()) for p in net.parameters() if p.requires_grad)


def _tuned_scores(net: SoftPromptLM, data: LLMData, split: str) -> dict[str, float]:
    """The adapted model's scores, reused while its weights are unchanged: the trainer evaluates val
    at the last step and again when it publishes, on the same weights."""
    key, fingerprint = ("tuned_scores", split), (net.condition, _fingerprint(net))
    if key not in data.memo or data.memo[key][0] != fingerprint:
        data.memo[key] = (fingerprint, _scores(net, data, split, conditioned=net.condition))
    return data.memo[key][1]


def evaluate(model: nn.Module, data: LLMData, split: str) -> dict[str, float]:
    """Adapted model vs base model on the same held-out texts (see module docstring)."""
    net: SoftPromptLM = getattr(model, "module", model)
    device = net.projector.mean.device
    was_training = net.training
    net.eval()
    amp = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else contextlib.nullcontext()
    try:
        with torch.no_grad(), amp:
            metrics = {f"{split}_{k}": v for k, v in _tuned_scores(net, data, split).items()}
            key = ("base_scores", split)
            if key not in data.memo:
                with net.base_only():
                    data.memo[key] = _scores(net, data, split, conditioned=False)
    finally:
        net.train(was_training)
    metrics.update({f"baseline_base_{split}_{k}": v for k, v in data.memo[key].items()})
    if isinstance(net.projector, ReadoutPrompt) and data.cfg.eval.num_prompts:
        metrics[f"{split}_readout_num_acc"] = readout_accuracy(net.projector, data, split)
    if data.cfg.eval.num_prompts:
        metrics[f"{split}_num_questions"] = float(len(data.eval_indices(split, numeric=True)))
    trainable, total = net.parameter_counts()
    metrics[f"{split}_trainable_pct"] = 100.0 * trainable / total
    return metrics


def export_artifact(model: nn.Module, data: LLMData, folder: Path) -> None:
    """Besides model.safetensors (projector + adapter), the adapter in peft's own format and what a
    reader needs to rebuild the conditioning: base model, soft-token count, prompt format."""
    net: SoftPromptLM = getattr(model, "module", model)
    with warnings.catch_warnings():  # peft looks for the base's config.json to see if the vocabulary grew; GGUF has none
        warnings.filterwarnings("ignore", message="Could not find a config file")
        net.lm.save_pretrained(str(folder / "adapter"))
    cfg = data.cfg
    info = {"base_model": data.ref.label(), "gguf_file": data.ref.gguf_file, "prompt": cfg.model.prompt,
            "n_soft_tokens": cfg.model.n_soft_tokens,
            "latent_dim": int(data.embeddings.shape[1]), "param_names": data.table.names,
            "prompt_format": "chat" if data.chat_format else "plain",
            "system_prompt": cfg.data.system_prompt,
            "readout_frame": list(FRAME) if cfg.model.prompt == "readout" else None,
            "weights": "model.safetensors: projector.* (with the embedding mean/std it standardises with; for "
                       "prompt 'readout' the ridge weights [D+1, P] of log(param), see readout.py) and "
                       "the lm.*lora_* adapter tensors; the frozen base is not included"}
    write_text_atomic(folder / "llm_conditioning.json", json.dumps(info, indent=2))


_ROW = component("llm")

SPEC = ComponentSpec(
    name="llm",
    phase="llm_guided",
    config_cls=LLMConfig,
    build_data=build_data,
    build_model=build_model,
    step=step,
    evaluate=evaluate,
    image=_ROW.image,
    description=_ROW.description,
    supports_ddp=_ROW.supports_ddp,
    upstream=("fusion",),
    export_artifact=export_artifact,
    figure_data=figure.save,
    figure=figure.draw,
)

"""llm's report figure: a few held-out questions with the true, tuned and base models' answers."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from astrobio.report.arrays import load_arrays, save_arrays

if TYPE_CHECKING:  # draw() runs in a report or KFP step process, which must not pay for torch
    import torch

QUESTIONS = 4


def save(model: torch.nn.Module, data: Any, folder: Path) -> None:
    """Greedy answers of the tuned model (adapter + soft prompt) and the base model to QUESTIONS test
    questions; numeric ones decoded held to the number format, as they are scored."""
    import torch

    from astrobio.components.llm.decode import number_grammar

    net = getattr(model, "module", model)
    device = net.projector.mean.device
    numeric = data.eval_indices("test", numeric=True)
    chosen = (numeric or data.eval_indices("test", numeric=False))[:QUESTIONS]
    grammar = number_grammar(net, data) if numeric else None
    examples = [data.examples["test"][i] for i in chosen]
    prompts = [data.encoded["test"][i][0] for i in chosen]
    emb = data.embeddings[[ex.planet for ex in examples]].to(device)
    max_new = data.cfg.eval.max_new_tokens
    net.eval()
    param = torch.tensor([ex.param for ex in examples], dtype=torch.long)
    with torch.no_grad():
        tuned = net.greedy(prompts, emb, net.condition, max_new, grammar, param)
        with net.base_only():
            base = net.greedy(prompts, emb, False, max_new, grammar)
    decode = lambda ids: data.tokenizer.decode(ids, skip_special_tokens=True).strip()  # noqa: E731
    save_arrays(folder, question=np.array([ex.question for ex in examples]), truth=np.array([ex.answer for ex in examples]),
                tuned=np.array([decode(t) for t in tuned]), base=np.array([decode(b) for b in base]))


def draw(folder: Path) -> Any:
    """A table: question, true answer, tuned answer, base answer."""
    arrays = load_arrays(folder)
    if arrays is None:
        return None
    import matplotlib.pyplot as plt

    wrap = lambda text, width: "\n".join(textwrap.wrap(str(text), width)) or "(empty)"  # noqa: E731
    cells = [[wrap(q, 40), wrap(t, 20), wrap(a, 26), wrap(b, 26)]
             for q, t, a, b in zip(arrays["question"], arrays["truth"], arrays["tuned"], arrays["base"])]
    fig, ax = plt.subplots(figsize=(11, 1 + 1.1 * len(cells)))
    ax.axis("off")
    table = ax.table(cellText=cells, colLabels=["held-out question", "true answer", "tuned (LoRA + soft prompt)", "base model"],
                     loc="center", cellLoc="left", colWidths=[0.4, 0.18, 0.21, 0.21])
    table.auto_set_font_size(False)
    table.set_fontsize(7)
    table.scale(1, 4.5)
    ax.set_title("held-out questions: tuned vs base answers", fontsize=9)
    return fig

"""The readout prompt: the fusion embedding's own estimate of the asked value, in the LM's number tokens.

Why this conditioning exists beside the soft prompt (`model.Projector`): a projector MLP's soft
tokens must teach the LM, within the smoke budget of 60 CPU steps, to turn a continuous vector
into digits. Measured on the smoke config (2026-12-02) they did not: held-out numeric accuracy was
0.117 with the soft prompt and 0.172 without it. The embedding does hold the values: a ridge
regression from it reads them to within the 10% tolerance on about 0.28 of held-out questions,
against about 0.19 for each parameter's typical value, which is what LoRA alone learns.

So `model.prompt: readout` reads the embedding with a ridge regression of each ratio-scale
parameter's log, fitted in closed form on the training planets (per parameter, its penalty, or
the parameter's typical value where the embedding does not predict it, chosen on the validation
planets by the criterion that is scored), and puts the estimate of the parameter a
question asks about in front of the question, written with the LM's own tokens
("Estimate: 4700" and a new line; spaces left of the number to the batch's longest). The LM learns with LoRA to answer from it. The readout's
weights are buffers in the projector's place, so the artifact alone maps a raw fusion embedding;
`condition: false` (no prompt at all) is the ablation that measures what the conditioning adds.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from astrobio.components.llm.data import LLMData
from astrobio.components.llm.text import answer_number, is_close
from astrobio.errors import UsageError

PENALTIES = (0.1, 1.0, 10.0, 100.0)
"""Ridge penalties tried (on standardised embeddings), per parameter, beside its typical value."""
TYPICAL = float("inf")
"""The choice "no readout": the parameter's typical value, for a parameter the embedding does not predict."""

FRAME = ("Estimate:", "\n")
"""Words around the number. Measured on the smoke config (2026-12-03): digits alone in front of the
question were mostly ignored in 60 steps (the LM answered each parameter's typical value; 6 of 64
test answers copied the estimate). Worded, the prompt reads as text the instruct base already
follows, and its first token is not a digit (a sequence's first position draws attention of its own)."""

Tokenize = Callable[[list[str]], list[list[int]]]


def _design(z: np.ndarray) -> np.ndarray:
    return np.concatenate([z, np.ones((len(z), 1))], axis=1)


def _ridge(x: np.ndarray, y: np.ndarray, penalty: float) -> np.ndarray:
    """Weights [D+1] of a ridge regression (the intercept column is not penalised)."""
    reg = penalty * np.eye(x.shape[1])
    reg[-1, -1] = 0.0
    return np.linalg.solve(x.T @ x + reg, x.T @ y)


def _hits(pred_log: np.ndarray, true: np.ndarray, tolerance: float) -> int:
    """How many estimates, written as an answer is, fall within `tolerance` of the truth."""
    return sum(is_close(float(answer_number(float(np.exp(p)))), float(t), tolerance) for p, t in zip(pred_log, true))


def typical_value(values: np.ndarray, tolerance: float) -> float:
    """The training value (as answered) that the most training values are within `tolerance` of:
    the best a model that ignores the planet can say, as LoRA alone learns to."""
    answers = sorted({float(answer_number(float(v))) for v in values})
    return max(answers, key=lambda c: int(np.sum(np.abs(c - values) <= tolerance * values)))


def _column(x: np.ndarray, y: np.ndarray, rows: list[int], penalty: float, tolerance: float) -> np.ndarray:
    if penalty == TYPICAL:
        weights = np.zeros(x.shape[1])
        weights[-1] = np.log(typical_value(y[rows], tolerance))
        return weights
    return _ridge(x[rows], np.log(y[rows]), penalty)


def fit_readout(z: np.ndarray, params: np.ndarray, numeric: np.ndarray, planets: dict[str, list[int]],
                tolerance: float) -> tuple[np.ndarray, dict[int, float], float]:
    """(weights [D+1, P], choice per column, validation accuracy). For each numeric column, a ridge
    regression from the standardised embeddings `z` [N, D] to log(param) on the training planets
    with a value, its penalty, or the parameter's typical value (`TYPICAL`: the embedding does not
    predict it), chosen by the scored criterion on the validation planets. Test planets are never
    read. Columns not asked get zero weights."""
    x = _design(z)
    weights = np.zeros((x.shape[1], params.shape[1]))
    chosen: dict[int, float] = {}
    hits = asked = 0
    for j in np.flatnonzero(numeric):
        has = np.isfinite(params[:, j]) & (params[:, j] > 0)
        rows, held = [p for p in planets["train"] if has[p]], [p for p in planets["val"] if has[p]]
        if len(rows) < 2:
            continue
        best = (-1, TYPICAL, np.zeros(x.shape[1]))
        for penalty in (TYPICAL, *sorted(PENALTIES, reverse=True)):  # a tie goes to the simpler model
            column = _column(x, params[:, j], rows, penalty, tolerance)
            score = _hits(x[held] @ column, params[held, j], tolerance)
            if score > best[0]:
                best = (score, penalty, column)
        hits, asked = hits + best[0], asked + len(held)
        chosen[int(j)], weights[:, j] = best[1], best[2]
    return weights, chosen, hits / asked if asked else float("nan")


class ReadoutPrompt(nn.Module):
    """Planet embedding [B, D] + asked parameter [B] -> token ids [B, W] of the readout's estimate.

    Standardises with training-split statistics kept as buffers, like the soft-prompt projector."""

    def __init__(self, mean: torch.Tensor, std: torch.Tensor, weights: np.ndarray, tokenize: Tokenize,
                 space_id: int, frame: tuple[list[int], list[int]]) -> None:
        super().__init__()
        self.register_buffer("mean", mean.detach().float().clone())
        self.register_buffer("std", std.detach().float().clone())
        self.register_buffer("weights", torch.tensor(weights, dtype=torch.float64))
        self.tokenize, self.space_id = tokenize, space_id
        self.head, self.tail = frame  # the ids of FRAME's words around the number

    def estimates(self, embedding: torch.Tensor, param: torch.Tensor) -> list[float | None]:
        """The readout's value of each row's asked parameter (None for a description, param < 0)."""
        z = ((embedding.float() - self.mean) / self.std).double()
        logs = torch.cat([z, z.new_ones(len(z), 1)], dim=1) @ self.weights
        rows = torch.arange(len(z), device=z.device)
        picked = logs[rows, param.clamp_min(0).to(z.device)].exp().tolist()
        return [v if p >= 0 else None for v, p in zip(picked, param.tolist())]

    def forward(self, embedding: torch.Tensor, param: torch.Tensor) -> torch.Tensor:
        texts = [answer_number(v) if v is not None else "" for v in self.estimates(embedding, param)]
        ids = self.tokenize(texts)
        width = max(1, max(len(i) for i in ids))
        out = [self.head + [self.space_id] * (width - len(i)) + list(i) + self.tail for i in ids]
        return torch.tensor(out, dtype=torch.long, device=embedding.device)


def readout_prompt(data: LLMData, tolerance: float) -> tuple[ReadoutPrompt, dict[int, float], float]:
    """The readout of `data`, fitted; with its choice per parameter and validation accuracy."""
    tokenizer = data.tokenizer
    space = tokenizer(" ", add_special_tokens=False)["input_ids"]
    if len(space) != 1:
        raise UsageError(f"components.llm.model.prompt: readout pads estimates with a space, which this tokenizer "
                         f"writes as {len(space)} tokens; expected one (use prompt: soft)")
    z = ((data.embeddings - data.emb_mean) / data.emb_std).double().numpy()
    weights, chosen, val_acc = fit_readout(z, data.table.params, data.numeric, data.planets, tolerance)

    def tokenize(texts: list[str]) -> list[list[int]]:
        return [list(i) for i in tokenizer(texts, add_special_tokens=False)["input_ids"]] if texts else []

    frame = (tokenize([FRAME[0]])[0], tokenize([FRAME[1]])[0])
    return ReadoutPrompt(data.emb_mean, data.emb_std, weights, tokenize, int(space[0]), frame), chosen, val_acc

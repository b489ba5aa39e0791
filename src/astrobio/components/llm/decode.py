"""Greedy decoding held to the answer format: a number, then the end of the turn.

Numeric answers are bare numbers (`text.py`). Scoring free text would mostly measure whether a
model keeps to that format (an instruct base answers "The host star of this planet is..."), not
whether it knows the value. So every model scored, the base included, decodes the same way: at
each step only tokens that keep the text a prefix of ` ?-?digits[.digits][e[-+]digits]` may be
chosen, and a stop token only once the text is a complete number. The choice among the allowed
tokens is the model's own argmax; nothing about the true value enters.

The grammar is a small automaton over characters. Every token whose characters are all number
characters is run through it from every state once, so one step of decoding is a table lookup
and a mask per row, whatever the vocabulary size.
"""

from __future__ import annotations

from typing import Any

import torch

CHARS = frozenset("0123456789.-+e ")
DEAD = -1
# state -> {character class -> next state}; d = a digit
_MOVES: dict[int, dict[str, int]] = {
    0: {" ": 8, "-": 1, "d": 2},    # start (plain-format answers begin with one space)
    1: {"d": 2},                    # after a sign
    2: {"d": 2, ".": 3, "e": 5},    # integer digits (complete)
    3: {"d": 4},                    # after the point
    4: {"d": 4, "e": 5},            # fraction digits (complete)
    5: {"-": 6, "+": 6, "d": 7},    # after e
    6: {"d": 7},                    # after the exponent's sign
    7: {"d": 7},                    # exponent digits (complete)
    8: {"-": 1, "d": 2},            # after the leading space
}
ACCEPTING = frozenset({2, 4, 7})
N_STATES = len(_MOVES)


def advance(state: int, text: str) -> int:
    """The automaton's state after reading `text` from `state` (DEAD if `text` leaves the grammar)."""
    for ch in text:
        if state == DEAD:
            break
        state = _MOVES[state].get("d" if ch.isdigit() else ch, DEAD)
    return state


class NumberGrammar:
    """Per-state allowed-token masks and next states for one tokenizer."""

    def __init__(self, tokenizer: Any, stop_ids: tuple[int, ...], vocab: int) -> None:
        """`vocab`: the width of the model's logits (may exceed the tokenizer's, padded)."""
        self.allowed = torch.zeros((N_STATES, vocab), dtype=torch.bool)
        self.next_state = torch.full((N_STATES, vocab), DEAD, dtype=torch.long)
        texts = tokenizer.batch_decode([[i] for i in range(min(vocab, len(tokenizer)))])
        for token_id, text in enumerate(texts):
            if not text or not set(text) <= CHARS:
                continue
            for state in range(N_STATES):
                after = advance(state, text)
                if after != DEAD:
                    self.allowed[state, token_id] = True
                    self.next_state[state, token_id] = after
        for state in ACCEPTING:
            self.allowed[state, list(stop_ids)] = True
        if not bool(self.allowed[0].any()):
            raise ValueError("the tokenizer has no token that starts a number")

    def start(self, rows: int, device: torch.device) -> torch.Tensor:
        return torch.zeros(rows, dtype=torch.long, device=device)

    def choose(self, logits: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Argmax over the allowed tokens of each row, and the rows' next states (stop tokens keep it)."""
        allowed = self.allowed.to(logits.device)[state]
        token = logits.masked_fill(~allowed, float("-inf")).argmax(-1)
        nxt = self.next_state.to(logits.device)[state, token]
        return token, torch.where(nxt == DEAD, state, nxt)


def number_grammar(net: Any, data: Any) -> NumberGrammar:
    """The automaton of `data`'s tokenizer for `net`'s logits, built once per data object (memo)."""
    if "grammar" not in data.memo:
        vocab = int(net.hf.get_output_embeddings().weight.shape[0])
        data.memo["grammar"] = NumberGrammar(data.tokenizer, data.stop_ids, vocab)
    return data.memo["grammar"]

"""Greedy decoding held to the number format: the same rule for the base and the tuned model."""

from __future__ import annotations

import pytest
import torch

from astrobio.components.llm.data import build_data
from astrobio.components.llm.decode import DEAD, NumberGrammar, advance, number_grammar
from astrobio.components.llm.model import build_model
from astrobio.components.llm.text import parse_number
from tests.components.llm.helpers import make_cfg


@pytest.mark.parametrize("text,complete", [("4700", True), ("0.3", True), ("-2.3", True), ("2.4e-5", True),
                                           ("1.2e+3", True), (" 290", True), ("4.", False), ("2.4e", False), ("-", False), (" ", False)])
def test_automaton_reads_numbers(text, complete):
    state = advance(0, text)
    assert state != DEAD and (state in (2, 4, 7)) == complete


@pytest.mark.parametrize("text", ["4.7.0", "--1", "e5", "1e5e", ".5", "4 K", "1,300", "  4", "4 "])
def test_automaton_refuses_what_is_not_a_number(text):
    assert advance(0, text) == DEAD


def test_decoding_is_held_to_the_format_and_stops_only_after_a_number(tiny_model, fusion_dir):
    data = build_data(make_cfg(tiny_model, fusion_dir), 0, 1)
    net = build_model(data.cfg, data)
    grammar = number_grammar(net, data)
    stop = data.stop_ids[0]
    tok = data.tokenizer
    word = tok.convert_tokens_to_ids("Question") if "Question" in tok.get_vocab() else tok("About")["input_ids"][0]
    digit = tok("7", add_special_tokens=False)["input_ids"][0]
    logits = torch.full((2, grammar.allowed.shape[1]), -5.0)
    logits[:, word] = 10.0           # the model's favourite is a word,
    logits[:, stop] = 9.0            # then stopping,
    logits[:, digit] = 1.0           # and a digit comes third
    token, state = grammar.choose(logits, grammar.start(2, torch.device("cpu")))
    assert token.tolist() == [digit, digit] and state.tolist() == [2, 2]
    token, _ = grammar.choose(logits, state)  # after a digit the number is complete: stopping is allowed now
    assert token.tolist() == [stop, stop]
    with torch.no_grad(), net.base_only():
        outs = net.greedy([data.encoded["val"][i][0] for i in range(4)], data.embeddings[:4], False, 6, grammar)
    for out in outs:
        text = tok.decode([t for t in out if t not in data.stop_ids])
        assert text and advance(0, text) != DEAD and parse_number(text) is not None, text


def test_a_tokenizer_without_digits_is_refused():
    class NoDigits:
        def __len__(self):
            return 3

        def batch_decode(self, ids):
            return ["a", "b", "c"]

    with pytest.raises(ValueError, match="no token that starts a number"):
        NumberGrammar(NoDigits(), (0,), 3)

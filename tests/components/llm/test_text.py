"""Texts from planet parameters: deterministic, rounded, parseable back."""

from __future__ import annotations

import numpy as np
import pytest

from astrobio.components.llm.text import (answer_number, describe_parameter, format_number, is_close, parse_number,
                                          planet_examples, ratio_scale)
from tests.components.llm.helpers import PARAM_NAMES, planet_params


def test_examples_are_a_pure_function_of_planet_and_seed():
    params = planet_params(5)
    a = [planet_examples(p, params[p], PARAM_NAMES, 7, True, 3) for p in range(5)]
    b = [planet_examples(p, params[p], PARAM_NAMES, 7, True, 3) for p in reversed(range(5))][::-1]
    assert a == b
    assert a != [planet_examples(p, params[p], PARAM_NAMES, 8, True, 3) for p in range(5)]


def test_one_question_per_parameter_and_a_short_description():
    params = planet_params(1)[0]
    texts = planet_examples(0, params, PARAM_NAMES, 0, True, 2)
    assert len(texts) == len(PARAM_NAMES) + 1
    numeric = [t for t in texts if t.value is not None]
    assert [t.value for t in numeric] == pytest.approx(list(params))
    for t in numeric:  # the answer is the bare value, rounded
        assert float(t.answer) == parse_number(t.answer) and is_close(float(t.answer), t.value, 0.05)
    describe = texts[-1]
    assert describe.question == "Describe this planet." and describe.value is None
    assert describe.answer.count(" about ") == 2


def test_questions_name_the_unit_and_answers_are_bare_numbers():
    texts = planet_examples(0, np.array([288.4, 0.3, 1.2e-5]), ["T_eq", "albedo", "CH4"], 0, False, 3)
    assert [(t.question, t.answer) for t in texts] == [("Equilibrium temperature in K?", "290"), ("Bond albedo?", "0.3"),
                                                       ("CH4 volume fraction?", "1.2e-5")]


def test_only_ratio_scale_parameters_are_asked():
    """A relative tolerance needs a ratio scale: a signed log quantity gets no numeric question."""
    params = np.array([[300.0, -0.5, 0.2], [250.0, 1.5, 0.4]])
    mask = ratio_scale(params)
    assert mask.tolist() == [True, False, True]
    names = ["T_eq", "log_metallicity", "albedo"]
    texts = planet_examples(1, params[1], names, 0, True, 3, numeric=mask)  # [M/H] = 1.5 > 0 here, still not asked
    assert [t.question for t in texts if t.value is not None] == ["Equilibrium temperature in K?", "Bond albedo?"]
    assert "metallicity [M/H] about 1.5 dex" in texts[-1].answer


@pytest.mark.parametrize("value,text", [(288.4, "290"), (5778.0, "5800"), (0.0123, "0.012"), (0.000244, "2.4e-4"),
                                        (-2.345, "-2.3"), (1.0e-8, "1.0e-8"), (0.0, "0")])
def test_answers_carry_two_significant_figures(value, text):
    assert answer_number(value) == text and is_close(parse_number(text), value, 0.05)


def test_unknown_parameters_read_as_words_and_nan_is_skipped():
    assert describe_parameter("ocean_depth") == ("ocean depth", "")
    texts = planet_examples(0, np.array([1.0, float("nan")]), ["ocean_depth", "radius"], 0, False, 3)
    assert len(texts) == 1 and texts[0].question == "Ocean depth?"


@pytest.mark.parametrize("value,text", [(288.4, "288"), (5778.0, "5780"), (12345.6, "12300"), (0.000123456, "0.000123"),
                                        (1.0, "1"), (-2.345, "-2.35"), (0.0, "0")])
def test_format_number_is_positional(value, text):
    assert format_number(value) == text


@pytest.mark.parametrize("text,value", [("About 288 K.", 288.0), ("The CO2 fraction is 0.0004", 0.0004),
                                        ("about 1,234.5 K", 1234.5), ("-3.5e-2 dex", -0.035), ("no number", None),
                                        ("H2O", None)])
def test_parse_number_ignores_digits_inside_words(text, value):
    assert parse_number(text) == (pytest.approx(value) if value is not None else None)


def test_tolerance_is_relative():
    assert is_close(300.0, 288.0, 0.1) and not is_close(330.0, 288.0, 0.1) and not is_close(None, 1.0, 0.1)

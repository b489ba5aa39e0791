"""One search space, three views that must agree: Optuna, Katib, and `--set` arguments."""

from __future__ import annotations

import math

from kubeflow.katib import ApiClient
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from astrobio.config.overrides import parse_override
from astrobio.config.tune import Parameter
from astrobio.tune.space import TRIAL_NAME_PARAM, SearchSpace, substitute

PARAMS = [
    Parameter(path="optim.lr", type="float", min=1e-5, max=0.05, log=True),
    Parameter(path="components.graph_vae.model.hidden_dim", type="int", min=32, max=256, step=32),
    Parameter(path="components.graph_vae.model.encoder", type="categorical", values=["sage", "gcn"]),
    Parameter(path="components.graph_vae.model.dropout", name="drop", type="float", min=0.0, max=0.5, step=0.1),
    Parameter(path="trainer.deterministic", type="categorical", values=[True, False]),
]
SPACE = SearchSpace(PARAMS)


def test_optuna_distributions_match_the_definition():
    d = SPACE.optuna_distributions()
    assert d["lr"] == FloatDistribution(1e-5, 0.05, log=True)
    assert d["hidden_dim"] == IntDistribution(32, 256, step=32)
    assert d["encoder"] == CategoricalDistribution(["sage", "gcn"])
    assert d["drop"] == FloatDistribution(0.0, 0.5, step=0.1)


def test_katib_parameter_specs_match_the_definition():
    specs = {s["name"]: s for s in ApiClient().sanitize_for_serialization(SPACE.katib_parameters())}
    assert specs["lr"] == {"name": "lr", "parameterType": "double",
                           "feasibleSpace": {"min": "1e-05", "max": "0.05", "distribution": "logUniform"}}
    assert specs["hidden_dim"] == {"name": "hidden_dim", "parameterType": "int",
                                   "feasibleSpace": {"min": "32", "max": "256", "step": "32", "distribution": "uniform"}}
    assert specs["encoder"]["parameterType"] == "categorical"
    assert specs["encoder"]["feasibleSpace"] == {"list": ["sage", "gcn"]}
    assert specs["deterministic"]["feasibleSpace"] == {"list": ["true", "false"]}


def test_set_args_parse_back_to_the_same_values():
    values = {"lr": 3e-4, "hidden_dim": 64, "encoder": "gcn", "drop": 0.2, "deterministic": False}
    for arg, p in zip(SPACE.set_args(values), PARAMS):
        parts, parsed = parse_override(arg)
        assert ".".join(parts) == p.path
        assert parsed == values[p.key] and type(parsed) is type(values[p.key])


def test_katib_strings_substituted_into_placeholders_parse_like_optuna_values():
    """A value Katib substitutes (its feasible-space string) means what the Optuna value means."""
    katib = {s.name: s.feasible_space for s in SPACE.katib_parameters()}
    args = SPACE.placeholder_args()
    for p, arg in zip(PARAMS, args):
        if p.type != "categorical":
            continue
        for text, value in zip(katib[p.key].list, p.values):
            _, parsed = parse_override(substitute(arg, {p.key: text}))
            assert parsed == value and type(parsed) is type(value)
    _, lr = parse_override(substitute(args[0], {"lr": katib["lr"].min}))
    assert math.isclose(lr, 1e-5)


def test_trial_parameters_reference_the_search_space_one_for_one():
    trial = SPACE.katib_trial_parameters()
    searched = [t for t in trial if t.name != TRIAL_NAME_PARAM]
    assert [(t.name, t.reference) for t in searched] == [(k, k) for k in SPACE.keys]
    assert [t.reference for t in trial if t.name == TRIAL_NAME_PARAM] == ["${trialSpec.Name}"]
    assert [a.split("=", 1)[1] for a in SPACE.placeholder_args()] == ["${trialParameters.%s}" % k for k in SPACE.keys]


def test_contains_decides_whether_the_config_values_start_the_study():
    lr, hidden, encoder = PARAMS[:3]
    assert SPACE.contains(lr, 0.01) and not SPACE.contains(lr, 0.5)
    assert SPACE.contains(hidden, 96) and not SPACE.contains(hidden, 100)
    assert SPACE.contains(encoder, "gcn") and not SPACE.contains(encoder, "transformer")
    assert not SPACE.contains(PARAMS[4], 1)  # True is not 1 here


def test_grid_lists_every_point():
    grid = SearchSpace(PARAMS[1:4]).grid()
    assert grid["hidden_dim"] == [32, 64, 96, 128, 160, 192, 224, 256]
    assert grid["drop"] == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]

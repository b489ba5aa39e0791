"""One search space, three views: Optuna distributions, Katib ParameterSpecs, and `--set` arguments.

Both backends hand a trial its values the same way, as `--set <path>=<value>` on the `astrobio
train` command line, so a value means the same thing whichever backend chose it: Optuna's values
go through `format_value` (the exact text `--set` parses back), Katib's arrive as the strings of
its feasible space substituted for `${trialParameters.<name>}`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from astrobio.kube.render.config_args import format_value
from astrobio.config.tune import Parameter, Scalar, grid_values

TRIAL_NAME_PARAM = "trialName"
"""A trial parameter that is not searched: Katib fills it with the trial's name (`${trialSpec.Name}`),
which becomes the trial's run id, so parallel trials never publish to the same artifact prefix."""


def placeholder(name: str) -> str:
    """Katib's substitution marker for a trial parameter."""
    return "${trialParameters.%s}" % name


def katib_number(value: float, integer: bool) -> str:
    """A bound as Katib stores it (a string Go's strconv parses)."""
    return str(int(value)) if integer else f"{value:.12g}"


class SearchSpace:
    """The parameters of a `tune:` section, keyed by their names."""

    def __init__(self, parameters: Sequence[Parameter]) -> None:
        self.parameters = list(parameters)
        self.by_key = {p.key: p for p in self.parameters}

    @property
    def keys(self) -> list[str]:
        return [p.key for p in self.parameters]

    # ---- values -----------------------------------------------------------------------------
    @staticmethod
    def typed(param: Parameter, value: Any) -> Scalar:
        """`value` as the parameter's type (YAML gives 64.0 for an int bound written as 64.0)."""
        if param.type == "int":
            return int(value)
        if param.type == "float":
            return float(value)
        return value

    def extremes(self, param: Parameter) -> list[Scalar]:
        """Values that probe a parameter's validity: both bounds, or every choice."""
        if param.type == "categorical":
            return list(param.values or [])
        return [self.typed(param, param.min), self.typed(param, param.max)]

    def contains(self, param: Parameter, value: Any) -> bool:
        """Whether `value` is a point of the space (used to start a study from the config's values)."""
        if param.type == "categorical":
            return any(type(v) is type(value) and v == value for v in param.values or [])
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return False
        assert param.min is not None and param.max is not None
        if not param.min <= value <= param.max:
            return False
        if param.type == "int" and value != int(value):
            return False
        if param.step is not None:
            offset = (value - param.min) / param.step
            return abs(offset - round(offset)) < 1e-9
        return True

    def set_arg(self, param: Parameter, value: Any) -> str:
        """`path=value`, the text `astrobio train --set` parses back to exactly `value`."""
        return f"{param.path}={format_value(self.typed(param, value))}"

    def set_args(self, values: Mapping[str, Any]) -> list[str]:
        """`path=value` for every parameter, in declaration order."""
        missing = [k for k in self.keys if k not in values]
        if missing:
            raise KeyError(f"no value for parameter(s): {', '.join(missing)}")
        return [self.set_arg(p, values[p.key]) for p in self.parameters]

    def placeholder_args(self) -> list[str]:
        """`path=${trialParameters.<name>}` for every parameter: the Katib trial's `--set` values."""
        return [f"{p.path}={placeholder(p.key)}" for p in self.parameters]

    # ---- Optuna -----------------------------------------------------------------------------
    def optuna_distributions(self) -> dict[str, Any]:
        """name -> optuna distribution (int/float bounds inclusive, as Katib's)."""
        from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

        out: dict[str, Any] = {}
        for p in self.parameters:
            if p.type == "categorical":
                out[p.key] = CategoricalDistribution(list(p.values or []))
            elif p.type == "int":
                out[p.key] = IntDistribution(int(p.min or 0), int(p.max or 0), log=p.log, step=int(p.step or 1))
            else:
                out[p.key] = FloatDistribution(float(p.min or 0), float(p.max or 0), log=p.log, step=p.step)
        return out

    def grid(self) -> dict[str, list[Scalar]]:
        """name -> every value a grid search visits (Katib's grid rule)."""
        return {p.key: grid_values(p) for p in self.parameters}

    # ---- Katib ------------------------------------------------------------------------------
    def katib_parameters(self) -> list[Any]:
        """V1beta1ParameterSpec per parameter: double/int with min/max[/step] and a uniform or
        logUniform distribution, categorical with its list of strings."""
        from kubeflow.katib import V1beta1FeasibleSpace, V1beta1ParameterSpec

        specs = []
        for p in self.parameters:
            if p.type == "categorical":
                space = V1beta1FeasibleSpace(list=[format_value(v) for v in p.values or []])
                kind = "categorical"
            else:
                integer = p.type == "int"
                assert p.min is not None and p.max is not None
                space = V1beta1FeasibleSpace(
                    min=katib_number(p.min, integer), max=katib_number(p.max, integer),
                    step=katib_number(p.step, integer) if p.step is not None else None,
                    distribution="logUniform" if p.log else "uniform",
                )
                kind = "int" if integer else "double"
            specs.append(V1beta1ParameterSpec(name=p.key, parameter_type=kind, feasible_space=space))
        return specs

    def katib_trial_parameters(self, with_trial_name: bool = True) -> list[Any]:
        """V1beta1TrialParameterSpec per parameter (reference = the search-space name), plus (by
        default) the trial-name parameter that pins each trial's run id."""
        from kubeflow.katib import V1beta1TrialParameterSpec

        params = [V1beta1TrialParameterSpec(name=p.key, reference=p.key, description=f"--set {p.path}")
                  for p in self.parameters]
        if with_trial_name:
            params.append(V1beta1TrialParameterSpec(name=TRIAL_NAME_PARAM, reference="${trialSpec.Name}",
                                                    description="the trial's name, used as its run.run_id"))
        return params

    def sample_assignment(self) -> dict[str, str]:
        """One value per placeholder as Katib would substitute it (lower bound / first choice);
        used to check that a substituted trial is a valid PyTorchJob."""
        out: dict[str, str] = {}
        for p in self.parameters:
            first = self.extremes(p)[0]
            out[p.key] = format_value(first) if p.type == "categorical" else katib_number(float(first), p.type == "int")
        out[TRIAL_NAME_PARAM] = "sample-trial"
        return out


def substitute(text: str, values: Mapping[str, str]) -> str:
    """Replace every `${trialParameters.<name>}` in `text` as Katib's trial controller does."""
    for name, value in values.items():
        text = text.replace(placeholder(name), value)
    return text

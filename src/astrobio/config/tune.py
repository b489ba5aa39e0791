"""`tune:` config section: one search-space definition that both backends (Optuna, Katib) read.

Imports only pydantic and the shared config sections, so the root schema can hold
`tune: TuneSection | None` without pulling in optuna or the Katib SDK. Everything that can be
checked without the rest of the config (ranges, types, names, grid size) is checked here, and each
message names the parameter; whether a `path` exists in the config tree needs the resolved
config and is checked by `astrobio.tune.load`.
"""

from __future__ import annotations

import math
import re
from typing import Literal, Union

from pydantic import Field, field_validator, model_validator

from astrobio.sections import Strict

METRIC_NAME = r"^[\w|-]+$"
"""What Katib's StdOut collector (and `KATIB_METRIC_REGEX`) can capture as a metric name."""
PARAM_NAME = r"^[A-Za-z][A-Za-z0-9_]{0,62}$"
"""Usable verbatim in `${trialParameters.<name>}` and as an Optuna parameter name."""
SAFE_VALUE = re.compile(r"^[A-Za-z0-9_.:/+-]+$")
"""Categorical strings travel unquoted through Katib's placeholder substitution and `sh -c`."""
GRID_MAX = 100_000

Scalar = Union[bool, int, float, str]


class Objective(Strict):
    """What a trial is judged by: a metric the trainer prints as `name=value` on stdout."""

    metric: str = Field(..., pattern=METRIC_NAME, description="a printed metric name, e.g. val_auc")
    goal: Literal["min", "max"] = "max"
    target: float | None = Field(None, description="stop once a trial reaches this value (Katib objective.goal)")
    additional_metrics: list[str] = Field(default_factory=list, max_length=64,
                                          description="also collected per trial (Katib additionalMetricNames)")

    @field_validator("additional_metrics")
    @classmethod
    def _names(cls, names: list[str]) -> list[str]:
        for name in names:
            if not re.fullmatch(METRIC_NAME, name):
                raise ValueError(f"'{name}' is not a metric name Katib can collect ([A-Za-z0-9_|-]+)")
        if len(set(names)) != len(names):
            raise ValueError("a metric is listed twice")
        return names

    @model_validator(mode="after")
    def _not_twice(self) -> Objective:
        if self.metric in self.additional_metrics:
            raise ValueError(f"'{self.metric}' is the objective; drop it from additional_metrics")
        return self


class Parameter(Strict):
    """One searched value: a dotted config path (as `--set` takes it) and its range or choices."""

    path: str = Field(..., min_length=1, pattern=r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$")
    name: str | None = Field(None, pattern=PARAM_NAME, description="default: the last segment of path")
    type: Literal["int", "float", "categorical"]
    min: float | None = None
    max: float | None = None
    values: list[Scalar] | None = Field(None, description="categorical choices")
    log: bool = Field(False, description="sample on a log scale (Katib distribution logUniform)")
    step: float | None = Field(None, gt=0, description="quantisation; required for float parameters under grid")

    @property
    def key(self) -> str:
        """The parameter's name in Optuna, in Katib and in `${trialParameters.<key>}`."""
        return self.name or self.path.rsplit(".", 1)[-1]

    @model_validator(mode="after")
    def _consistent(self) -> Parameter:
        where = f"parameter '{self.key}' ({self.path})"
        if self.type == "categorical":
            if self.min is not None or self.max is not None or self.log or self.step is not None:
                raise ValueError(f"{where}: categorical takes `values`, not min/max/log/step")
            if not self.values:
                raise ValueError(f"{where}: empty list of values")
            if len({repr(v) for v in self.values}) != len(self.values):
                raise ValueError(f"{where}: a value is listed twice")
            for value in self.values:
                if isinstance(value, str) and not SAFE_VALUE.fullmatch(value):
                    raise ValueError(f"{where}: value {value!r} must match {SAFE_VALUE.pattern}")
                if isinstance(value, float) and not math.isfinite(value):
                    raise ValueError(f"{where}: value {value!r} is not finite")
            return self
        if self.values is not None:
            raise ValueError(f"{where}: {self.type} takes min/max, not `values`")
        if self.min is None or self.max is None:
            raise ValueError(f"{where}: {self.type} needs both min and max")
        if not (math.isfinite(self.min) and math.isfinite(self.max)):
            raise ValueError(f"{where}: min and max must be finite")
        if self.min >= self.max:
            raise ValueError(f"{where}: empty range (min {self.min:g} >= max {self.max:g})")
        if self.log and self.min <= 0:
            raise ValueError(f"{where}: log scale needs min > 0 (got {self.min:g})")
        if self.type == "int":
            if self.min != int(self.min) or self.max != int(self.max):
                raise ValueError(f"{where}: int bounds must be whole numbers")
            if self.step is not None and self.step != int(self.step):
                raise ValueError(f"{where}: int step must be a whole number")
            if self.log and self.step not in (None, 1):
                raise ValueError(f"{where}: log scale and a step other than 1 cannot be combined")
        elif self.log and self.step is not None:
            raise ValueError(f"{where}: a float on a log scale cannot have a step")
        if self.step is not None and self.step > self.max - self.min:
            raise ValueError(f"{where}: step {self.step:g} is wider than the range")
        return self


class Budget(Strict):
    """How many trials, how many at once, and how many failures end the study."""

    trials: int = Field(12, ge=1, le=10_000)
    parallel: int = Field(1, ge=1, le=1_000)
    max_failed: int | None = Field(None, ge=1, le=10_000, description="default: trials (never stop for failures)")

    @model_validator(mode="after")
    def _parallel(self) -> Budget:
        if self.parallel > self.trials:
            raise ValueError(f"parallel ({self.parallel}) exceeds trials ({self.trials})")
        return self


class EarlyStopping(Strict):
    """Median stopping (Katib `medianstop`, Optuna MedianPruner): stop a trial whose best value so
    far is worse than the median of completed trials at the same step."""

    rule: Literal["none", "median"] = "none"
    min_trials: int = Field(3, ge=1, le=10_000, description="completed trials needed before any stop")
    start_step: int = Field(4, ge=1, le=1_000_000, description="intermediate reports a trial makes before it may be stopped")


class TuneSection(Strict):
    """`tune:` - what to search, by which metric, with which budget."""

    component: str = Field(..., min_length=1, description="registered component trained by every trial")
    name: str | None = Field(None, pattern=r"^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$",
                             description="study / Experiment name; default: run.name")
    objective: Objective
    parameters: list[Parameter] = Field(..., min_length=1, max_length=64)
    budget: Budget = Budget()
    early_stopping: EarlyStopping = EarlyStopping()
    algorithm: Literal["tpe", "random", "grid"] = "tpe"
    seed: int = Field(0, ge=0, le=2**31 - 1, description="sampler seed (Katib random_state)")
    start_from_config: bool = Field(True, description="Optuna, tpe/random: the first trial runs the config's own "
                                                      "values when they lie in the space, so the start point is measured")

    @model_validator(mode="after")
    def _unique_and_grid(self) -> TuneSection:
        keys = [p.key for p in self.parameters]
        for key in keys:
            if keys.count(key) > 1:
                raise ValueError(f"two parameters are named '{key}'; give one an explicit `name`")
        paths = [p.path for p in self.parameters]
        for path in paths:
            if paths.count(path) > 1:
                raise ValueError(f"path '{path}' is searched twice")
        if self.algorithm == "grid":
            size = 1
            for p in self.parameters:
                size *= len(grid_values(p))
            if self.budget.trials > size:
                raise ValueError(f"grid has {size} combinations but budget.trials is {self.budget.trials}")
        return self


def grid_values(p: Parameter) -> list[Scalar]:
    """The finite set a grid search walks (Katib's rule: min, min+step, ... up to max)."""
    if p.type == "categorical":
        return list(p.values or [])
    assert p.min is not None and p.max is not None
    if p.type == "float" and (p.step is None or p.log):
        raise ValueError(f"parameter '{p.key}' ({p.path}): grid needs a linear float with a step")
    step = p.step or 1
    count = int(math.floor((p.max - p.min) / step + 1e-9)) + 1
    if count > GRID_MAX:
        raise ValueError(f"parameter '{p.key}' ({p.path}): {count} grid points is too many")
    if p.type == "int":
        return [int(p.min) + i * int(step) for i in range(count)]
    return [float(f"{p.min + i * step:.12g}") for i in range(count)]

"""Config sections shared by every component: trainer, optimiser, and the component base class.

Every model forbids unknown keys, so a typo is an error that names the key, never a silent default.
"""

from __future__ import annotations

import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator


def _takes_numbers_not_bools(annotation: Any) -> bool:
    """True for int/float fields (optional, or a tuple/list of them) that do not also accept a bool."""
    if annotation in (int, float):
        return True
    if get_origin(annotation) is Annotated:
        return _takes_numbers_not_bools(get_args(annotation)[0])
    args = get_args(annotation)
    if bool in args or not args:
        return False
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_takes_numbers_not_bools(a) for a in args if a is not type(None))
    if get_origin(annotation) in (tuple, list):
        return all(_takes_numbers_not_bools(a) for a in args if a is not Ellipsis)
    return False


class Strict(BaseModel):
    """Base for every config model: unknown keys are errors; values are validated on assignment.

    NaN and infinity are refused in every float field (`allow_inf_nan=False`): pydantic accepts them
    by default, and a `min_delta: .inf` or `lr: .nan` would otherwise pass validation and fail, or
    silently do nothing, hours into a run. A YAML `true` is refused where a number is expected,
    because lax validation would read `max_steps: true` as 1.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_number(cls, value: Any, info: ValidationInfo) -> Any:
        items = value if isinstance(value, (list, tuple)) else (value,)
        if any(isinstance(v, bool) for v in items) and info.field_name is not None:
            field = cls.model_fields.get(info.field_name)
            if field is not None and _takes_numbers_not_bools(field.annotation):
                raise ValueError("expected a number, not a boolean")
        return value


Beta = Annotated[float, Field(ge=0, lt=1)]
"""An Adam moment coefficient; torch.optim.AdamW raises on anything outside [0, 1) at the first step."""


class OptimConfig(Strict):
    """AdamW and its learning-rate schedule."""

    lr: float = Field(1e-3, gt=0, le=10)
    weight_decay: float = Field(0.0, ge=0, le=10)
    betas: tuple[Beta, Beta] = (0.9, 0.999)
    eps: float = Field(1e-8, gt=0, le=1)
    scheduler: Literal["constant", "cosine", "linear"] = "constant"
    warmup_steps: int = Field(0, ge=0, le=10_000_000)
    min_lr_ratio: float = Field(0.0, ge=0, le=1, description="floor of cosine/linear decay, as a fraction of lr")


class EarlyStoppingConfig(Strict):
    """Stop when `metric` has not improved by `min_delta` for `patience` evaluations."""

    metric: str | None = Field(None, description="a metric name the component reports, e.g. val_auc; None = off")
    mode: Literal["max", "min"] = "max"
    patience: int = Field(5, ge=1, le=1_000_000)
    min_delta: float = Field(0.0, ge=0)


class CheckpointConfig(Strict):
    """How often to checkpoint and how many to keep."""

    every: int = Field(50, ge=1, le=10_000_000, description="optimizer steps between checkpoints")
    keep_last: int = Field(3, ge=1, le=1000)


class TrainerConfig(Strict):
    """The one training loop's settings; a component section may override any of them."""

    max_steps: int = Field(200, ge=1, le=100_000_000)
    grad_accum: int = Field(1, ge=1, le=4096)
    clip_grad_norm: float | None = Field(1.0, gt=0)
    amp: Literal["auto", "off", "bf16", "fp16"] = Field("auto", description="auto = bf16 on GPU, off on CPU")
    device: Literal["auto", "cpu", "cuda"] = "auto"
    eval_every: int = Field(50, ge=1, le=10_000_000)
    log_every: int = Field(10, ge=1, le=10_000_000)
    early_stopping: EarlyStoppingConfig = EarlyStoppingConfig()
    checkpoint: CheckpointConfig = CheckpointConfig()
    nan_policy: Literal["stop", "skip", "reduce_lr"] = Field(
        "stop", description="on a NaN/inf loss: stop the run, skip that step, or skip it and multiply the lr by nan_lr_factor")
    nan_lr_factor: float = Field(0.5, gt=0, lt=1, description="reduce_lr: learning-rate multiplier per non-finite step")
    nan_max_consecutive: int = Field(
        10, ge=1, le=1_000_000, description="skip/reduce_lr: this many non-finite steps in a row stop the run")
    deterministic: bool = True
    ddp_timeout_s: int = Field(600, ge=10, le=86_400, description="collective timeout: a dead rank fails the job after this")
    cpu_threads: int | None = Field(
        None, ge=1, le=1024, description="torch intra-op threads when training on CPU; null = torch's default (all cores)")


class ComponentConfig(Strict):
    """Base of every component's section (`components.<name>`): its own trainer/optim overrides,
    merged over the top-level ones when the file is loaded, and optional pre-trained weights."""

    trainer: TrainerConfig = TrainerConfig()
    optim: OptimConfig = OptimConfig()
    init_from: str | None = Field(None, description="weights file loaded before training (state dict, checkpoint, .ckpt, safetensors)")
    init_strict: bool = Field(True, description="refuse missing/unexpected/mis-shaped keys in init_from")


class DownstreamConfig(ComponentConfig):
    """Base of a component that consumes upstream artifacts (phases 2-5).

    `inputs` maps an upstream component name to a local artifact folder. Left empty, `astrobio
    train`/`astrobio run` fill it by fetching `runs/<run_id>/<phase>/<component>/` from the
    artifact store (complete artifacts only), so phase N reads exactly what phase N-1 published.
    """

    inputs: dict[str, str] = Field(default_factory=dict, description="upstream component -> local artifact folder")

"""The knobs of phase 5: time budget, size limits, timing repeats, skip list, alias policy.

They are a parameter of the production step rather than config-file sections, so tests and the
benchmark pass them directly. A compiled KFP pipeline cannot gain parameters without recompiling,
so the step also reads `ASTROBIO_PRODUCTION_*` variables from the environment mapping it is
*given* (the pod's environment, set through the chart's values), never from `os.environ` itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from astrobio.errors import UsageError

PROMOTE_POLICIES = ("if_unset", "always", "never")
ENV_PREFIX = "ASTROBIO_PRODUCTION_"


@dataclass(frozen=True)
class ProductionOptions:
    """Limits for releasing one component (each component gets the whole `budget_s`).

    - budget_s: wall seconds per component for timing, scoring and exporting it; a component whose
      single forward call shows it cannot be timed within it is skipped (e.g. an LLM on a CPU pod).
    - max_parameters / max_weight_bytes: skip before loading models this large.
    - warmup / repeats: untimed and timed forward calls for p50/p95.
    - skip: component names to register only.
    - export: write torch.export / TorchScript programs into the production artifact.
    - promote: set the `production` alias of each newly registered version: if_unset (only when a
      model has none yet), always, or never (promotion stays a human decision: `astrobio models promote`).
    - num_threads: torch CPU threads while timing (None: leave torch's setting).
    """

    budget_s: float = 180.0
    max_parameters: int = 50_000_000
    max_weight_bytes: int = 512 * 2**20
    warmup: int = 3
    repeats: int = 30
    skip: tuple[str, ...] = ()
    export: bool = True
    promote: str = "if_unset"
    num_threads: int | None = None

    def __post_init__(self) -> None:
        if not self.budget_s > 0:
            raise UsageError(f"production budget_s must be > 0, got {self.budget_s}")
        if self.repeats < 1 or self.warmup < 0:
            raise UsageError(f"production repeats must be >= 1 and warmup >= 0, got {self.repeats}, {self.warmup}")
        if self.max_parameters < 1 or self.max_weight_bytes < 1:
            raise UsageError("production max_parameters and max_weight_bytes must be positive")
        if self.promote not in PROMOTE_POLICIES:
            raise UsageError(f"production promote {self.promote!r} is not one of: {', '.join(PROMOTE_POLICIES)}")
        if self.num_threads is not None and self.num_threads < 1:
            raise UsageError(f"production num_threads must be >= 1, got {self.num_threads}")

    @classmethod
    def from_env(cls, env: Mapping[str, str], base: ProductionOptions | None = None) -> ProductionOptions:
        """`base` (defaults) overridden by ASTROBIO_PRODUCTION_<FIELD> entries of `env`, e.g.
        ASTROBIO_PRODUCTION_BUDGET_S=60, ASTROBIO_PRODUCTION_SKIP=llm,galactic."""
        base = base or cls()
        changes: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is None or raw.strip() == "":
                continue
            changes[f.name] = _parse(f.name, raw.strip(), getattr(base, f.name))
        return replace(base, **changes)


def _parse(name: str, raw: str, current: Any) -> Any:
    """Parse one environment value as the type of the field's current value."""
    where = f"{ENV_PREFIX}{name.upper()}={raw!r}"
    try:
        if isinstance(current, bool):
            if raw.lower() not in ("1", "0", "true", "false", "yes", "no"):
                raise ValueError(raw)
            return raw.lower() in ("1", "true", "yes")
        if isinstance(current, tuple):
            return tuple(part.strip() for part in raw.split(",") if part.strip())
        if isinstance(current, float):
            return float(raw)
        if isinstance(current, int) or name == "num_threads":
            return int(raw)
        return raw
    except ValueError:
        raise UsageError(f"{where}: not a valid value for production option {name}") from None

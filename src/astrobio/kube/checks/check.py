"""One line of `astrobio doctor`'s report, shared by the cluster and the local checks, and the two
ways a cluster check starts: ask the probe, or say why it could not."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

from astrobio.kube.checks.probe import ProbeError

Status = Literal["pass", "fail", "warn", "skip"]
T = TypeVar("T")


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""


def probe_or_warn(name: str, question: Callable[[], T], fix: str) -> T | Check:
    """The probe's answer, or a `warn` Check saying it could not be asked (forbidden, unreachable):
    doctor reports what it cannot see instead of guessing."""
    try:
        return question()
    except ProbeError as exc:
        return Check(name, "warn", f"could not check: {exc}", fix)


def existing_or_check(name: str, question: Callable[[], T | None], where: str, fix: str) -> T | Check:
    """As `probe_or_warn`, and a `fail` Check when the object (`where`: namespace/name) is absent."""
    found = probe_or_warn(name, question, fix)
    if found is None:
        return Check(name, "fail", f"{where} does not exist", fix)
    return found

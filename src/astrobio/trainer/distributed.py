"""Distributed setup read from torchrun's environment and nothing else.

torchrun on a laptop and a PyTorchJob on a cluster both set RANK, LOCAL_RANK, WORLD_SIZE,
MASTER_ADDR and MASTER_PORT, so this is the single code path for both.
"""

from __future__ import annotations

import datetime
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from astrobio.errors import UsageError

TORCHRUN_VARS = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


@dataclass(frozen=True)
class DistEnv:
    """This process's place in the job."""

    rank: int = 0
    local_rank: int = 0
    world_size: int = 1
    master_addr: str | None = None
    master_port: int | None = None

    @property
    def is_distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> DistEnv:
        """Parse the torchrun variables; absent means a single process."""
        try:
            world = int(env.get("WORLD_SIZE", "1"))
            rank = int(env.get("RANK", "0"))
            local = int(env.get("LOCAL_RANK", str(rank)))
            port = int(env["MASTER_PORT"]) if env.get("MASTER_PORT") else None
        except ValueError:
            shown = {k: env.get(k) for k in TORCHRUN_VARS if k in env}
            raise UsageError(f"torchrun environment: expected integers in RANK/LOCAL_RANK/WORLD_SIZE/MASTER_PORT, got {shown}") from None
        if world < 1 or not 0 <= rank < world:
            raise UsageError(f"torchrun environment: RANK={rank} must be in [0, WORLD_SIZE={world})")
        return cls(rank, local, world, env.get("MASTER_ADDR"), port)

    def topology(self) -> str:
        """One line printed at start, so a failed multi-node job shows who it thought it was."""
        return (
            f"topology rank={self.rank} local_rank={self.local_rank} world_size={self.world_size} "
            f"master={self.master_addr or '-'}:{self.master_port or '-'}"
        )


def pick_device(requested: str, env: DistEnv) -> torch.device:
    """cuda:<local_rank> when asked for (or auto and available), else cpu."""
    if requested == "cuda" and not torch.cuda.is_available():
        raise UsageError("trainer.device: 'cuda' requested but no CUDA device is available (use 'auto' or 'cpu')")
    if requested == "cuda" or (requested == "auto" and torch.cuda.is_available()):
        return torch.device("cuda", env.local_rank)
    return torch.device("cpu")


def init_process_group(env: DistEnv, device: torch.device, timeout_s: int) -> None:
    """nccl on GPU, gloo on CPU; the timeout makes a dead rank fail the job instead of hanging it."""
    if not env.is_distributed or dist.is_initialized():
        return
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group(
        backend="nccl" if device.type == "cuda" else "gloo",
        init_method="env://",
        rank=env.rank,
        world_size=env.world_size,
        timeout=datetime.timedelta(seconds=timeout_s),
    )


def any_rank_flags(flags: list[bool], env: DistEnv, device: torch.device) -> list[bool]:
    """Each flag OR-ed over all ranks, in one all_reduce: every rank then skips the same step and
    stops at the same step (the loop sends its non-finite-loss and stop-request flags together)."""
    if not env.is_distributed:
        return list(flags)
    value = torch.tensor([1.0 if f else 0.0 for f in flags], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return [bool(v > 0) for v in value.tolist()]


def broadcast_from_main(obj: Any, env: DistEnv) -> Any:
    """Rank 0's `obj` on every rank (pickled over the process group; small objects only)."""
    if not env.is_distributed:
        return obj
    box = [obj if env.is_main else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def barrier(env: DistEnv) -> None:
    if env.is_distributed and dist.is_initialized():
        dist.barrier()


def shutdown(env: DistEnv) -> None:
    if env.is_distributed and dist.is_initialized():
        dist.destroy_process_group()


@dataclass(frozen=True)
class RankExit:
    """How one local rank of a `--nproc` job ended, as torchrun's agent observed it."""

    rank: int
    local_rank: int
    pid: int
    exitcode: int
    timestamp: int = 0

    @property
    def signal_name(self) -> str | None:
        if self.exitcode >= 0:
            return None
        try:
            return signal.Signals(-self.exitcode).name
        except ValueError:
            return f"signal {-self.exitcode}"

    def describe(self) -> str:
        return f"was killed by {self.signal_name}" if self.signal_name else f"exited with code {self.exitcode}"


def first_failure(failures: list[RankExit]) -> RankExit:
    """The rank that brought the job down.

    A rank killed by a signal the launcher does not send itself (SIGKILL from the OOM killer, a
    segfault) is the cause; the other ranks then fail on their broken collectives with ordinary
    errors, often in the same second, so timestamps alone cannot tell them apart.
    """
    def key(f: RankExit) -> tuple[int, int, int]:
        died = f.signal_name is not None and f.signal_name not in ("SIGTERM", "SIGINT")
        return (0 if died else 1, f.timestamp, f.rank)

    return min(failures, key=key)


def run_local_ranks(nproc: int, entrypoint: Sequence[str]) -> list[RankExit]:
    """Run `python <entrypoint>` as `nproc` local ranks under torchrun's agent, in this process.

    In-process (not a `torchrun` child) so the failures come back as data instead of a traceback
    on stderr, and a SIGTERM to this process reaches the agent, which forwards it to every rank.
    Returns the failed ranks, empty when all succeeded.
    """
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import parse_args, run

    try:
        run(parse_args(["--standalone", f"--nproc-per-node={nproc}", *entrypoint]))
    except ChildFailedError as exc:
        return [RankExit(rank, f.local_rank, f.pid, f.exitcode, f.timestamp) for rank, f in sorted(exc.failures.items())]
    return []

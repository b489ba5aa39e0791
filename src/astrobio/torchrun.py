"""`python -m astrobio.torchrun ARGS...`: torchrun (same arguments) whose exit code is the failed rank's own.

A PyTorchJob's container runs this instead of the `torchrun` script because torchrun turns every
failed rank into exit 1 (its `ChildFailedError`, or a `SignalException` after SIGTERM, escapes as
an uncaught exception). With `restartPolicy: ExitCode` the Training Operator reads the container's
exit code and retries only 128-255 (`IsRetryableExitCode`, pkg/util/train/train_util.go, v1.9.0),
so a preempted pod (the trainer checkpoints and exits 143) or an object-store outage (exit 200)
would become permanent failures. Here the code of the rank that brought the job down is passed on:
its own code when it exited, 128 + N when signal N killed it (137 for the OOM killer's SIGKILL),
128 + N when this launcher itself got signal N (143 on eviction), 0 on success.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def rank_exit_code(exitcode: int) -> int:
    """A rank's exit status as a shell reports it: its code, or 128 + N for signal N (torch reports -N)."""
    return 128 - exitcode if exitcode < 0 else exitcode


def main(argv: Sequence[str] | None = None) -> int:
    """Run torchrun's launcher in this process and return the exit code the container should end with."""
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import parse_args, run

    from astrobio.trainer.distributed import RankExit, first_failure

    try:
        run(parse_args(list(sys.argv[1:] if argv is None else argv)))
    except ChildFailedError as exc:
        failures = [RankExit(rank, f.local_rank, f.pid, f.exitcode, f.timestamp) for rank, f in sorted(exc.failures.items())]
        cause = first_failure(failures)
        code = rank_exit_code(cause.exitcode)
        print(f"astrobio.torchrun: rank {cause.rank} {cause.describe()}; exiting {code}", file=sys.stderr, flush=True)
        return code
    except SignalException as exc:
        code = 128 + int(exc.sigval)
        print(f"astrobio.torchrun: got {exc.sigval.name}; the ranks were told to stop; exiting {code}", file=sys.stderr,
              flush=True)
        return code
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""What one run writes while it trains: checkpoints and the best/ weights, in the background on rank
0, and the rule that a full disk is one error line naming what it stopped.

Checkpoints are written in a background thread (`AsyncCheckpointer`): a step waits only for the CPU
copy of the state (and for the previous write, if it is still going). A preemption waits for the
write; so does the end of training, before the run reads or publishes anything.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

from astrobio.errors import AstrobioError, RuntimeFailure, is_disk_full
from astrobio.trainer.checkpoint import MODEL_FILE, save_weights, step_dir
from astrobio.trainer.checkpoint_async import AsyncCheckpointer
from astrobio.trainer.nonfinite import require_finite
from astrobio.trainer.rng import capture_rng
from astrobio.trainer.session import Session


@contextlib.contextmanager
def disk_full_is_a_failure(what: Path | Callable[[], Path]) -> Iterator[None]:
    """A full disk while writing `what` becomes one RuntimeFailure line naming the path (a callable
    is asked after the failure: a background checkpoint write knows which one failed)."""
    try:
        yield
    except Exception as exc:
        if isinstance(exc, AstrobioError) or not is_disk_full(exc):
            raise
        what = what() if callable(what) else what
        file = getattr(exc, "filename", None)
        raise RuntimeFailure(f"no space left on device writing {what}{f' ({file})' if file else ''}; "
                             f"earlier checkpoints are kept; free space and run the same command again "
                             f"to resume") from exc


class Saver:
    """Checkpoints and best/ of one session; on ranks other than 0 it writes nothing."""

    def __init__(self, s: Session) -> None:
        self.s = s
        self.writer = AsyncCheckpointer(s.job.mirror if s.env.is_main else None)
        self.last_saved: int | None = None  # a preemption right after a periodic save just waits for it

    def due(self) -> bool:
        """Every checkpoint.every steps, at the last step, and when early stopping ends the run."""
        s = self.s
        return s.state.step % s.tcfg.checkpoint.every == 0 or s.state.step == s.tcfg.max_steps or s.state.stopped_early

    def save(self, wait: bool = False) -> Path | None:
        """Checkpoint the current step (once); `wait` until it is on disk. Returns its folder on rank 0."""
        s, step = self.s, self.s.state.step
        if not s.env.is_main:
            return None
        path = step_dir(s.out / "checkpoints", step)
        if self.last_saved != step:
            require_finite(s.model, s.spec.name, step, "a checkpoint")
            extra = {"optimizer": s.opt.state_dict(), "scheduler": s.sched.state_dict(), "scaler": s.scaler.state_dict(),
                     "rng": {0: capture_rng()}, "train": s.state.to_dict()}
            path = self.writer.save(s.out / "checkpoints", step, s.model.state_dict(), extra, s.job.config_hash,
                                    s.tcfg.checkpoint.keep_last)  # raises the previous write's error, if any
            self.last_saved = step
        if wait:
            self.writer.wait()
        while self.writer.notes:
            s.warn(self.writer.notes.pop(0))
        return path

    def save_best(self) -> None:
        """The early-stopping weights, to best/ (then mirrored in the background)."""
        s = self.s
        require_finite(s.model, s.spec.name, s.state.step, "best/")
        self.writer.wait()  # an upload of the previous best/ must not see this write
        with disk_full_is_a_failure(s.out / "best" / MODEL_FILE):
            save_weights(s.out / "best" / MODEL_FILE, s.model.state_dict())
        self.writer.mirror(s.out / "best")

    def failed_write(self) -> Path:
        """What a full disk stopped: a background checkpoint write (settled first: it may be the
        write that failed, even when a later metrics write noticed), else the run folder."""
        self.writer.wait(raise_error=False)
        return self.writer.failed_dir or self.s.out

    def wait(self) -> None:
        self.writer.wait()

    def close(self) -> None:
        """Never leave a write behind; on a failing path the error in flight wins, this one is a warning."""
        late = self.writer.wait(raise_error=False)
        if late is not None:
            self.s.warn(f"a checkpoint write also failed: {late}")
        for note in self.writer.notes:
            self.s.warn(note)

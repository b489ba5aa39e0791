"""Where a run resumes: tidy what a killed write left, take the newest checkpoint that verifies,
and fetch a newer one from the store (a `Mirror`) when the pod lost its disk or moved."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from astrobio.trainer.checkpoint import PREFIX, Checkpoint, latest_valid
from astrobio.trainer.checkpoint_async import Mirror


def recover_interrupted_writes(root: Path, warn: Callable[[str], None]) -> None:
    """Tidy what a killed write left under `root`; call once at start, before any new save.

    `.tmp-step-N-*` is a write that never reached its rename: removed. `.old-step-N-*` is the
    previous copy of a step being re-saved; if the kill came between the two renames, `step-N`
    is missing and the old copy is the good one, so it is put back (verification then decides)."""
    if not root.is_dir():
        return
    for path in sorted(root.iterdir()):
        if not path.is_dir():
            continue
        if path.name.startswith(".tmp-"):
            shutil.rmtree(path)
            warn(f"removed unfinished checkpoint write {path.name}")
        elif path.name.startswith(f".old-{PREFIX}"):
            name = path.name[len(".old-"):].rsplit("-", 1)[0]
            if not (root / name).exists():
                os.replace(path, root / name)
                warn(f"restored {name} from {path.name} (a re-save was interrupted)")
            else:
                shutil.rmtree(path)


def resume_point(root: Path, mirror: Mirror | None, warn: Callable[[str], None],
                 say: Callable[[str], None], best: Path | None = None) -> Checkpoint | None:
    """The checkpoint to resume from: the newest valid one under `root`, unless the mirror holds a
    newer one (the pod lost its disk, or restarted elsewhere), which is fetched into `root` first,
    with the early-stopping weights `best` when they are missing here."""
    recover_interrupted_writes(root, warn)
    local = latest_valid(root, warn)
    if mirror is None:
        return local
    root.mkdir(parents=True, exist_ok=True)
    fetched = mirror.restore(root, local.step if local is not None else None, warn)
    if fetched is None:
        return local
    say(f"restored checkpoint {fetched.name} from {mirror.describe()}")
    if best is not None and mirror.restore_folder(best.name, best):
        say(f"restored {best.name}/ from {mirror.describe()}")
    return latest_valid(root, warn)

"""Checkpoints mirrored to the object store, so a run survives the loss of its pod's disk.

A PyTorchJob pod restarted by `restartPolicy: ExitCode`, evicted or rescheduled starts with an empty
working folder. Each checkpoint folder the trainer finishes locally (`step-NNNNNNNN/`) is published
under `<artifact prefix>/checkpoints/step-NNNNNNNN/` with the artifact contract (files, manifest,
COMPLETE last: `publish_dir`), so an upload cut short never looks complete; after each upload the
store keeps the newest `keep_last` complete checkpoints and drops older and unfinished ones
(COMPLETE first, so a half-deleted one is never taken either). At start, when the store holds a
newer complete checkpoint than the local folder, it is fetched (every sha256 checked) under a temp
name and renamed into place, and the trainer resumes from it as from its own.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from astrobio.errors import RuntimeFailure, TransientFailure
from astrobio.store.artifacts import COMPLETE, fetch_dir, publish_dir
from astrobio.store.base import ArtifactStore
from astrobio.store.keys import join_key, validate_prefix

STEP_PREFIX = "step-"
FOLDER = "checkpoints"


def _step_of(name: str) -> int | None:
    digits = name[len(STEP_PREFIX):]
    return int(digits) if name.startswith(STEP_PREFIX) and digits.isdigit() else None


class CheckpointMirror:
    """The checkpoints of one run and component in `store` under `prefix` (…/checkpoints)."""

    def __init__(self, store: ArtifactStore, prefix: str, keep_last: int) -> None:
        self.store = store
        self.prefix = validate_prefix(prefix)
        self.keep_last = max(1, keep_last)

    def describe(self) -> str:
        return self.store.describe(self.prefix)

    def _folders(self) -> dict[int, tuple[str, bool]]:
        """step -> (folder name, complete) for every checkpoint folder in the store."""
        found: dict[int, tuple[str, bool]] = {}
        base = len(self.prefix) + 1
        for key in self.store.list(self.prefix):
            name, _, rest = key[base:].partition("/")
            step = _step_of(name)
            if step is not None:
                done = found.get(step, (name, False))[1] or rest == COMPLETE
                found[step] = (name, done)
        return found

    def complete_steps(self) -> list[int]:
        """Steps with a complete checkpoint in the store, newest first."""
        return sorted((s for s, (_, done) in self._folders().items() if done), reverse=True)

    def upload(self, folder: Path) -> str:
        """Publish the finished local checkpoint `folder` (COMPLETE last), then prune; its URI.
        Any other folder (`best/`, the early-stopping weights) is published under its own name."""
        key = join_key(self.prefix, folder.name)
        publish_dir(self.store, folder, key)
        if _step_of(folder.name) is not None:
            self.prune()
        return self.store.describe(key)

    def restore_folder(self, name: str, dest: Path) -> bool:
        """Fetch the complete folder `name` (e.g. `best`) into `dest` unless `dest` exists; whether it did."""
        key = join_key(self.prefix, name)
        if dest.exists() or not self.store.exists(join_key(key, COMPLETE)):
            return False
        tmp = dest.parent / f".tmp-{dest.name}-restore-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            fetch_dir(self.store, key, tmp)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        os.replace(tmp, dest)
        return True

    def _remove(self, name: str) -> None:
        key = join_key(self.prefix, name)
        self.store.delete(join_key(key, COMPLETE))  # first: from here on no reader takes it
        for stale in self.store.list(key):
            self.store.delete(stale)

    def prune(self) -> None:
        """Keep the newest `keep_last` complete checkpoints; drop older ones and unfinished uploads
        older than the newest complete one (a newer unfinished one may be an upload in flight)."""
        folders = self._folders()
        keep = set(sorted((s for s, (_, done) in folders.items() if done), reverse=True)[:self.keep_last])
        newest = max(keep, default=-1)
        for step, (name, _done) in sorted(folders.items()):
            if step not in keep and step < newest:
                self._remove(name)

    def restore(self, root: Path, newer_than: int | None, warn: Callable[[str], None]) -> Path | None:
        """Fetch the newest complete checkpoint newer than `newer_than` into `root`; its folder, or
        None when the store has nothing newer. One that fails its checksums is reported, removed
        from the store and the next older one tried; an outage is raised (TransientFailure: the
        pod is restarted later), never taken for "no checkpoint", which would restart at step 0."""
        for step in self.complete_steps():
            if newer_than is not None and step <= newer_than:
                return None
            name = f"{STEP_PREFIX}{step:08d}"
            tmp = root / f".tmp-{name}-restore-{os.getpid()}"
            shutil.rmtree(tmp, ignore_errors=True)
            try:
                fetch_dir(self.store, join_key(self.prefix, name), tmp)
            except TransientFailure:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            except RuntimeFailure as exc:
                shutil.rmtree(tmp, ignore_errors=True)
                warn(f"removing checkpoint {name} from {self.describe()}: {exc}")
                self._remove(name)
                continue
            final = root / name
            shutil.rmtree(final, ignore_errors=True)  # an invalid local copy of the same step
            os.replace(tmp, final)
            return final
        return None


def checkpoint_mirror(store: ArtifactStore, artifact_prefix: str, keep_last: int) -> CheckpointMirror | None:
    """The mirror of a run's checkpoints under `<artifact_prefix>/checkpoints`, for a store that
    outlives this machine's disk only (`ArtifactStore.off_machine`, an s3:// store): a local store
    lives on the same disk as the checkpoints and would add nothing. Decided from the class
    attribute, not `isinstance(store, S3Store)`, so a local training never imports minio."""
    return CheckpointMirror(store, join_key(artifact_prefix, FOLDER), keep_last) if store.off_machine else None

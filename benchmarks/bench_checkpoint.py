"""Checkpoint save/load: astrobio vs raw torch.save/torch.load and safetensors of the same state,
background saving during training, and S3 upload vs a single minio `fput_object`.

State: an MLP 1024-2048-2048-1024 (8.4 M parameters, 32 MiB of weights) with its AdamW state
(64 MiB more), scheduler and RNG -- what the trainer saves. Every save writes a new file/folder
(keeping the last 2), as a real run does; variants are interleaved, medians reported.

- astrobio save = `save_checkpoint`: safetensors + weights-only state file, SHA-256 of each, fsync,
  temp folder + rename, prune. Every peer is timed with the same durability: its files and folder
  fsynced before the clock stops. Each sample starts after os.sync(): an un-fsynced torch.save peer
  once measured 212 ms against 87 ms with fsync, because its timed prune unlinked files still under
  writeback and waited for them (and for earlier variants' dirty pages), not because fsync is free.
- astrobio load = what resume does: `latest_valid` (XXH3 of both files) + `load_checkpoint`.
- async: `AsyncCheckpointer.save` blocks only for a CPU snapshot; a training loop on the same model
  checkpointing every K steps is timed with no saving, synchronous and background saving.
- S3: `publish_dir` of the checkpoint folder (files, manifest, COMPLETE marker, through the retrying
  S3Store) vs one `fput_object` of the raw torch.save file, both against moto's S3 server (tests/s3server.py).

Every sample records wall time and CPU time (the process's, so helper threads and the in-process S3
server count; for training steps the training thread's own, which is what a background write must
not add to). On a loaded machine wall ratios are noise, CPU ratios are not: each ratio is the median
of the interleaved pairs' ratios with a ~95% distribution-free bound on that median (`ratio_bound`).
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from astrobio.trainer import checkpoint as ck
from astrobio.trainer.checkpoint_async import AsyncCheckpointer
from astrobio.trainer.rng import capture_rng
from benchmarks.common import Options, Result, Row, interleave, med

KEEP = 2
Sample = tuple[float, float]  # (wall seconds, CPU seconds)


def timed(fn: Callable[[], object], cpu: Callable[[], float] = time.process_time) -> Sample:
    """Wall and CPU seconds of one call."""
    c0, t0 = cpu(), time.perf_counter()
    fn()
    return time.perf_counter() - t0, cpu() - c0


def ratio_bound(ours: list[Sample], peer: list[Sample], which: int) -> dict[str, float]:
    """Median of the paired ratios (sample i of each side was taken back to back) and a ~95% bound on
    it from order statistics (the binomial sign-test interval: no assumption about the noise's shape)."""
    ratios = sorted(a[which] / b[which] for a, b in zip(ours, peer) if b[which] > 0)
    n = len(ratios)
    if n == 0:
        return {"median": float("nan"), "low": float("nan"), "high": float("nan"), "n": 0}
    half = 1.96 * math.sqrt(n) / 2
    low, high = max(0, math.floor(n / 2 - half)), min(n - 1, math.ceil(n / 2 + half) - 1)
    mid = ratios[n // 2] if n % 2 else (ratios[n // 2 - 1] + ratios[n // 2]) / 2
    return {"median": mid, "low": ratios[low], "high": ratios[high], "n": n}


def build(width: int) -> tuple[torch.nn.Module, torch.optim.Optimizer, Any]:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(width // 2, width), torch.nn.ReLU(), torch.nn.Linear(width, width),
                                torch.nn.ReLU(), torch.nn.Linear(width, width // 2))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
    return model, opt, sched


def train_step(model, opt, sched, x) -> None:
    opt.zero_grad(set_to_none=True)
    ((model(x) - x) ** 2).mean().backward()
    opt.step()
    sched.step()


def extra_state(opt, sched, step: int) -> dict[str, Any]:
    return {"optimizer": opt.state_dict(), "scheduler": sched.state_dict(), "rng": {0: capture_rng()},
            "train": {"step": step}}


def fsync_paths(*paths: Path) -> None:
    """fsync files and folders: a peer's save is as durable as astrobio's before its clock stops."""
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class Savers:
    """Each `save_*` writes step `n` (a fresh name) and keeps the newest KEEP, returning seconds."""

    def __init__(self, root: Path, model, opt, sched) -> None:
        self.root, self.model, self.opt, self.sched = root, model, opt, sched
        self.n = 0
        self.async_saver = AsyncCheckpointer()

    def _next(self, kind: str) -> tuple[int, Path]:
        self.n += 1
        folder = self.root / kind
        folder.mkdir(parents=True, exist_ok=True)
        return self.n, folder

    def _prune_files(self, folder: Path, pattern: str) -> None:
        for old in sorted(folder.glob(pattern), key=os.path.getmtime)[:-KEEP]:
            old.unlink()

    def raw_torch(self) -> Sample:
        """torch.save + fsync: the same durability astrobio gives (its files are fsynced too)."""
        n, folder = self._next("raw")
        path = folder / f"ckpt-{n}.pt"

        def save() -> None:
            torch.save({"model": self.model.state_dict(), **extra_state(self.opt, self.sched, n)}, path)
            fsync_paths(path, folder)
            self._prune_files(folder, "ckpt-*.pt")
        return timed(save)

    def raw_safetensors(self) -> Sample:
        n, folder = self._next("st")
        weights, state = folder / f"model-{n}.safetensors", folder / f"state-{n}.pt"

        def save() -> None:
            save_file(dict(self.model.state_dict()), str(weights))
            torch.save(extra_state(self.opt, self.sched, n), state)
            fsync_paths(weights, state, folder)
            self._prune_files(folder, "model-*.safetensors")
            self._prune_files(folder, "state-*.pt")
        return timed(save)

    def astrobio(self) -> Sample:
        n, folder = self._next("astrobio")
        return timed(lambda: ck.save_checkpoint(folder, n, self.model.state_dict(),
                                                extra_state(self.opt, self.sched, n), "bench", KEEP))

    def astrobio_async_stall(self) -> Sample:
        """The training thread's wait (its own CPU: the snapshot copy), the write finishing off the clock."""
        self.async_saver.wait()
        n, folder = self._next("async")
        stall = timed(lambda: self.async_saver.save(folder, n, self.model.state_dict(),
                                                    extra_state(self.opt, self.sched, n), "bench", KEEP),
                      time.thread_time)
        self.async_saver.wait()
        return stall


def loads(root: Path) -> dict[str, Any]:
    raw = sorted((root / "raw").glob("ckpt-*.pt"), key=os.path.getmtime)[-1]
    st = sorted((root / "st").glob("model-*.safetensors"), key=os.path.getmtime)[-1]
    st_state = st.with_name(st.name.replace("model-", "state-").replace(".safetensors", ".pt"))

    return {"raw_torch": lambda: timed(lambda: torch.load(raw, map_location="cpu", weights_only=True)),
            "raw_safetensors": lambda: timed(lambda: (load_file(str(st)),
                                                      torch.load(st_state, map_location="cpu", weights_only=True))),
            "astrobio": lambda: timed(lambda: ck.load_checkpoint(ck.latest_valid(root / "astrobio", lambda m: None)))}


def training_with_saves(width: int, steps: int, every: int, mode: str, root: Path,
                        window: tuple[Callable[[], None], Callable[[], None]] | None = None, window_from: int = 1) -> Sample:
    """Mean seconds per training step over `steps` (wall, and the training thread's CPU), saving
    every `every` steps in `mode`. `window` (open, close) brackets steps `window_from`..`steps` and
    the wait for the last write (benchmarks/bench_instructions.py counts instructions there)."""
    model, opt, sched = build(width)
    x = torch.randn(16, width // 2, generator=torch.Generator().manual_seed(1))
    saver = AsyncCheckpointer()
    folder = root / f"train-{mode}"
    shutil.rmtree(folder, ignore_errors=True)
    train_step(model, opt, sched, x)
    t0, c0 = time.perf_counter(), time.thread_time()
    for step in range(1, steps + 1):
        if window is not None and step == window_from:
            window[0]()
        train_step(model, opt, sched, x)
        if step % every == 0 and mode != "none":  # "none" builds no state either: it only trains
            args = (folder, step, model.state_dict(), extra_state(opt, sched, step), "bench", KEEP)
            if mode == "sync":
                ck.save_checkpoint(*args)
            elif mode == "async":
                saver.save(*args)
            elif mode == "raw":
                folder.mkdir(parents=True, exist_ok=True)
                torch.save({"model": args[2], **args[3]}, folder / f"ckpt-{step}.pt")
                fsync_paths(folder / f"ckpt-{step}.pt", folder)
    elapsed, cpu = time.perf_counter() - t0, time.thread_time() - c0
    saver.wait()  # the last write finishes off the clock: training was not waiting for it
    if window is not None:
        window[1]()
    return elapsed / steps, cpu / steps


def s3_upload(root: Path, repeats: int) -> dict[str, Any]:
    from astrobio.store import RetryPolicy, S3Settings, S3Store, build_client, publish_dir
    from tests.s3server import running_s3_server, unique_bucket

    astro_dir = ck.list_checkpoints(root / "astrobio")[0]
    raw_file = sorted((root / "raw").glob("ckpt-*.pt"), key=os.path.getmtime)[-1]
    with running_s3_server() as server:
        settings = S3Settings.from_env(server.env())
        client = build_client(settings)
        store = S3Store(unique_bucket("bench"), "ckpt", client, settings.url, RetryPolicy())
        store.ensure_bucket()
        counter = [0]

        def ours() -> Sample:
            counter[0] += 1
            return timed(lambda: publish_dir(store, astro_dir, f"run/{counter[0]}"))

        def peer() -> Sample:
            counter[0] += 1
            return timed(lambda: client.fput_object(store.bucket, f"raw/{counter[0]}/ckpt.pt", str(raw_file)))

        samples = interleave({"astrobio": ours, "minio_fput_object": peer}, repeats)
    size = {"astrobio_bytes": sum(p.stat().st_size for p in astro_dir.iterdir()), "raw_bytes": raw_file.stat().st_size}
    return {"samples_s": samples, **size}


def compare(name: str, ours: list[Sample], peer: list[Sample], peer_name: str, goal: str = "report",
            limit: float | None = None) -> Row:
    """A table row: wall medians (the reported figure; `met` judged on them), with the CPU-time ratio
    and both ratios' bounds in the note (what to trust on a loaded machine)."""
    wall, cpu = ratio_bound(ours, peer, 0), ratio_bound(ours, peer, 1)
    ours_ms, peer_ms = med([w for w, _ in ours]) * 1e3, med([w for w, _ in peer]) * 1e3
    note = (f"paired wall ratio {wall['median']:.2f} [{wall['low']:.2f}, {wall['high']:.2f}], CPU ratio "
            f"{cpu['median']:.2f} [{cpu['low']:.2f}, {cpu['high']:.2f}] (~95% bounds, n={cpu['n']})")
    met = None if limit is None else ours_ms / peer_ms <= limit
    return Row(name, ours_ms, peer_ms, "ms", peer_name, goal=goal, met=met, note=note)


def summary(samples: dict[str, list[Sample]]) -> dict[str, Any]:
    """Per variant: wall and CPU medians (ms) and every sample, for the results file."""
    return {k: {"wall_ms": med([w for w, _ in v]) * 1e3, "cpu_ms": med([c for _, c in v]) * 1e3,
                "samples_ms": [[round(w * 1e3, 3), round(c * 1e3, 3)] for w, c in v]} for k, v in samples.items()}


def run(opts: Options) -> Result:
    width = 256 if opts.quick else 2048
    repeats = 1 if opts.quick else 15
    with tempfile.TemporaryDirectory(prefix="bench-ckpt-") as tmp:
        root = Path(tmp)
        model, opt, sched = build(width)
        train_step(model, opt, sched, torch.randn(4, width // 2))
        savers = Savers(root, model, opt, sched)
        save = interleave({"raw_torch_fsync": savers.raw_torch, "raw_safetensors_fsync": savers.raw_safetensors,
                           "astrobio": savers.astrobio, "astrobio_async_stall": savers.astrobio_async_stall},
                          repeats, settle=os.sync)
        load = interleave(loads(root), repeats, settle=os.sync)
        steps, every = (6, 3) if opts.quick else (40, 10)
        train = interleave({m: (lambda m=m: training_with_saves(width, steps, every, m, root))
                            for m in ("none", "raw", "sync", "async")}, 1 if opts.quick else 7, warmup=0,
                           settle=os.sync)
        s3 = s3_upload(root, 1 if opts.quick else 9)
    rows = [
        compare("save vs torch.save + fsync", save["astrobio"], save["raw_torch_fsync"], "torch.save+fsync",
                "<= 1.10", 1.10),
        compare("save vs safetensors + torch.save + fsync", save["astrobio"], save["raw_safetensors_fsync"],
                "safetensors+fsync"),
        compare("async save: training-thread stall", save["astrobio_async_stall"], save["raw_torch_fsync"],
                "torch.save+fsync"),
        compare("load (verify + load) vs torch.load", load["astrobio"], load["raw_torch"], "torch.load", "<= 1.5", 1.5),
        compare(f"train step, async save every {every}", train["async"], train["none"], "no saving", "<= 1.05", 1.05),
        compare(f"train step, sync save every {every}", train["sync"], train["none"], "no saving"),
        compare("S3 upload vs one fput_object", s3["samples_s"]["astrobio"], s3["samples_s"]["minio_fput_object"],
                "minio fput_object", "<= 1.10", 1.10),
    ]
    params = sum(p.numel() for p in model.parameters())
    details = {"state": f"MLP {width // 2}-{width}-{width}-{width // 2}, {params} parameters, AdamW state, scheduler, RNG",
               "repeats": repeats, "checksum": ck.DIGEST, "save": summary(save), "load": summary(load),
               "train_step": summary(train), "train": {"steps": steps, "save_every": every, "batch": 16},
               "s3": summary(s3["samples_s"]), "s3_bytes": {k: v for k, v in s3.items() if k.endswith("bytes")},
               "cpu_time": "process CPU (all threads, the in-process S3 server too); train steps and the async "
                           "stall: the training thread's own CPU"}
    return Result("checkpoint", rows, details)

"""Fault suite: the object store dies or errors in the middle of `astrobio train` publishing its artifact.

End to end: the real CLI trains a tiny graph_vae and publishes to a real S3-protocol server
(tests/s3server.py) running in this process; the server crashes (port closed, open connections
dropped, like a MinIO pod that died) or answers 5xx at an exact request of the upload. What is
measured: the client's retries and backoff (its own log lines), whether COMPLETE ever landed before
every file of the manifest (the server's ordered request log), and whether the published artifact
fetches back with every checksum right. Trials of one kind run side by side, each against its own
server, to keep the suite short on a small machine. The store-level unit tests live in tests/store/.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from astrobio.errors import EXIT_TRANSIENT
from astrobio.store import COMPLETE, MANIFEST, ArtifactStore, fetch_dir, is_complete, open_store, read_manifest
from tests.cli_helpers import ROOT, SMOKE, assert_one_line_error, run_cli
from tests.s3server import Crash, ErrorReply, S3Request, S3TestServer, Served, Verdict, unique_bucket

STEPS = 10
PREFIX = "runs/smoke/pretrain/graph_vae"
FAST = ["--set", "components.graph_vae.data.sources=[textbook]", "--set", "components.graph_vae.trainer.eval_every=10",
        "--set", "components.graph_vae.trainer.early_stopping.metric=null",
        "--set", "components.graph_vae.trainer.checkpoint.every=5", "--set", f"components.graph_vae.trainer.max_steps={STEPS}"]
RETRY_LINE = re.compile(r"S3 (?P<action>[\w ]+) of (?P<where>\S+) at (?P<endpoint>\S+) failed "
                        r"\(attempt (?P<attempt>\d+)/(?P<attempts>\d+): (?P<reason>.*)\); retrying in (?P<delay>[\d.]+)s")
BASE_DELAY, JITTER = 0.5, 0.1  # the CLI's default RetryPolicy: 4 attempts, 0.5 s doubling, +0-10 % jitter


@dataclass
class OnArtifactPut:
    """Hook: from the `nth` PUT of an object of the artifact on, answer `verdict` `times` times to
    that object's PUTs (an artifact's files upload in parallel: the others' PUTs go through)."""

    nth: int
    verdict: Crash | ErrorReply
    times: int = 1
    seen: int = 0
    fired: list[str] = field(default_factory=list)

    def __call__(self, request: S3Request) -> Verdict:
        if request.method != "PUT" or f"/{PREFIX}/" not in f"/{request.key}":
            return None
        self.seen += 1
        if self.fired and request.key != self.fired[0]:
            return None
        if self.seen >= self.nth and len(self.fired) < self.times:
            self.fired.append(request.key)
            return self.verdict
        return None


class Restarter:
    """Brings the server back `outage_s` after it crashed (None: only when told to), timing the outage."""

    def __init__(self, server: S3TestServer, outage_s: float | None) -> None:
        self.server, self.outage_s = server, outage_s
        self.down_s: float | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        if self.outage_s is None or not self.server.crashed.wait(timeout=120):
            return
        time.sleep(self.outage_s)  # the fault itself: how long the store stays dead
        self.server.start()
        self.down_s = time.monotonic() - self.server.crashes[-1]

    def join(self) -> None:
        self._thread.join(timeout=130)


def train_command(bucket: str, out: Path) -> list[str]:
    """`astrobio train` of the tiny graph_vae, publishing to `bucket`."""
    return ["train", "-c", "graph_vae", "--config", str(SMOKE), "--output", str(out), *FAST,
            "--set", f"store.uri=s3://{bucket}/team"]


def train(server: S3TestServer, bucket: str, out: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(*train_command(bucket, out), env={**server.env(), "OMP_NUM_THREADS": "1"})


@dataclass
class Trial:
    """One `astrobio train` against its own server (trials run side by side; a crash must hit only its own)."""

    server: S3TestServer
    bucket: str
    out: Path
    hook: OnArtifactPut
    restarter: Restarter | None = None
    proc: subprocess.Popen[str] | None = None
    stderr: str = ""
    seconds: float = 0.0

    @property
    def store(self) -> ArtifactStore:
        return open_store(f"s3://{self.bucket}/team", self.server.env())


@pytest.fixture
def servers() -> Iterator[Callable[[], S3TestServer]]:
    """A factory of started servers, each stopped at the end."""
    made: list[S3TestServer] = []

    def make() -> S3TestServer:
        made.append(S3TestServer())
        made[-1].start()
        return made[-1]

    yield make
    for srv in made:
        srv.hook = None
        srv.stop()


def run_side_by_side(trials: list[Trial]) -> None:
    """Start every trial's training at once, then collect each one's stderr and wall time."""
    for trial in trials:
        trial.store.ensure_bucket()
        trial.server.hook = trial.hook
        env = {**os.environ, **trial.server.env(), "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
        trial.seconds = time.monotonic()
        trial.proc = subprocess.Popen([sys.executable, "-m", "astrobio", *train_command(trial.bucket, trial.out)],
                                      cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for trial in trials:
        assert trial.proc is not None
        _, trial.stderr = trial.proc.communicate(timeout=300)
        trial.seconds = time.monotonic() - trial.seconds
        if trial.restarter is not None:
            trial.restarter.join()
        trial.server.hook = None
        assert trial.proc.returncode == 0, trial.stderr[-3000:]


def retry_delays(stderr: str, endpoint: str) -> list[float]:
    """The backoff the client announced, checked to be exponential with small jitter and to name the endpoint."""
    found = list(RETRY_LINE.finditer(stderr))
    assert all(m["endpoint"] == endpoint for m in found), stderr
    delays = [float(m["delay"]) for m in found]
    for i, (delay, match) in enumerate(zip(delays, found)):
        step = int(match["attempt"]) - 1
        assert BASE_DELAY * 2**step - 0.01 <= delay <= BASE_DELAY * 2**step * (1 + JITTER) + 0.01, (i, delays)
    return delays


def complete_before_files(served: list[Served], files: list[str]) -> int:
    """How often COMPLETE was stored while a file of the manifest (or the manifest) was not yet stored
    since the last delete of COMPLETE: the one thing a reader must never see."""
    stored: set[str] = set()
    early = 0
    need = {f"team/{PREFIX}/{name}" for name in [*files, MANIFEST]}
    for item in served:
        key, ok = item.request.key, 200 <= item.status < 300
        if item.request.method == "DELETE" and key.endswith(f"/{COMPLETE}") and ok:
            stored.clear()
        elif item.request.method == "PUT" and ok:
            if key == f"team/{PREFIX}/{COMPLETE}" and not need <= stored:
                early += 1
            stored.add(key)
    return early


def verify_published(store: ArtifactStore, out: Path, dest: Path) -> list[str]:
    """Fetch the artifact (every sha256 checked) and compare its weights with the trainer's local copy."""
    manifest = fetch_dir(store, PREFIX, dest)
    local = hashlib.sha256((out / "artifact" / "model.safetensors").read_bytes()).hexdigest()
    assert manifest["files"]["model.safetensors"]["sha256"] == local
    return sorted(manifest["files"])


def test_store_crash_mid_upload_is_ridden_out_by_retries(servers, tmp_path: Path, fault_table) -> None:
    """The store dies on one PUT of the publish and is back within the retry budget (about 3.9 s)."""
    specs = [  # (nth artifact PUT, lost after the write?, outage seconds)
        (1, False, 1.0),   # the first file, before it is stored
        (3, True, 1.0),    # the weights are stored, the answer is lost
        (6, False, 2.4),   # the manifest, down long enough to need the last attempt
    ]
    trials = []
    for i, (nth, after_write, outage) in enumerate(specs):
        server = servers()
        trials.append(Trial(server, unique_bucket(), tmp_path / f"out{i}", OnArtifactPut(nth, Crash(after_write)),
                            Restarter(server, outage)))
    run_side_by_side(trials)
    notes = []
    for i, trial in enumerate(trials):
        assert len(trial.hook.fired) == 1 and trial.restarter is not None and trial.restarter.down_s is not None
        delays = retry_delays(trial.stderr, trial.server.url)
        assert len(delays) >= 2, trial.stderr  # the crashed request, then at least one refused connection
        files = verify_published(trial.store, trial.out, tmp_path / f"dst{i}")
        assert complete_before_files(trial.server.served, files) == 0
        crash = trial.hook.verdict
        assert isinstance(crash, Crash)
        notes.append(f"PUT #{trial.hook.nth} ({trial.hook.fired[0].rsplit('/', 1)[1]}, "
                     f"{'after' if crash.after_write else 'before'} write), down "
                     f"{trial.restarter.down_s:.1f}s: {len(delays)} retries, backoff {'+'.join(f'{d:.2f}' for d in delays)}s")
    fault_table.record("object store crashes mid-upload, back within retry budget", trials=len(trials),
                       survived=len(notes), data_lost=0,
                       detail="; ".join(notes) + "; all exit 0; COMPLETE never before all files (server log); "
                                                 "fetched back with every sha256 and the trainer's weights")


def test_store_down_past_retry_budget_fails_clearly_and_rerun_publishes_without_retraining(
    servers, tmp_path: Path, fault_table,
) -> None:
    """The store stays down: the publish fails naming the endpoint, leaves no COMPLETE; once the store
    is back, the same command resumes from the final checkpoint and publishes without training a step."""
    server = servers()
    bucket = unique_bucket()
    store = open_store(f"s3://{bucket}/team", server.env())
    store.ensure_bucket()
    out = tmp_path / "out"
    server.hook = OnArtifactPut(2, Crash())
    started = time.monotonic()
    proc = train(server, bucket, out)
    failed_after = time.monotonic() - server.crashes[-1]
    server.hook = None
    line = assert_one_line_error(proc, EXIT_TRANSIENT, server.url, "after 4 attempts")  # retried by ExitCode
    assert f"{PREFIX}/" in line
    delays = retry_delays(proc.stderr, server.url)
    assert not any(s.request.key.endswith(COMPLETE) and s.request.method == "PUT" for s in server.served)
    first_weights = hashlib.sha256((out / "artifact" / "model.safetensors").read_bytes()).hexdigest()
    checkpoints = {p.name: p.stat().st_mtime_ns for p in (out / "checkpoints").iterdir()}

    server.start()
    assert not is_complete(store, PREFIX)  # what the store holds after the outage: no marker for the partial upload
    server.served.clear()
    rerun = train(server, bucket, out)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert f"at step {STEPS}" in rerun.stderr and "resumed from" in rerun.stderr
    assert "[graph_vae] step" not in rerun.stderr  # no training step ran again
    assert {p.name: p.stat().st_mtime_ns for p in (out / "checkpoints").iterdir()} == checkpoints
    files = verify_published(store, out, tmp_path / "dst")
    assert read_manifest(store, PREFIX)["files"]["model.safetensors"]["sha256"] == first_weights
    assert complete_before_files(server.served, files) == 0
    fault_table.record(
        "object store down past retry budget, then back (rerun)", trials=1, survived=1, data_lost=0,
        detail=f"publish failed {failed_after:.1f}s after the crash, exit {EXIT_TRANSIENT} (retried by ExitCode), one error line naming {server.url} "
               f"({len(delays)} retries, backoff {'+'.join(f'{d:.2f}' for d in delays)}s incl. the failure report); "
               f"no COMPLETE; rerun resumed at step {STEPS}/{STEPS}, 0 steps retrained, same weights sha256, "
               f"total {time.monotonic() - started:.1f}s")


def test_store_5xx_mid_upload_is_retried(servers, tmp_path: Path, fault_table) -> None:
    """The store answers errors instead of refusing: MinIO's own 503 SlowDown, an ingress's HTML 502."""
    specs = [  # (nth artifact PUT, reply, how many requests in a row get it)
        (2, ErrorReply(503, "SlowDown"), 2),
        (6, ErrorReply(502, None), 3),
    ]
    trials = [Trial(servers(), unique_bucket(), tmp_path / f"out{i}", OnArtifactPut(nth, reply, times=times))
              for i, (nth, reply, times) in enumerate(specs)]
    run_side_by_side(trials)
    notes = []
    for i, trial in enumerate(trials):
        hook = trial.hook
        assert len(hook.fired) == hook.times and len(set(hook.fired)) == 1  # the same object, retried
        delays = retry_delays(trial.stderr, trial.server.url)
        assert len(delays) == hook.times, trial.stderr
        files = verify_published(trial.store, trial.out, tmp_path / f"dst{i}")
        assert complete_before_files(trial.server.served, files) == 0
        reply = hook.verdict
        assert isinstance(reply, ErrorReply)
        notes.append(f"{hook.times}x {reply.status} {reply.code or 'HTML page'} on {hook.fired[0].rsplit('/', 1)[1]}: "
                     f"{len(delays)} retries, backoff {'+'.join(f'{d:.2f}' for d in delays)}s")
    fault_table.record("object store answers 5xx mid-upload", trials=len(trials), survived=len(notes), data_lost=0,
                       detail="; ".join(notes) + "; all exit 0; COMPLETE never before all files; checksums verified")

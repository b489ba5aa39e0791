"""Issue #8, security: store credentials come only from the environment and are never written anywhere.

Known canary keys go into the environment (AWS_* names for training, MINIO_* names for tuning),
then real runs happen against the moto S3 server: a short training that publishes, a two-trial
Optuna study, `astrobio render all`, `render job`, `doctor`, a failure report, and failing runs
(wrong secret, keys in the endpoint URL, keys in store.uri). Every stream, file and store object
they produce is searched for the canaries (plain, base64 and URL-encoded). The Helm chart is
rendered with the canaries as values: they may appear only inside its Secret.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from moto.core.authorization import enable_iam_authentication

from astrobio.store import open_store
from tests.cli_helpers import ROOT, SMOKE
from tests.s3server import TEST_REGION, create_iam_credentials, running_s3_server, unique_bucket
from tests.tune.conftest import tune_tree

ACCESS = "LEAKCANARY-ACCESS-7f3a"
SECRET = "LEAKCANARY-SECRET-91be"
WRONG = "LEAKCANARY-WRONG-3c1d"
FAST = ["--set", "components.graph_vae.data.sources=[textbook]", "--set", "components.graph_vae.trainer.eval_every=5",
        "--set", "components.graph_vae.trainer.early_stopping.metric=null",
        "--set", "components.graph_vae.trainer.checkpoint.every=5", "--set", "components.graph_vae.trainer.max_steps=10"]


def needles(*values: str) -> list[bytes]:
    """Each value as written, base64'd (a Secret's data) and URL-encoded."""
    out = []
    for v in values:
        out += [v.encode(), base64.b64encode(v.encode()), quote(v, safe="").encode()]
    return list(dict.fromkeys(out))


CANARIES = needles(ACCESS, SECRET, WRONG)
URI_WITH_KEYS = "store.uri with user:secret@"


def leaks(data: bytes | str) -> list[str]:
    raw = data.encode() if isinstance(data, str) else data
    return [n.decode() for n in CANARIES if n in raw]


def clean_env() -> dict[str, str]:
    """This process's environment without any store variable (the test sets its own)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MINIO_", "ASTROBIO_S3"))} | {
        "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def files_under(*roots: Path) -> list[Path]:
    return sorted(p for root in roots for p in root.rglob("*") if p.is_file())


def cli(*args: str, env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The real CLI with exactly `env` (no store variable of this process leaks in)."""
    return subprocess.run([sys.executable, "-m", "astrobio", *args], cwd=cwd or ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Iterator[dict]:
    """Every real run, once: their outputs, folders and the bucket they published to."""
    tmp = tmp_path_factory.mktemp("leak")
    with running_s3_server() as server:
        bucket = unique_bucket("leak")
        aws = clean_env() | server.env(ACCESS, SECRET)
        minio = clean_env() | {"ASTROBIO_S3_ENDPOINT": server.url, "MINIO_ACCESS_KEY": ACCESS,
                               "MINIO_SECRET_KEY": SECRET, "AWS_REGION": TEST_REGION}
        open_store(f"s3://{bucket}", aws).ensure_bucket()
        procs: dict[str, subprocess.CompletedProcess[str]] = {}
        procs["train"] = cli("train", "-c", "graph_vae", "--config", str(SMOKE), "--output", str(tmp / "train"),
                             "--set", f"store.uri=s3://{bucket}/team", *FAST, env=aws)
        tree = tune_tree(**{"tune.budget.trials": 2, "trainer.max_steps": 6, "tune.early_stopping": {"rule": "none"},
                            "store": {"uri": f"s3://{bucket}/tune"}})
        (tmp / "tune.yaml").write_text(yaml.safe_dump(tree, sort_keys=False))
        procs["tune"] = cli("tune", "--config", str(tmp / "tune.yaml"), "--output", str(tmp / "tune"), env=minio)
        procs["render all"] = cli("render", "all", "--out", str(tmp / "render"), env=aws)
        procs["render job"] = cli("render", "job", "-c", "graph_vae", "--set", f"store.uri=s3://{bucket}/team", env=aws)
        procs["doctor"] = cli("doctor", "--set", f"store.uri=s3://{bucket}/team", "--output", str(tmp / "train"),
                              env=aws, cwd=tmp)
        report_key = _failure_report(bucket, aws, procs["train"].stderr.splitlines()[-50:])
        objects = _read_bucket(bucket, aws)
        failures = _failing_runs(server, tmp, bucket)
    yield {"tmp": tmp, "procs": procs, "objects": objects, "failures": failures, "bucket": bucket,
           "report_key": report_key}


def _failure_report(bucket: str, env: dict[str, str], tail: list[str]) -> str:
    """A failure record written by astrobio's failure path, for a real S3 error of a client that
    holds the canary keys (the bucket does not exist), with the training's last output as tail."""
    from astrobio.errors import AstrobioError
    from astrobio.failure import save_failure

    store = open_store(f"s3://{bucket}/team", env)
    try:
        open_store(f"s3://{bucket}-missing/x", env).put_bytes("probe", b"x")
    except AstrobioError as exc:
        return save_failure(store, "runs/smoke/pretrain/graph_vae", 0, exc, tail)
    raise AssertionError("writing to a missing bucket succeeded")


def _read_bucket(bucket: str, env: dict[str, str]) -> dict[str, bytes]:
    store = open_store(f"s3://{bucket}", env)
    return {key: store.get_bytes(key) for key in store.list("")}


def _failing_runs(server, tmp: Path, bucket: str) -> dict[str, subprocess.CompletedProcess[str]]:
    train = ["train", "-c", "graph_vae", "--config", str(SMOKE), "--output", str(tmp / "fail"), *FAST]
    host = server.url.split("://", 1)[1]
    out = {
        "endpoint with user:secret@": cli(*train, "--set", f"store.uri=s3://{bucket}/f",
                                          env=clean_env() | {"ASTROBIO_S3_ENDPOINT": f"http://{ACCESS}:{SECRET}@{host}",
                                                             "AWS_ACCESS_KEY_ID": ACCESS, "AWS_SECRET_ACCESS_KEY": SECRET}),
        URI_WITH_KEYS: cli(*train, "--set", f"store.uri=s3://{ACCESS}:{SECRET}@{bucket}/f",
                                           env=clean_env() | server.env(ACCESS, SECRET)),
    }
    access, secret = create_iam_credentials(server)
    with enable_iam_authentication():
        out["wrong secret"] = cli(*train, "--set", f"store.uri=s3://{bucket}/f",
                                  env=clean_env() | server.env(access, WRONG))
    return out


def test_runs_succeeded(runs):
    """The surfaces below are only meaningful if the runs did what they should."""
    procs = runs["procs"]
    for name in ("train", "tune", "render all", "render job", "doctor"):
        assert procs[name].returncode == 0, (name, procs[name].stderr[-2000:])
    assert "team/runs/smoke/pretrain/graph_vae/COMPLETE" in runs["objects"]
    assert (runs["tmp"] / "tune" / "trial-1" / "metrics.jsonl").is_file()  # both trials trained
    assert f"team/{runs['report_key']}" in runs["objects"]


def test_no_secret_in_stdout_or_stderr(runs, fault_table):
    shown = {**runs["procs"], **{k: v for k, v in runs["failures"].items() if k != URI_WITH_KEYS}}
    streams = {f"{name} {which}": getattr(p, which) for name, p in shown.items() for which in ("stdout", "stderr")}
    bad = {name: leaks(text) for name, text in streams.items() if leaks(text)}
    assert not bad, bad
    fault_table.record("secret leak: stdout/stderr", trials=len(streams), survived=len(streams) - len(bad), data_lost=0,
                       detail=f"{len(streams)} streams of train, tune (2 trials), render all/job, doctor, 2 failing runs")


def test_no_secret_in_run_folders(runs, fault_table):
    tmp = runs["tmp"]
    files = files_under(tmp / "train", tmp / "tune")
    kinds = {"metrics.jsonl": 0, "tfevents": 0, "model_card": 0, "config.yaml": 0, "checkpoint": 0, "trial log": 0}
    for f in files:
        for kind in kinds:
            if kind in f.name or (kind == "checkpoint" and "checkpoints" in f.parts) or \
                    (kind == "trial log" and f.suffix == ".log"):
                kinds[kind] += 1
    assert all(kinds.values()), kinds  # every surface the issue names was really produced
    bad = {str(f.relative_to(tmp)): leaks(f.read_bytes()) for f in files if leaks(f.read_bytes())}
    assert not bad, bad
    fault_table.record("secret leak: run folders", trials=len(files), survived=len(files) - len(bad), data_lost=0,
                       detail=", ".join(f"{n} {k}" for k, n in kinds.items()) + f"; {len(files)} files in all")


def test_no_secret_in_store_objects(runs, fault_table):
    objects = runs["objects"]
    failure = [k for k in objects if "/failures/" in k]
    bad = {key: leaks(data) for key, data in objects.items() if leaks(data)}
    assert failure and not bad, (failure, bad)
    fault_table.record("secret leak: store objects", trials=len(objects), survived=len(objects) - len(bad), data_lost=0,
                       detail=f"every object listed and read ({len(failure)} failure report, model cards, configs, "
                              "weights, manifest)")


def test_no_secret_in_rendered_files(runs, fault_table):
    files = files_under(runs["tmp"] / "render")
    assert len(files) > 20
    bad = {str(f): leaks(f.read_bytes()) for f in files if leaks(f.read_bytes())}
    assert not bad, bad
    fault_table.record("secret leak: rendered manifests/pipeline/components/chart files", trials=len(files),
                       survived=len(files) - len(bad), data_lost=0, detail=f"{len(files)} files of `render all`")


def test_chart_keeps_keys_only_in_its_secret(fault_table):
    from tests.chart.helpers import render_files

    values = {"storage": {"endpoint": "http://s3.example:9000", "accessKey": ACCESS, "secretKey": SECRET}}
    rendered = {p: t for p, t in render_files(values).items()}
    assert any(leaks(t) for p, t in rendered.items() if p.endswith("secret.yaml"))  # the search does find them
    bad = {p: leaks(t) for p, t in rendered.items() if not p.endswith("secret.yaml") and leaks(t)}
    assert not bad, bad
    existing = render_files({"storage": {"endpoint": "http://s3.example:9000", "existingSecret": "mine"}})
    assert not [p for p, t in existing.items() if leaks(t)]
    trials = len(rendered) - 1 + len(existing)
    fault_table.record("secret leak: helm chart output", trials=trials, survived=trials, data_lost=0,
                       detail="keys given as values appear only in templates/secret.yaml; none with existingSecret")


def test_failing_runs_do_not_echo_the_secret(runs, fault_table):
    failures = {k: v for k, v in runs["failures"].items() if k != URI_WITH_KEYS}
    errors = {}
    for name, proc in failures.items():
        lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
        assert proc.returncode == 2 and len(lines) == 1, (name, proc.returncode, proc.stderr[-1500:])
        errors[name] = lines[0]
    bad = {name: line for name, line in errors.items() if leaks(line)}
    assert not bad, bad
    assert "user info" in errors["endpoint with user:secret@"]
    fault_table.record("secret leak: error lines of failing runs", trials=len(errors), survived=len(errors) - len(bad),
                       data_lost=0, detail="; ".join(f"{n}: exit 2, one line" for n in errors))


def test_store_uri_with_keys_is_not_echoed(runs, fault_table):
    proc = runs["failures"][URI_WITH_KEYS]
    found = leaks(proc.stdout + proc.stderr)
    fault_table.record("secret leak: store.uri with KEY:SECRET@ (error line)", trials=1, survived=0 if found else 1,
                       data_lost=0, detail=f"exit {proc.returncode}; " + (
                           "error line repeats the access and secret key" if found else "refused, keys not echoed"))
    assert proc.returncode == 2 and not found, proc.stderr[-500:]

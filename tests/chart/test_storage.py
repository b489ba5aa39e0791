"""Storage: secret values only in the Secret, none with existingSecret; MinIO on/off; idempotent bucket Job."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys

import pytest
import yaml

from .helpers import CHART, ROOT, VALUE_SETS, of_kind, render, helm

FAKE = {"accessKey": "AKIAFAKEKEY7F3A", "secretKey": "fake-secret-7f3a-do-not-print", "region": "fake-region-7f3a"}
EXTERNAL = "http://fake-endpoint-7f3a.invalid:9000"
STORE_KEYS = {"ASTROBIO_S3_ENDPOINT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}


def _forms(value: str) -> list[str]:
    return [value, base64.b64encode(value.encode()).decode()]


def _secret_refs(docs):
    return [env["valueFrom"]["secretKeyRef"] for obj in docs if obj["kind"] in ("Job", "Deployment")
            for c in obj["spec"]["template"]["spec"]["containers"] for env in c.get("env", [])
            if "secretKeyRef" in env.get("valueFrom", {})]


def test_fake_keys_appear_only_in_the_secret():
    docs = render({"storage": {"endpoint": EXTERNAL, **FAKE}})
    (secret,) = of_kind(docs, "Secret")
    data = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert data == {"ASTROBIO_S3_ENDPOINT": EXTERNAL, "AWS_ACCESS_KEY_ID": FAKE["accessKey"],
                    "AWS_SECRET_ACCESS_KEY": FAKE["secretKey"], "AWS_REGION": FAKE["region"]}
    for obj in docs:
        if obj is secret:
            continue
        text = yaml.safe_dump(obj)
        # the region is no secret: KFP's launcher needs it in kfp-launcher's providers.s3 (no secret refs there)
        public = obj["kind"] == "ConfigMap" and obj["metadata"]["name"] == "kfp-launcher"
        for key in ("accessKey", "secretKey") if public else ("accessKey", "secretKey", "region"):
            for form in _forms(FAKE[key]):
                assert form not in text, (obj["kind"], obj["metadata"]["name"])
    assert {r["name"] for r in _secret_refs(docs)} == {"astrobio-storage"}
    assert of_kind(docs, "Deployment") == []  # endpoint given: no bundled MinIO


def test_existing_secret_renders_no_secret_value():
    values = VALUE_SETS["existing-minio"]
    docs = render(values)
    assert of_kind(docs, "Secret") == []
    refs = _secret_refs(docs)
    assert refs and {r["name"] for r in refs} == {"astrobio-storage"} == {values["storage"]["existingSecret"]}
    assert STORE_KEYS <= {r["key"] for r in refs}
    docs = render({"storage": {"endpoint": EXTERNAL, "existingSecret": "team-s3"}, "minio": {"enabled": False}})
    assert of_kind(docs, "Secret") == [] and {r["name"] for r in _secret_refs(docs)} == {"team-s3"}


def test_keys_beside_an_existing_secret_are_refused():
    with pytest.raises(helm.HelmRenderError, match="not used with storage.existingSecret"):
        render({"storage": {"existingSecret": "team-s3", "endpoint": EXTERNAL, **FAKE}})


def test_external_endpoint_needs_keys_or_an_existing_secret():
    with pytest.raises(helm.HelmRenderError, match="give storage.accessKey and storage.secretKey"):
        render({"storage": {"endpoint": EXTERNAL}})


def test_bundled_minio_by_default_and_off_when_an_endpoint_is_given():
    docs = render()
    assert [d["metadata"]["name"] for d in docs if d["kind"] in ("Deployment", "Service", "PersistentVolumeClaim")] \
        == ["astrobio-minio"] * 3
    (secret,) = of_kind(docs, "Secret")
    endpoint = base64.b64decode(secret["data"]["ASTROBIO_S3_ENDPOINT"]).decode()
    assert endpoint == "http://astrobio-minio.astrobio.svc.cluster.local:9000"
    assert base64.b64decode(secret["data"]["AWS_SECRET_ACCESS_KEY"]).decode()  # generated when not given
    (deploy,) = of_kind(docs, "Deployment")
    env = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in deploy["spec"]["template"]["spec"]["containers"][0]["env"]
           if "valueFrom" in e}
    assert env["MINIO_ROOT_USER"] == {"name": "astrobio-storage", "key": "AWS_ACCESS_KEY_ID"}
    assert env["MINIO_ROOT_PASSWORD"] == {"name": "astrobio-storage", "key": "AWS_SECRET_ACCESS_KEY"}
    off = render({"storage": {"endpoint": EXTERNAL, **FAKE}})  # minio.enabled stays true: the endpoint wins
    assert not [d for d in off if d["kind"] in ("Deployment", "PersistentVolumeClaim")]
    with pytest.raises(helm.HelmRenderError, match="set storage.endpoint"):
        render({"minio": {"enabled": False}})


def test_hook_jobs_are_post_install_and_upgrade_with_a_backoff_limit():
    jobs = {j["metadata"]["name"]: j for j in of_kind(render(), "Job")}
    assert set(jobs) == {"astrobio-bucket-init", "astrobio-pipeline-upload"}
    for job in jobs.values():
        notes = job["metadata"]["annotations"]
        assert notes["helm.sh/hook"] == "post-install,post-upgrade"
        assert notes["helm.sh/hook-delete-policy"] == "before-hook-creation"  # logs stay until the next upgrade
        assert job["spec"]["backoffLimit"] >= 1 and job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert int(jobs["astrobio-bucket-init"]["metadata"]["annotations"]["helm.sh/hook-weight"]) < \
        int(jobs["astrobio-pipeline-upload"]["metadata"]["annotations"]["helm.sh/hook-weight"])
    args = jobs["astrobio-bucket-init"]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[0] == (CHART / "files" / "scripts" / "bucket_init.py").read_text() and args[1:] == ["astrobio"]
    assert of_kind(render({"bucketInit": {"enabled": False}, "pipelineUpload": {"enabled": False}}), "Job") == []


def test_bucket_init_job_command_is_idempotent_against_a_real_s3_server():
    """Run the Job's container command (python -c <script> BUCKETS) against moto's S3 server."""
    from tests.s3server import running_s3_server, unique_bucket

    (job,) = [j for j in of_kind(render({"storage": {"extraBuckets": ["PLACEHOLDER"]}}), "Job")
              if j["metadata"]["name"].endswith("bucket-init")]
    container = job["spec"]["template"]["spec"]["containers"][0]
    bucket, extra = unique_bucket("chart-init"), unique_bucket("chart-extra")
    argv = [sys.executable, *container["command"][1:], container["args"][0], bucket, extra]
    with running_s3_server() as server:
        env = {**os.environ, **server.env(), "PYTHONPATH": str(ROOT)}
        first = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
        assert first.returncode == 0, first.stderr
        assert f"bucket {bucket}: created" in first.stdout and f"bucket {extra}: created" in first.stdout
        again = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
        assert again.returncode == 0 and f"bucket {bucket}: already exists" in again.stdout
        bad = subprocess.run(argv[:-1], env={**env, "AWS_ACCESS_KEY_ID": ""}, capture_output=True, text=True, timeout=60)
        assert bad.returncode == 1 and "AWS_ACCESS_KEY_ID" in bad.stderr and "Traceback" not in bad.stderr
    assert json.dumps(server.env()["AWS_SECRET_ACCESS_KEY"])[1:-1] not in first.stdout + again.stdout

"""Pipeline upload hook: ships the compiled pipeline, authenticates, and is idempotent (fake KFP API)."""

from __future__ import annotations

import hashlib
import json
import runpy
import sys
import types
from types import SimpleNamespace

import pytest

from .helpers import CHART, ROOT, of_kind, render

SCRIPT = CHART / "files" / "scripts" / "pipeline_upload.py"
PIPELINE = ROOT / "pipelines" / "astrobio-five-phase.yaml"


class FakeKfp:
    """The few kfp.Client calls the script makes, against an in-memory pipeline registry."""

    def __init__(self):
        self.pipelines: dict[str, dict] = {}  # display name -> {"id", "versions", "namespace"}
        self.clients: list[dict] = []

    def module(self) -> types.ModuleType:
        fake = self

        class Client:
            def __init__(self, host, credentials=None, namespace="kubeflow"):
                fake.clients.append({"host": host, "credentials": credentials, "namespace": namespace})

            def list_pipelines(self, filter=None, namespace=None):
                name = json.loads(filter)["predicates"][0]["stringValue"]
                found = [SimpleNamespace(pipeline_id=p["id"]) for n, p in fake.pipelines.items()
                         if n == name and p["namespace"] == namespace]
                return SimpleNamespace(pipelines=found or None)

            def upload_pipeline(self, path, pipeline_name, namespace=None, description=None):
                assert open(path, "rb").read() == PIPELINE.read_bytes()
                fake.pipelines[pipeline_name] = {"id": f"id-{len(fake.pipelines)}", "versions": [pipeline_name],
                                                 "namespace": namespace}
                return SimpleNamespace(pipeline_id=fake.pipelines[pipeline_name]["id"])

            def list_pipeline_versions(self, pipeline_id, filter=None):
                name = json.loads(filter)["predicates"][0]["stringValue"]
                (p,) = [p for p in fake.pipelines.values() if p["id"] == pipeline_id]
                return SimpleNamespace(pipeline_versions=[SimpleNamespace(name=name)] if name in p["versions"] else None)

            def upload_pipeline_version(self, path, version, pipeline_id):
                (p,) = [p for p in fake.pipelines.values() if p["id"] == pipeline_id]
                p["versions"].append(version)

        kfp = types.ModuleType("kfp")
        kfp.Client = Client
        client_mod = types.ModuleType("kfp.client")
        client_mod.ServiceAccountTokenVolumeCredentials = lambda path: ("token-file", path)
        kfp.client = client_mod
        return kfp


@pytest.fixture
def fake_kfp(monkeypatch):
    fake = FakeKfp()
    kfp = fake.module()
    monkeypatch.setitem(sys.modules, "kfp", kfp)
    monkeypatch.setitem(sys.modules, "kfp.client", kfp.client)
    return fake


def _job():
    (job,) = [j for j in of_kind(render(), "Job") if j["metadata"]["name"] == "astrobio-pipeline-upload"]
    return job


def test_the_job_mounts_the_shipped_pipeline_and_a_kfp_token():
    docs = render()
    (cm,) = [d for d in of_kind(docs, "ConfigMap") if d["metadata"]["name"] == "astrobio-pipeline"]
    assert cm["data"]["astrobio-five-phase.yaml"] == PIPELINE.read_text()
    spec = _job()["spec"]["template"]["spec"]
    assert spec["serviceAccountName"] == "astrobio-pipeline-upload"
    container = spec["containers"][0]
    assert container["args"][0] == SCRIPT.read_text()
    assert container["args"][1:] == ["/etc/astrobio/pipeline/astrobio-five-phase.yaml", "astrobio-five-phase"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["KFP_HOST"] == "http://ml-pipeline.kubeflow.svc.cluster.local:8888" and env["KFP_NAMESPACE"] == ""
    (token,) = [v for v in spec["volumes"] if v["name"] == "kfp-token"]
    assert token["projected"]["sources"][0]["serviceAccountToken"]["audience"] == "pipelines.kubeflow.org"
    namespaced = [j for j in of_kind(render({"pipelineUpload": {"namespaced": True}}), "Job")
                  if j["metadata"]["name"] == "astrobio-pipeline-upload"][0]
    env = {e["name"]: e.get("value") for e in namespaced["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["KFP_NAMESPACE"] == "astrobio"


def test_upload_creates_then_versions_then_does_nothing(fake_kfp, monkeypatch, tmp_path, capsys):
    token = tmp_path / "token"
    token.write_text("t")
    monkeypatch.setenv("KFP_HOST", "http://kfp.test:8888")
    monkeypatch.setenv("KFP_TOKEN_PATH", str(token))
    monkeypatch.setenv("CHART_VERSION", "0.1.0")
    monkeypatch.delenv("KFP_NAMESPACE", raising=False)
    main = runpy.run_path(str(SCRIPT), run_name="pipeline_upload")["main"]
    version = f"0.1.0-{hashlib.sha256(PIPELINE.read_bytes()).hexdigest()[:12]}"

    main(str(PIPELINE), "astrobio-five-phase")
    assert fake_kfp.pipelines["astrobio-five-phase"]["versions"] == ["astrobio-five-phase"]
    assert fake_kfp.clients[0]["credentials"] == ("token-file", str(token))
    main(str(PIPELINE), "astrobio-five-phase")  # upgrade: one new version named after the content
    main(str(PIPELINE), "astrobio-five-phase")  # same content again: nothing
    assert fake_kfp.pipelines["astrobio-five-phase"]["versions"] == ["astrobio-five-phase", version]
    out = capsys.readouterr().out
    assert "created pipeline astrobio-five-phase" in out and f"uploaded version {version}" in out
    assert "nothing to do" in out

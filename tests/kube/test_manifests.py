"""Generated manifests/: no drift from the renderer, valid, and free of secret values."""

from __future__ import annotations

import pytest
import yaml

from astrobio.config import load_config
from astrobio.deploy.manifests import render_manifest_files, render_manifests
from astrobio.kube.render.pytorchjob import render_pytorchjob
from astrobio.kube.submission.submit import submit_train
from astrobio.kube.render.trainjob import render_trainjob
from astrobio.kube.validate import check_object, pod_template_errors
from astrobio.catalog import component_names

from .conftest import DEFAULT, ROOT, variant

COMMITTED = ROOT / "manifests"


def test_committed_manifests_match_a_fresh_render(tmp_path):
    written = render_manifests(load_config(DEFAULT), tmp_path)
    fresh = {p.relative_to(tmp_path / "manifests").as_posix(): p.read_bytes() for p in written}
    committed = {p.relative_to(COMMITTED).as_posix(): p.read_bytes() for p in COMMITTED.rglob("*") if p.is_file()}
    assert sorted(fresh) == sorted(committed), "run `astrobio render manifests`"
    for name, data in fresh.items():
        assert committed[name] == data, f"manifests/{name} drifted: run `astrobio render manifests`"


def test_katib_experiments_live_in_their_own_folder():
    """`kubectl apply -f manifests/` (not recursive) applies the PyTorchJobs and needs no Katib CRD."""
    top = [d for p in COMMITTED.glob("*.yaml") for d in yaml.safe_load_all(p.read_text()) if d]
    assert {d["kind"] for d in top} == {"PyTorchJob"}
    katib = [d for p in (COMMITTED / "katib").glob("*.yaml") for d in yaml.safe_load_all(p.read_text()) if d]
    assert katib and {d["kind"] for d in katib} == {"Experiment"}
    for obj in top + katib:
        labels = obj["metadata"]["labels"]
        assert {labels.get(f"app.kubernetes.io/{k}") for k in ("name", "part-of")} == {"astrobio"}
        assert labels["app.kubernetes.io/component"] and labels["app.kubernetes.io/version"]


def test_one_pytorchjob_per_registered_component():
    names = {p.name for p in COMMITTED.glob("pytorchjob-*.yaml")}
    assert names == {f"pytorchjob-{c.replace('_', '-')}.yaml" for c in component_names()}


def test_committed_pytorchjobs_validate():
    for path in COMMITTED.glob("pytorchjob-*.yaml"):
        (job,) = [d for d in yaml.safe_load_all(path.read_text()) if d]
        assert check_object(job) == [], path.name


def test_secret_example_is_commented_and_valid_once_uncommented():
    lines = (COMMITTED / "storage-secret.example.yaml").read_text().splitlines()
    assert all(line.startswith("#") for line in lines)
    assert not [d for d in yaml.safe_load_all("\n".join(lines)) if d]  # kubectl apply -f manifests/ skips it
    start = lines.index("# apiVersion: v1")
    secret = yaml.safe_load("\n".join(line[2:] for line in lines[start:]))
    assert secret["kind"] == "Secret" and secret["metadata"]["name"] == "astrobio-storage"
    assert set(secret["stringData"].values()) == {"REPLACE_ME"}
    assert any("EXAMPLE ONLY" in line for line in lines[:start])
    kubernetes_validate = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate is not installed")
    kubernetes_validate.validate(secret, "1.30", strict=True)


def test_readme_explains_apply_and_secret_first():
    readme = (COMMITTED / "README.md").read_text()
    assert "kubectl apply -f manifests/" in readme and "create secret generic astrobio-storage" in readme
    assert readme.index("create secret generic") < readme.index("kubectl apply -f manifests/")


def test_readme_applies_the_phases_in_order_and_says_what_each_job_reads():
    from astrobio.catalog import phase_of_component

    readme = (COMMITTED / "README.md").read_text()
    applies = [line for line in readme.splitlines() if line.startswith("kubectl apply -f manifests/pytorchjob-")]
    order = [[phase_of_component(f.split("pytorchjob-")[1][:-5].replace("-", "_")).number for f in line.split(" -f ")[1:]]
             for line in applies]
    assert [n for group in order for n in group] == sorted(n for group in order for n in group)
    assert all(len(set(group)) == 1 for group in order) and len(order) == len({n for g in order for n in g})
    for line in applies:  # each phase is waited for before the next
        after = readme.split(line, 1)[1].lstrip("\n").splitlines()[0]
        assert after.startswith("kubectl -n astrobio wait --for=condition=Succeeded")
    fusion = next(row for row in readme.splitlines() if row.startswith("| 2 integrate | `pytorchjob-fusion.yaml`"))
    for upstream in ("graph_vae", "datacube", "spectra", "causal"):
        assert f"/runs/default/pretrain/{upstream}`" in fusion
    assert "kubectl label namespace astrobio katib.kubeflow.org/metrics-collector-injection=enabled" in readme
    assert "kubectl apply -f manifests/katib/" in readme


FAKE = {"ASTROBIO_S3_ENDPOINT": "http://fake-endpoint-7f3a.invalid:9000", "AWS_ACCESS_KEY_ID": "AKIAFAKEKEY7F3A",
        "AWS_SECRET_ACCESS_KEY": "fake-secret-7f3a-do-not-print", "AWS_REGION": "fake-region-7f3a"}


def test_no_secret_value_in_any_rendered_output(monkeypatch):
    for key, value in FAKE.items():
        monkeypatch.setenv(key, value)
    cfg = variant("gpu", "store.uri=s3://astrobio/artifacts")
    outputs = [yaml.safe_dump(render_pytorchjob(cfg, "graph_vae")), yaml.safe_dump(render_trainjob(cfg, "graph_vae")),
               submit_train(cfg, "graph_vae", dry_run=True, env=dict(FAKE), note=lambda _: None),
               *render_manifest_files(cfg).values()]
    for text in outputs:
        for value in FAKE.values():
            assert value not in text
    job = render_pytorchjob(cfg, "graph_vae")
    env = job["spec"]["pytorchReplicaSpecs"]["Worker"]["template"]["spec"]["containers"][0]["env"]
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in env if "valueFrom" in e}
    assert set(refs) >= {"ASTROBIO_S3_ENDPOINT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    assert all(r["name"] == "astrobio-storage" for r in refs.values())
    assert refs["AWS_SECRET_ACCESS_KEY"]["optional"] is False  # s3 store: the pod must not start without it
    assert all("value" not in e for e in env if e["name"].startswith("AWS_"))


def test_every_job_needs_the_store_secret_because_its_store_is_always_s3():
    """A config whose local store.uri is a folder still renders an s3:// job (kube.store_uri), so
    the pod must not start without endpoint and keys."""
    cfg = variant("gpu")
    assert not cfg.store.uri.startswith("s3://")
    env = next(iter(render_pytorchjob(cfg, "graph_vae")["spec"]["pytorchReplicaSpecs"].values()))["template"]["spec"]["containers"][0]["env"]
    required = {e["name"] for e in env if "valueFrom" in e and not e["valueFrom"]["secretKeyRef"]["optional"]}
    assert required == {"ASTROBIO_S3_ENDPOINT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}


def test_pod_templates_of_committed_manifests_pass_kubernetes_schema():
    for path in COMMITTED.glob("pytorchjob-*.yaml"):
        (job,) = [d for d in yaml.safe_load_all(path.read_text()) if d]
        for spec in job["spec"]["pytorchReplicaSpecs"].values():
            assert pod_template_errors(spec["template"]) == []

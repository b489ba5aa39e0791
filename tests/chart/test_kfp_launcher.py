"""The `kfp-launcher` ConfigMap: KFP v2 can upload the steps' Metrics/HTML to the astrobio store."""

from __future__ import annotations

import base64
from typing import Any

import yaml

from .helpers import ROOT, of_kind, render

EXTERNAL = {"storage": {"endpoint": "https://s3.example.org:9443/", "existingSecret": "team-s3", "region": "eu-1"},
            "minio": {"enabled": False}}
S3_DEFAULT_FIELDS = {"endpoint", "credentials", "region", "disableSSL", "forcePathStyle", "maxRetries"}
SECRET_REF_FIELDS = {"secretName", "accessKeyKey", "secretKeyKey"}
"""JSON names of S3ProviderDefault / S3SecretRef in kubeflow/pipelines backend/src/v2/config/s3.go."""


def _launcher(values: dict[str, Any] | None = None) -> dict[str, Any]:
    (cm,) = [d for d in of_kind(render(values), "ConfigMap") if d["metadata"]["name"] == "kfp-launcher"]
    return cm


def _s3_default(cm: dict[str, Any]) -> dict[str, Any]:
    providers = yaml.safe_load(cm["data"]["providers"])
    assert set(providers) == {"s3"}
    assert set(providers["s3"]) == {"default"}
    return providers["s3"]["default"]


def test_bundled_minio_gets_providers_with_the_storage_secret() -> None:
    """KFP's launcher reads ConfigMap `kfp-launcher` in the step pod's namespace, keys
    `defaultPipelineRoot` and `providers` (kubeflow/pipelines backend/src/v2/config/env.go); for an
    s3:// path it takes `providers.s3.default` (backend/src/v2/config/s3.go): without it an s3://
    root falls back to `fromEnv`, which knows nothing of astrobio's MinIO."""
    docs = render()
    cm = _launcher()
    assert cm["metadata"]["namespace"] == "astrobio"
    assert cm["data"]["defaultPipelineRoot"] == "s3://astrobio/artifacts/kfp"  # <store>/kfp, as the compiled pipeline
    default = _s3_default(cm)
    assert set(default) <= S3_DEFAULT_FIELDS and set(default["credentials"]["secretRef"]) == SECRET_REF_FIELDS
    assert default["endpoint"] == "astrobio-minio.astrobio.svc.cluster.local:9000"
    assert default["disableSSL"] is True and default["forcePathStyle"] is True
    assert default["credentials"] == {"fromEnv": False, "secretRef": {
        "secretName": "astrobio-storage", "accessKeyKey": "AWS_ACCESS_KEY_ID", "secretKeyKey": "AWS_SECRET_ACCESS_KEY"}}
    (secret,) = of_kind(docs, "Secret")
    assert secret["metadata"]["name"] == "astrobio-storage"
    assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= set(secret["data"])
    endpoint = base64.b64decode(secret["data"]["ASTROBIO_S3_ENDPOINT"]).decode()
    assert endpoint == "http://" + default["endpoint"]  # the same MinIO the training pods use


def test_an_external_endpoint_and_existing_secret() -> None:
    default = _s3_default(_launcher(EXTERNAL))
    assert default["endpoint"] == "s3.example.org:9443"
    assert default["disableSSL"] is False and default["region"] == "eu-1"
    assert default["credentials"]["secretRef"]["secretName"] == "team-s3"


def test_the_root_is_the_compiled_pipeline_root() -> None:
    compiled = next(yaml.safe_load_all((ROOT / "pipelines" / "astrobio-five-phase.yaml").read_text()))
    assert compiled["defaultPipelineRoot"] == _launcher()["data"]["defaultPipelineRoot"]
    custom = _launcher({"kfpLauncher": {"defaultPipelineRoot": "s3://other/root"}})
    assert custom["data"]["defaultPipelineRoot"] == "s3://other/root"


def test_left_out_when_the_cluster_admin_keeps_kfps_own() -> None:
    names = [d["metadata"]["name"] for d in of_kind(render({"kfpLauncher": {"create": False}}), "ConfigMap")]
    assert "kfp-launcher" not in names and "astrobio-config" in names

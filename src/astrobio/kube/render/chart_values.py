"""Generated part of the Helm chart (`charts/astrobio/`): what Go templates must not re-derive.

The chart's PyTorchJobs must be exactly what `astrobio render manifests` writes. Re-implementing
the renderer in Go templates (the `--set` diff of the config, OMP threads, GPU/elastic branches)
would drift the first time the renderer changes, so the chart ships the renderer's own output:

- `files/pytorchjobs/pytorchjob-<c>.yaml`: byte-for-byte the files of `manifests/`;
- `files/experiments/<name>.yaml`: byte-for-byte `manifests/katib/<name>.yaml`, the Experiment of
  `configs/tune-<name>.yaml` from the one Katib renderer (`astrobio.tune`), for this config's
  cluster settings;
- `files/config.yaml`: the config itself, the ConfigMap's default `config.yaml`;
- `files/astrobio-five-phase.yaml`: the compiled pipeline (`pipelines/`), for the upload Job;
- `files/rendered-for.yaml`: the namespace, service account, Secret and images these files name,
  which the templates compare with the release's values (a mismatch fails the install);
- `values.schema.json`: the values schema, whose `jobs` keys are the catalog's components and
  `experiments` keys the tuning configs (unknown keys rejected everywhere).

The pieces here are pure functions of a config; `astrobio.deploy.chart` assembles and writes the
files (with the Katib Experiments from `astrobio.tune`), and a test renders them again and fails on
any difference. Regenerate with `astrobio render chart` (or `python -m astrobio.deploy.chart`).
"""

from __future__ import annotations

from typing import Any

from astrobio.config import AstrobioConfig
from astrobio.config.kube import cluster_store_uri
from astrobio.kube.render.images import base_ref
from astrobio.catalog import component_names

CHART = "charts/astrobio"
PIPELINE = "astrobio-five-phase.yaml"


def disagreements(exp: dict[str, Any], cfg: AstrobioConfig) -> list[str]:
    """What in an Experiment differs from what files/rendered-for.yaml promises the release."""
    kube = cfg.kube
    problems = [] if exp["metadata"]["namespace"] == kube.namespace else [f"is for namespace {exp['metadata']['namespace']!r}, not {kube.namespace!r}"]
    for replica in exp["spec"]["trialTemplate"]["trialSpec"]["spec"]["pytorchReplicaSpecs"].values():
        pod = replica["template"]["spec"]
        if pod.get("serviceAccountName") != kube.service_account:
            problems.append(f"runs as service account {pod.get('serviceAccountName')!r}, not {kube.service_account!r}")
        for container in pod["containers"]:
            if not container["image"].startswith(f"{kube.image_registry}/") or not container["image"].endswith(f":{kube.image_tag}"):
                problems.append(f"uses image {container['image']}, not {kube.image_registry}/...:{kube.image_tag}")
            secrets = {e["valueFrom"]["secretKeyRef"]["name"] for e in container.get("env", []) if "secretKeyRef" in e.get("valueFrom", {})}
            if secrets - {kube.storage_secret}:
                problems.append(f"reads Secret {sorted(secrets - {kube.storage_secret})[0]!r}, not {kube.storage_secret!r}")
    return problems


def rendered_for(cfg: AstrobioConfig, tuned: list[str]) -> dict[str, Any]:
    """What the shipped jobs name; the chart fails an install whose values disagree."""
    kube = cfg.kube
    return {"namespace": kube.namespace, "serviceAccount": kube.service_account,
            "storeUri": cluster_store_uri(kube, cfg.store.uri), "storageSecret": kube.storage_secret, "imageRegistry": kube.image_registry,
            "imageTag": kube.image_tag, "baseImage": base_ref(kube),
            "components": component_names(), "tuned": sorted(tuned)}


def _string(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **extra}


def _object(properties: dict[str, Any], description: str = "", required: tuple[str, ...] = ()) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": properties}
    if description:
        schema["description"] = description
    if required:
        schema["required"] = list(required)
    return schema


QUANTITY = {"anyOf": [{"type": "string", "pattern": r"^[0-9.]+[a-zA-Z]*$"}, {"type": "number", "minimum": 0}]}
RESOURCES = _object({"requests": {"type": "object", "additionalProperties": QUANTITY},
                     "limits": {"type": "object", "additionalProperties": QUANTITY}},
                    "requests/limits of the container")
STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
K8S_NAME = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
TOLERATIONS = {"type": "array", "items": {"type": "object"}}
IMAGE = _object({"registry": _string("registry prefix"), "repository": _string("image name under the registry"),
                 "tag": _string("tag; empty = the chart's appVersion"),
                 "pullPolicy": {"enum": ["Always", "IfNotPresent", "Never"]}})


SCHEDULING = _object({
    "minAvailable": {"type": "integer", "minimum": 0, "description": "pods placed together; 0 = every pod"},
    "queue": _string("Volcano queue (runPolicy.schedulingPolicy.queue)"),
    "priorityClass": _string("PriorityClass of the PodGroup and pods", pattern=f"^({K8S_NAME[1:-1]})?$"),
    "scheduleTimeoutSeconds": {"type": "integer", "minimum": 0},
    "kueueQueue": _string("Kueue LocalQueue (label kueue.x-k8s.io/queue-name)", pattern=f"^({K8S_NAME[1:-1]})?$"),
}, "gang scheduling and queueing of the shipped PyTorchJobs and Katib trials (= kube.scheduling)")


def _hook_job(description: str, extra: dict[str, Any]) -> dict[str, Any]:
    return _object({"enabled": {"type": "boolean"}, "backoffLimit": {"type": "integer", "minimum": 0, "maximum": 20},
                    "activeDeadlineSeconds": {"type": "integer", "minimum": 60},
                    "resources": RESOURCES, **extra}, description)


def values_schema(tuned: list[str]) -> dict[str, Any]:
    """values.schema.json: wrong types and unknown keys fail `helm install`, naming the key.
    `tuned`: the `experiments` keys (one per shipped tuning config)."""
    names = component_names()
    job = _object({"enabled": {"type": "boolean"}}, "ship this component's PyTorchJob (= manifests/)")
    count = {"type": "integer", "minimum": 1}
    exp = _object({"enabled": {"type": "boolean"}, "maxTrialCount": count, "parallelTrialCount": count,
                   "maxFailedTrialCount": count}, "ship this Katib Experiment (manifests/katib/)")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "astrobio chart values",
        **_object({
            "nameOverride": _string("replaces the chart name in object names"),
            "fullnameOverride": _string("replaces <release>-<chart> in object names"),
            "commonLabels": STRING_MAP,
            "image": IMAGE,
            "imagePullSecrets": {"type": "array", "items": _object({"name": _string("Secret name")}, required=("name",))},
            "serviceAccount": _object({"create": {"type": "boolean"}, "name": _string("= kube.service_account", pattern=K8S_NAME),
                                       "annotations": STRING_MAP}),
            "rbac": _object({"create": {"type": "boolean"},
                             "clusterWide": {"type": "boolean", "description": "ClusterRole + ClusterRoleBinding instead of Role"}}),
            "pipelineRunner": _object({"create": {"type": "boolean"},
                                       "name": _string("token-mounted account for pipeline runs", pattern=K8S_NAME)},
                                      "service account with KFP's runner rules plus PyTorchJob rights"),
            "kfpLauncher": _object({"create": {"type": "boolean"},
                                    "defaultPipelineRoot": _string("empty = s3://<storage.bucket>/kfp", pattern=r"^(s3://.+)?$")},
                                   "the kfp-launcher ConfigMap (KFP v2 storage settings)"),
            "config": {"type": "object", "description": "astrobio run config (configs/*.yaml format) as config.yaml; "
                                                        "empty = files/config.yaml"},
            "storage": _object({
                "endpoint": _string("external S3/MinIO URL, e.g. http://minio.minio.svc:9000; empty = bundled MinIO"),
                "bucket": _string("bucket created by the bucket-init Job", pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"),
                "prefix": _string("folder in the bucket; s3://<bucket>/<prefix> = kube.store_uri", pattern=r"^[^\s]*$"),
                "extraBuckets": {"type": "array", "items": {"type": "string"}},
                "region": _string("AWS_REGION; empty = none"),
                "secretName": _string("= kube.storage_secret", pattern=K8S_NAME),
                "existingSecret": _string("use this Secret; the chart then renders no secret value"),
                "accessKey": _string("AWS_ACCESS_KEY_ID"), "secretKey": _string("AWS_SECRET_ACCESS_KEY")}),
            "minio": _object({
                "enabled": {"type": "boolean", "description": "bundled MinIO, only when storage.endpoint is empty"},
                "image": IMAGE,
                "persistence": _object({"size": {"type": "string"}, "storageClass": {"type": "string"},
                                        "accessMode": {"enum": ["ReadWriteOnce", "ReadWriteOncePod", "ReadWriteMany"]}}),
                "resources": RESOURCES, "nodeSelector": STRING_MAP, "tolerations": TOLERATIONS}),
            "bucketInit": _hook_job("post-install/upgrade Job creating the bucket(s), idempotent", {}),
            "pipelineUpload": _hook_job("post-install/upgrade Job uploading the five-phase pipeline to KFP", {
                "kfpHost": _string("KFP API endpoint", pattern=r"^https?://"),
                "namespaced": {"type": "boolean", "description": "upload into the release namespace (multi-user KFP)"},
                "tokenAudience": _string("audience of the projected token KFP accepts")}),
            "dataVolume": _object({"existingClaim": _string("PVC with the user's data; empty = none", pattern=r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$"),
                                   "mountPath": _string("where it appears in the training containers", pattern=r"^/")}),
            "podResources": RESOURCES,
            "nodeSelector": STRING_MAP,
            "tolerations": TOLERATIONS,
            "jobs": _object({name: job for name in names}, "PyTorchJobs, one per component"),
            "experiments": _object({name: exp for name in sorted(tuned)}, "Katib Experiments, one per configs/tune-*.yaml"),
            "scheduling": SCHEDULING,
        }, required=("image", "serviceAccount", "storage", "jobs")),
    }

"""Pipeline-upload hook of the astrobio chart: put the compiled five-phase pipeline into KFP.

Idempotent: the first install creates the pipeline; an upgrade adds a version named
`<chart version>-<sha256 of the file>` unless a version of that name exists, so re-running the
hook with the same file changes nothing. Authenticates with a projected service-account token
(audience pipelines.kubeflow.org) when one is mounted, as multi-user Kubeflow requires.
Usage: pipeline_upload.py FILE NAME; env KFP_HOST, CHART_VERSION, [KFP_NAMESPACE], [KFP_TOKEN_PATH].
"""

import hashlib
import json
import os
import sys


def name_filter(key: str, value: str) -> str:
    return json.dumps({"predicates": [{"key": key, "operation": "EQUALS", "stringValue": value}]})


def find_pipeline(client, name: str, namespace):  # -> str | None
    found = client.list_pipelines(filter=name_filter("display_name", name), namespace=namespace).pipelines or []
    return found[0].pipeline_id if found else None


def main(path: str, name: str) -> None:
    import kfp
    from kfp.client import ServiceAccountTokenVolumeCredentials

    host = os.environ["KFP_HOST"]
    namespace = os.environ.get("KFP_NAMESPACE") or None
    token = os.environ.get("KFP_TOKEN_PATH", "")
    with open(path, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()[:12]
    version = f"{os.environ.get('CHART_VERSION', '0')}-{digest}"
    where = f"namespace {namespace}" if namespace else "shared"
    print(f"KFP {host}: pipeline {name} ({where}), version {version}", flush=True)
    credentials = ServiceAccountTokenVolumeCredentials(path=token) if token and os.path.exists(token) else None
    client = kfp.Client(host=host, credentials=credentials, namespace=namespace or "kubeflow")
    pipeline_id = find_pipeline(client, name, namespace)
    if pipeline_id is None:
        created = client.upload_pipeline(path, pipeline_name=name, namespace=namespace,
                                         description="astrobio five-phase training pipeline (uploaded by the Helm chart)")
        print(f"created pipeline {name} (id {created.pipeline_id})", flush=True)
        return
    versions = client.list_pipeline_versions(pipeline_id, filter=name_filter("display_name", version)).pipeline_versions or []
    if versions:
        print(f"pipeline {name} already has version {version}; nothing to do", flush=True)
        return
    client.upload_pipeline_version(path, version, pipeline_id=pipeline_id)
    print(f"uploaded version {version} of pipeline {name} (id {pipeline_id})", flush=True)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: pipeline_upload.py FILE NAME")
    try:
        main(sys.argv[1], sys.argv[2])
    except Exception as exc:  # noqa: BLE001 - one clear line in the Job log, then the Job retries
        sys.exit(f"pipeline upload failed: {exc.__class__.__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}")

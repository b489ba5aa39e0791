"""Check rendered objects before anything is written or submitted.

Three layers, each catching what the others miss:
1. the upstream CRD schema (JSON Schema draft-07 derived from the CRD, shipped as package data in `astrobio/schemas/json`, see its SOURCES.md),
   which is what the API server applies; plus a walk that reports fields the CRD does not
   declare, which the API server would silently prune (a typo there is a setting lost);
2. the training operator's admission-webhook rules for PyTorchJobs (container `pytorch`, image
   set, exactly one Master, Worker present in elastic mode, DNS-1035 name);
3. every pod template against the Kubernetes OpenAPI schema in strict mode (kubernetes-validate),
   which the CRD schema leaves loose.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator

from astrobio.errors import UsageError
from astrobio.kube.render.naming import is_dns_1035

K8S_VERSION = "1.30"
"""Kubernetes API version pod templates are checked against (the kubernetes client here is 30.x)."""

SCHEMA_FILES: dict[tuple[str, str], str] = {
    ("kubeflow.org/v1", "PyTorchJob"): "pytorchjob_v1.json",
    ("trainer.kubeflow.org/v1alpha1", "TrainJob"): "trainjob_v1alpha1.json",
    ("trainer.kubeflow.org/v1alpha1", "ClusterTrainingRuntime"): "clustertrainingruntime_v1alpha1.json",
    ("kubeflow.org/v1beta1", "Experiment"): "experiment_v1beta1_openapi.json",
    ("kubeflow.org/v1beta1", "Trial"): "trial_v1beta1_openapi.json",
    ("kubeflow.org/v1beta1", "Suggestion"): "suggestion_v1beta1_openapi.json",
}
MAX_SHOWN = 3


class SchemaUnavailable(UsageError):
    """The upstream schema folder is missing: nothing can be checked, so nothing is claimed valid."""


class ManifestInvalid(UsageError):
    """A rendered object breaks a schema or rule; `errors` lists every problem as 'path: message'."""

    def __init__(self, what: str, errors: list[str]):
        self.errors = errors
        shown = "; ".join(errors[:MAX_SHOWN])
        more = f" (+{len(errors) - MAX_SHOWN} more)" if len(errors) > MAX_SHOWN else ""
        super().__init__(f"{what} is invalid: {shown}{more}")


def default_schema_dir() -> Path:
    """The upstream schemas shipped inside the package (`astrobio/schemas`, with SOURCES.md and
    licences), found through importlib.resources so an installed wheel finds them too."""
    return Path(str(resources.files("astrobio") / "schemas"))


def schema_json_dir(schema_dir: Path | None = None) -> Path:
    """The `json/` folder of the schemas; SchemaUnavailable (one line) when it is absent."""
    base = Path(schema_dir) if schema_dir is not None else default_schema_dir()
    folder = base / "json" if (base / "json").is_dir() else base
    if not folder.is_dir() or not any(folder.glob("*.json")):
        raise SchemaUnavailable(f"upstream CRD schemas not found at {base} (expected the package's astrobio/schemas "
                                "folder, or pass schema_dir); objects cannot be validated")
    return folder


@functools.lru_cache(maxsize=16)
def _load(path: str) -> Draft7Validator:
    schema = json.loads(Path(path).read_text(encoding="utf-8"))
    return Draft7Validator(schema)


def schema_for(obj: dict[str, Any], schema_dir: Path | None = None) -> Draft7Validator:
    key = (str(obj.get("apiVersion")), str(obj.get("kind")))
    if key not in SCHEMA_FILES:
        raise UsageError(f"no upstream schema for apiVersion={key[0]} kind={key[1]}")
    path = schema_json_dir(schema_dir) / SCHEMA_FILES[key]
    if not path.is_file():
        raise SchemaUnavailable(f"schema file {path} is missing")
    return _load(str(path))


def _path(parts: Any) -> str:
    return ".".join(str(p) for p in parts) or "<root>"


def _short(message: str, limit: int = 160) -> str:
    return message if len(message) <= limit else message[: limit - 3] + "..."


def schema_errors(obj: dict[str, Any], validator: Draft7Validator) -> list[str]:
    """Every draft-07 violation as 'path: message', in path order."""
    errors = sorted(validator.iter_errors(obj), key=lambda e: [str(p) for p in e.absolute_path])
    return [f"{_path(e.absolute_path)}: {_short(e.message)}" for e in errors]


def _open(schema: dict[str, Any]) -> bool:
    return bool(schema.get("x-kubernetes-preserve-unknown-fields")) or "properties" not in schema


def resolved(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """`schema` with local `$ref`s followed and `allOf` parts merged into one set of properties.

    Katib's typed schemas start `allOf: [{$ref: #/definitions/v1beta1.Experiment}]`; without
    this every field below the root would look undeclared."""
    seen = 0
    while "$ref" in schema and seen < 64:
        ref = str(schema["$ref"])
        if not ref.startswith("#/"):
            raise ValueError(f"schema reference {ref!r} is not local")
        node: Any = root
        for part in ref[2:].split("/"):
            node = node[part]
        schema, seen = {**node, **{k: v for k, v in schema.items() if k != "$ref"}}, seen + 1
    if "allOf" not in schema:
        return schema
    merged = {k: v for k, v in schema.items() if k != "allOf"}
    for part in schema["allOf"]:  # the schema's own keys win over what its parts declare
        sub = resolved(part, root)
        merged["properties"] = {**sub.get("properties", {}), **merged.get("properties", {})}
        merged.update({k: v for k, v in sub.items() if k != "properties" and k not in merged})
    return merged


def pruned_fields(obj: Any, schema: dict[str, Any], path: tuple[Any, ...] = (), root: dict[str, Any] | None = None,
                  consequence: str = "the API server would prune it") -> Iterator[str]:
    """Paths of fields the schema does not declare: a structural CRD schema's are dropped by the API
    server; the fields Katib's Go types lack are kept but ignored (say so with `consequence`)."""
    root = schema if root is None else root
    schema = resolved(schema, root)
    if isinstance(obj, dict) and schema.get("type") in (None, "object"):
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, value in obj.items():
            if key in props:
                yield from pruned_fields(value, props[key], (*path, key), root, consequence)
            elif isinstance(extra, dict):
                yield from pruned_fields(value, extra, (*path, key), root, consequence)
            elif not _open(schema) and extra is not True:
                yield f"{_path((*path, key))}: unknown field ({consequence})"
    elif isinstance(obj, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(obj):
            yield from pruned_fields(item, schema["items"], (*path, index), root, consequence)


def pytorchjob_rule_errors(obj: dict[str, Any]) -> list[str]:
    """The training operator's webhook rules (v1.9 pytorchjob_webhook.go), checked offline."""
    errors = []
    name = obj.get("metadata", {}).get("name", "")
    if not is_dns_1035(str(name)):
        errors.append(f"metadata.name: {name!r} is not a DNS-1035 label")
    spec = obj.get("spec", {})
    replicas = spec.get("pytorchReplicaSpecs") or {}
    if not replicas:
        errors.append("spec.pytorchReplicaSpecs: must be set")
    if spec.get("elasticPolicy") is not None and "Worker" not in replicas:
        errors.append("spec.pytorchReplicaSpecs.Worker: must be configured if elastic policy is used")
    for role, rspec in replicas.items():
        where = f"spec.pytorchReplicaSpecs.{role}"
        if role not in ("Master", "Worker"):
            errors.append(f"{where}: replica type must be Master or Worker")
        containers = ((rspec or {}).get("template") or {}).get("spec", {}).get("containers") or []
        if not any(isinstance(c, dict) and c.get("name") == "pytorch" for c in containers):
            errors.append(f"{where}.template.spec.containers: must have a container named pytorch")
        if any(isinstance(c, dict) and not c.get("image") for c in containers):
            errors.append(f"{where}.template.spec.containers: every container needs an image")
        if role == "Master" and (rspec or {}).get("replicas") != 1:
            errors.append(f"{where}.replicas: must be 1")
    return errors


def pod_templates(obj: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(where, pod template) pairs of a PyTorchJob or TrainJob."""
    if obj.get("kind") == "PyTorchJob":
        replicas = obj.get("spec", {}).get("pytorchReplicaSpecs") or {}
        return [(f"spec.pytorchReplicaSpecs.{role}.template", (r or {}).get("template") or {})
                for role, r in replicas.items()]
    if obj.get("kind") == "TrainJob":
        from astrobio.kube.render.trainjob import effective_pod_template

        return [("spec.trainer+runtimePatches[node]", effective_pod_template(obj))]
    return []


def pod_template_errors(template: dict[str, Any], version: str = K8S_VERSION) -> list[str]:
    """Strict Kubernetes OpenAPI check of one pod template (kubernetes-validate; the kubernetes
    client's model deserialisation where that package is not installed)."""
    wrapped = {"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "check"}, "template": template}
    try:
        import kubernetes_validate
    except ImportError:
        return _client_model_errors(template)
    try:
        kubernetes_validate.validate(wrapped, version, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return [f"{_path(list(exc.path)[1:])}: {_short(exc.message)}"]
    return []


def _client_model_errors(template: dict[str, Any]) -> list[str]:
    """Fallback: the kubernetes client's models reject missing required fields (not wrong types)."""
    from kubernetes.client import ApiClient

    class _Response:
        data = json.dumps(template)

    try:
        ApiClient().deserialize(_Response(), "V1PodTemplateSpec")
    except (ValueError, TypeError) as exc:
        return [f"template: {_short(str(exc))}"]
    return []


def check_object(obj: dict[str, Any], schema_dir: Path | None = None, version: str = K8S_VERSION,
                 require_schema: bool = True) -> list[str]:
    """Every problem found in `obj` (empty when valid). Without the schema folder: SchemaUnavailable,
    or, with `require_schema=False`, only the checks that need no upstream file."""
    errors: list[str] = []
    try:
        validator = schema_for(obj, schema_dir)
    except SchemaUnavailable:
        if require_schema:
            raise
    else:
        errors += schema_errors(obj, validator)
        errors += list(pruned_fields(obj, validator.schema))
    if obj.get("kind") == "PyTorchJob":
        errors += pytorchjob_rule_errors(obj)
    for where, template in pod_templates(obj):
        errors += [f"{where}.{e}" for e in pod_template_errors(template, version)]
    return list(dict.fromkeys(errors))


def validate_object(obj: dict[str, Any], schema_dir: Path | None = None, version: str = K8S_VERSION,
                    require_schema: bool = True) -> None:
    """Raise ManifestInvalid (one line, every problem in `.errors`) unless `obj` passes all checks."""
    errors = check_object(obj, schema_dir, version, require_schema)
    if errors:
        name = obj.get("metadata", {}).get("name", "?") if isinstance(obj.get("metadata"), dict) else "?"
        raise ManifestInvalid(f"{obj.get('kind', 'object')} {name}", errors)


def validate_or_note(obj: dict[str, Any], note: Callable[[str], None]) -> None:
    """`validate_object`; when the upstream schema folder is missing, say so through `note` and run
    the checks that need no upstream file (a command that prints or submits one object never
    claims a schema check it did not make)."""
    try:
        validate_object(obj)
    except SchemaUnavailable as exc:
        note(f"note: {exc}; checking the pod template only")
        validate_object(obj, require_schema=False)

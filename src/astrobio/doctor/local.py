"""`astrobio doctor`'s reliability and security checks of this machine (no cluster, no network).

- config-secrets: keys come from the environment or a Kubernetes Secret, never a config file
  (DESIGN.md), so a secret-looking value in the file given with --config is flagged by key path
  and line, and the value itself is never repeated.
- disk: free space where checkpoints and a local store are written; a full disk fails a run at
  its next checkpoint, long after the start.
- checkpoints: every checkpoint under the output folder verifies (meta + SHA-256), read-only;
  a bad one is named, since resuming skips it silently apart from one warning line.
- audit: the date and result of the last `make audit` (benchmarks/results/audit.json).

Each function returns a `Check` (data), so tests need no real disk to fill or secret to leak.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from astrobio.kube.checks.check import Check

MIN_FREE_GB = 5.0
"""Below this, a GPU-scale run (checkpoints of a few GB, kept last-N) is likely to fill the disk."""
AUDIT_MAX_AGE_DAYS = 30
SECRET_KEY_NAMES = re.compile(
    r"(secret|passw(or)?d|token|credential|private[_-]?key|access[_-]?key|api[_-]?key)", re.IGNORECASE)
URL_USERINFO = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s@:]+:[^/\s@]+@", re.IGNORECASE)
AWS_KEY_ID = re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")
HARMLESS_KEYS = frozenset({"storage_secret", "secret_name", "existing_secret", "secretname", "existingsecret",
                           "token_path", "tokenaudience", "token_audience"})
"""Keys that name a Secret or a path rather than hold one (kube.storage_secret, chart values)."""


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}[{i}]")
    else:
        yield path, node


def _line_of(text: str, needle: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    return None


def secret_findings(text: str) -> list[str]:
    """Where `text` (a YAML config) seems to hold a secret: 'key.path (line N): why', values omitted."""
    try:
        tree = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return [f"not valid YAML ({exc.__class__.__name__}); cannot check"]
    findings = []
    for path, value in _walk(tree):
        if not isinstance(value, str) or not value.strip():
            continue
        leaf = path.rsplit(".", 1)[-1].split("[", 1)[0]
        why = None
        if URL_USERINFO.search(value):
            why = "a URL with user:password@"
        elif AWS_KEY_ID.search(value):
            why = "an AWS access key id"
        elif SECRET_KEY_NAMES.search(leaf) and leaf.lower() not in HARMLESS_KEYS:
            why = f"a value under a secret-looking key '{leaf}'"
        if why:
            line = _line_of(text, value)
            findings.append(f"{path}{f' (line {line})' if line else ''}: {why}")
    return findings


def config_secrets_check(config: Path | None) -> Check:
    """Warn when the --config file holds something that belongs in the environment or a Secret."""
    if config is None:
        return Check("config-secrets", "skip", "no --config given (built-in defaults hold no secret)")
    try:
        text = config.read_text(encoding="utf-8")
    except OSError as exc:
        return Check("config-secrets", "warn", f"cannot read {config}: {exc.strerror or exc}")
    found = secret_findings(text)
    if not found:
        return Check("config-secrets", "pass", f"{config}: no secret-looking values (keys come from the environment)")
    return Check("config-secrets", "warn", f"{config}: {'; '.join(found)}",
                 "remove it from the file; set ASTROBIO_S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY "
                 "in the environment (or a Kubernetes Secret) and rotate the exposed key")


def _existing(path: Path) -> Path:
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return probe


def disk_check(places: dict[str, Path], min_free_gb: float = MIN_FREE_GB,
               usage: Callable[[Path], Any] = shutil.disk_usage) -> Check:
    """Free space on the filesystem of each place (or its nearest existing parent)."""
    if not places:
        return Check("disk", "skip", "nothing written locally (s3:// store, no output folder)")
    parts, low = [], []
    for label, path in places.items():
        where = _existing(path)
        try:
            free_gb = usage(where).free / 1e9
        except OSError as exc:
            low.append(label)
            parts.append(f"{label} {path}: cannot stat ({exc.strerror or exc})")
            continue
        parts.append(f"{label} {path}: {free_gb:.1f} GB free")
        if free_gb < min_free_gb:
            low.append(label)
    if low:
        return Check("disk", "warn", "; ".join(parts),
                     f"free space (below {min_free_gb:g} GB at {', '.join(low)}) or point --output/store.uri elsewhere")
    return Check("disk", "pass", "; ".join(parts))


def checkpoint_dirs(output: Path, depth: int = 3) -> list[Path]:
    """`checkpoints/` folders at most `depth` levels under `output` (a run folder or outputs/ itself)."""
    found = [output / "checkpoints"] if (output / "checkpoints").is_dir() else []
    level = [output]
    for _ in range(depth):
        level = [child for parent in level for child in sorted(parent.iterdir()) if child.is_dir()
                 and child.name != "checkpoints"] if level else []
        found += [d / "checkpoints" for d in level if (d / "checkpoints").is_dir()]
    return found


def checkpoints_check(output: Path | None) -> Check:
    """Verify every checkpoint under `output` (checksums only; nothing is loaded or changed)."""
    if output is None or not output.is_dir():
        return Check("checkpoints", "skip", f"no output folder{f' at {output}' if output else ''} to verify")
    from astrobio.trainer.checkpoint import list_checkpoints, verify

    good, bad = 0, []
    for folder in checkpoint_dirs(output):
        for ckpt in list_checkpoints(folder):
            try:
                verify(ckpt)
                good += 1
            except ValueError as exc:
                bad.append(f"{ckpt.relative_to(output)} ({str(exc).replace(str(ckpt) + '/', '')})")
    if bad:
        return Check("checkpoints", "fail", f"{output}: {len(bad)} bad: {'; '.join(bad)}; {good} verify",
                     "delete the bad step-* folders (resuming skips them; the newest good one is used)")
    if not good:
        return Check("checkpoints", "skip", f"{output}: no checkpoints yet")
    return Check("checkpoints", "pass", f"{output}: {good} checkpoint(s) verify")


def audit_check(report: Path, now: datetime | None = None) -> Check:
    """Summarise benchmarks/results/audit.json (written by `make audit`)."""
    fix = "run `make audit` where a vulnerability service (PyPI JSON API or api.osv.dev) is reachable"
    if not report.is_file():
        return Check("audit", "skip", f"no {report}", fix)
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
        date = datetime.fromisoformat(data["date"])
        vulns = list(data["vulnerabilities"])
        audited = int(data["packages_audited"])
        unaudited = list(data["not_audited"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return Check("audit", "warn", f"{report} unreadable ({exc.__class__.__name__}: {exc})", fix)
    now = now or datetime.now(timezone.utc)
    age = (now - (date if date.tzinfo else date.replace(tzinfo=timezone.utc))).days
    head = f"{report.name} of {date.date()} ({age} d old): {audited} audited, {len(vulns)} known vulnerabilit{'y' if len(vulns) == 1 else 'ies'}"
    if vulns:
        names = sorted({f"{v['package']} {v['version']} ({v['id']})" for v in vulns})
        return Check("audit", "fail", f"{head}: {', '.join(names)}", "upgrade to the fix versions in constraints.txt")
    if unaudited:
        return Check("audit", "warn", f"{head}; {len(unaudited)} package(s) could not be audited", fix)
    if age > AUDIT_MAX_AGE_DAYS:
        return Check("audit", "warn", f"{head}; older than {AUDIT_MAX_AGE_DAYS} days", fix)
    return Check("audit", "pass", head)

"""Known-vulnerability audit of the installed environment (`make audit`, `python -m benchmarks.audit`).

Every installed distribution is frozen to `name==version` and handed to pip-audit with
`--no-deps --disable-pip` (the environment is audited as installed, nothing is resolved or
installed). pip-audit's PyPI vulnerability service is asked first, then OSV (api.osv.dev); a
package counts as audited when one service answered for it. Packages installed from a local path
(this project, editable installs) are not PyPI releases: they are listed but not counted.

Result: benchmarks/results/audit.json (date, machine, tool, services tried and what they said,
packages audited, every vulnerability with its id, aliases and fix versions, every package that
could not be audited and why, and a one-word status). Exit codes:

  0  clean: every package audited, no known vulnerability
  1  known vulnerabilities found (whatever else happened)
  3  nothing could be audited: no vulnerability service answered for any package
  4  partly audited: no vulnerability among the audited packages, but some could not be audited

Codes 3 and 4 are deliberately nonzero: "no known vulnerabilities" from an audit that could not
see the packages would be a false all-clear. On a machine whose only network is a PyPI mirror the
outcome is 3 (the mirror has no vulnerability data, OSV is unreachable); run it where either
service is reachable for a real answer.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

RESULT = Path(__file__).resolve().parent / "results" / "audit.json"
SERVICES = ("pypi", "osv")
TIMEOUT_S = 900
EXIT_CLEAN, EXIT_VULNERABLE, EXIT_UNAUDITED, EXIT_PARTIAL = 0, 1, 3, 4


@dataclass
class Audit:
    """What the services said, merged: first answer per package wins."""

    packages: dict[str, str]
    local: dict[str, str]
    vulnerabilities: list[dict[str, Any]] = field(default_factory=list)
    audited: set[str] = field(default_factory=set)
    reasons: dict[str, list[str]] = field(default_factory=dict)
    services: list[dict[str, str]] = field(default_factory=list)

    @property
    def not_audited(self) -> list[dict[str, str]]:
        return [{"package": n, "version": v, "reason": "; ".join(self.reasons.get(n, ["no service answered"]))}
                for n, v in sorted(self.packages.items()) if n not in self.audited]

    @property
    def status(self) -> str:
        if self.vulnerabilities:
            return "vulnerable"
        if not self.audited:
            return "unaudited"
        return "partial" if self.not_audited else "clean"


def canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _is_local(dist: metadata.Distribution) -> bool:
    """Installed from a folder or file (editable or not): not a PyPI release, nothing to look up."""
    text = dist.read_text("direct_url.json")
    if not text:
        return False
    try:
        info = json.loads(text)
    except ValueError:
        return False
    return str(info.get("url", "")).startswith("file:") and "vcs_info" not in info


def installed() -> tuple[dict[str, str], dict[str, str]]:
    """(PyPI-installed name -> version, locally installed name -> version) of this interpreter."""
    releases: dict[str, str] = {}
    local: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if not name:
            continue
        (local if _is_local(dist) else releases)[canonical(name)] = dist.version
    return releases, local


def run_pip_audit(requirements: dict[str, str], service: str) -> tuple[dict[str, Any] | None, str]:
    """pip-audit's JSON for `requirements` from `service`, or None and the reason it gave none."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("".join(f"{n}=={v}\n" for n, v in sorted(requirements.items())))
        reqs = handle.name
    cmd = [sys.executable, "-m", "pip_audit", "-r", reqs, "--no-deps", "--disable-pip", "--format", "json",
           "--progress-spinner", "off", "--vulnerability-service", service]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {TIMEOUT_S} s"
    finally:
        os.unlink(reqs)
    try:
        return json.loads(proc.stdout), f"exit {proc.returncode}"
    except ValueError:
        lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
        return None, (lines[-1] if lines else f"exit {proc.returncode}, no output")[:300]


def merge(audit: Audit, report: dict[str, Any], service: str) -> None:
    """Fold one service's report into `audit`: vulnerable and clean packages are audited."""
    for dep in report.get("dependencies", []):
        name = canonical(dep["name"])
        if name in audit.audited:
            continue
        if dep.get("skip_reason"):
            audit.reasons.setdefault(name, []).append(f"{service}: {dep['skip_reason']}")
            continue
        audit.audited.add(name)
        for vuln in dep.get("vulns", []):
            audit.vulnerabilities.append({"package": name, "version": dep.get("version", audit.packages.get(name)),
                                          "id": vuln["id"], "aliases": vuln.get("aliases", []),
                                          "fix_versions": vuln.get("fix_versions", []), "service": service})


def run_audit(services: tuple[str, ...] = SERVICES) -> Audit:
    packages, local = installed()
    audit = Audit(packages=packages, local=local)
    for service in services:
        remaining = {n: v for n, v in packages.items() if n not in audit.audited}
        if not remaining:
            break
        report, how = run_pip_audit(remaining, service)
        if report is None:
            audit.services.append({"service": service, "outcome": f"no answer: {how}"})
            for name in remaining:
                audit.reasons.setdefault(name, []).append(f"{service}: no answer ({how})")
            continue
        before = len(audit.audited)
        merge(audit, report, service)
        audit.services.append({"service": service, "outcome": f"answered for {len(audit.audited) - before} of "
                                                              f"{len(remaining)} package(s) ({how})"})
    return audit


def tool_version() -> str:
    try:
        return f"pip-audit {metadata.version('pip-audit')}"
    except metadata.PackageNotFoundError:
        return "pip-audit (not installed)"


def to_json(audit: Audit) -> dict[str, Any]:
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"host": platform.node(), "platform": platform.platform(), "python": platform.python_version(),
                    "cores": os.cpu_count()},
        "tool": tool_version(),
        "command": "pip-audit -r <frozen installed packages> --no-deps --disable-pip --format json "
                   "--vulnerability-service {" + ",".join(SERVICES) + "}",
        "status": audit.status,
        "services": audit.services,
        "packages_total": len(audit.packages),
        "packages_audited": len(audit.audited),
        "vulnerabilities": sorted(audit.vulnerabilities, key=lambda v: (v["package"], v["id"])),
        "not_audited": audit.not_audited,
        "local_packages": [{"package": n, "version": v, "reason": "installed from a local path, not a PyPI release"}
                           for n, v in sorted(audit.local.items())],
    }


def summary(doc: dict[str, Any]) -> tuple[str, int]:
    """The line to print and the exit code (see the module docstring)."""
    vulns, total, done = doc["vulnerabilities"], doc["packages_total"], doc["packages_audited"]
    if vulns:
        names = ", ".join(sorted({f"{v['package']} {v['version']} {v['id']}" for v in vulns}))
        return f"audit: {len(vulns)} known vulnerabilit{'y' if len(vulns) == 1 else 'ies'}: {names}", EXIT_VULNERABLE
    if not done:
        said = "; ".join(f"{s['service']}: {s['outcome']}" for s in doc["services"])
        return (f"audit: could not audit any of {total} packages (no vulnerability service reachable: {said}); "
                "this is NOT a clean result", EXIT_UNAUDITED)
    missing = total - done
    if missing:
        return f"audit: no known vulnerabilities in {done} audited packages, but {missing} could not be audited", EXIT_PARTIAL
    return f"audit: {done} packages audited, no known vulnerabilities", EXIT_CLEAN


def main(out: Path = RESULT) -> int:
    doc = to_json(run_audit())
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, out)
    line, code = summary(doc)
    print(line, file=sys.stderr if code else sys.stdout)
    print(f"details: {out}")
    return code


if __name__ == "__main__":
    sys.exit(main())

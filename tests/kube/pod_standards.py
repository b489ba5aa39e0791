"""The Pod Security Standards `restricted` profile (which includes `baseline`), as a pure check.

Written from https://kubernetes.io/docs/concepts/security/pod-security-standards/ (policy version
"latest", as the PodSecurity admission plugin applies it with `enforce: restricted`); no PyPI package
implements it and is kept up. Each control below names the standard's control. The result is a list
of problems shaped like the admission plugin's message, e.g. `allowPrivilegeEscalation != false
(container "init-pytorch" ...)`, empty when the pod would be admitted.
"""

from __future__ import annotations

from typing import Any

BASELINE_CAPABILITIES = {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
                         "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}
RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected",
                      "secret"}
SAFE_SYSCTLS = {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
                "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
                "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
                "net.ipv4.tcp_keepalive_probes"}
SELINUX_TYPES = {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
VOLUME_META = {"name"}


def _containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*spec.get("initContainers", []), *spec.get("containers", []), *spec.get("ephemeralContainers", [])]


def _baseline(spec: dict[str, Any]) -> list[str]:
    pod = spec.get("securityContext") or {}
    problems = [f"host namespaces ({key}=true)" for key in ("hostNetwork", "hostPID", "hostIPC") if spec.get(key)]
    problems += [f"hostPath volumes ({v['name']})" for v in spec.get("volumes", []) if "hostPath" in v]
    problems += [f"forbidden sysctls ({s['name']})" for s in pod.get("sysctls", []) if s["name"] not in SAFE_SYSCTLS]
    if (pod.get("windowsOptions") or {}).get("hostProcess"):
        problems.append("hostProcess")
    if (pod.get("seccompProfile") or {}).get("type") == "Unconfined":
        problems.append("seccompProfile (pod must not set type Unconfined)")
    if (pod.get("appArmorProfile") or {}).get("type") == "Unconfined":
        problems.append("forbidden AppArmor profile (pod)")
    problems += _selinux(pod.get("seLinuxOptions"), "pod")
    for c in _containers(spec):
        sc, name = c.get("securityContext") or {}, c["name"]
        if sc.get("privileged"):
            problems.append(f'privileged (container "{name}" must not set securityContext.privileged=true)')
        extra = set((sc.get("capabilities") or {}).get("add", [])) - BASELINE_CAPABILITIES
        if extra:
            problems.append(f'non-default capabilities (container "{name}" must not include {sorted(extra)})')
        if any(p.get("hostPort") for p in c.get("ports", [])):
            problems.append(f'hostPort (container "{name}")')
        if sc.get("procMount", "Default") != "Default":
            problems.append(f'procMount (container "{name}")')
        if (sc.get("seccompProfile") or {}).get("type") == "Unconfined":
            problems.append(f'seccompProfile (container "{name}" must not set type Unconfined)')
        if (sc.get("appArmorProfile") or {}).get("type") == "Unconfined":
            problems.append(f'forbidden AppArmor profile (container "{name}")')
        if (sc.get("windowsOptions") or {}).get("hostProcess"):
            problems.append(f'hostProcess (container "{name}")')
        problems += _selinux(sc.get("seLinuxOptions"), f'container "{name}"')
    return problems


def _selinux(options: dict[str, Any] | None, where: str) -> list[str]:
    options = options or {}
    bad = options.get("type", "") not in SELINUX_TYPES or options.get("user") or options.get("role")
    return [f"seLinuxOptions ({where})"] if bad else []


def _restricted(spec: dict[str, Any]) -> list[str]:
    pod = spec.get("securityContext") or {}
    problems = []
    for v in spec.get("volumes", []):
        kinds = set(v) - VOLUME_META
        if not kinds <= RESTRICTED_VOLUMES:
            problems.append(f"restricted volume types (volume {v['name']!r} uses {sorted(kinds - RESTRICTED_VOLUMES)})")
    if pod.get("runAsUser") == 0:
        problems.append("runAsUser=0 (pod must not set runAsUser=0)")
    for c in _containers(spec):
        sc, name = c.get("securityContext") or {}, c["name"]
        if sc.get("allowPrivilegeEscalation") is not False:
            problems.append(f'allowPrivilegeEscalation != false (container "{name}" must set '
                            "securityContext.allowPrivilegeEscalation=false)")
        caps = sc.get("capabilities") or {}
        if "ALL" not in caps.get("drop", []):
            problems.append(f'unrestricted capabilities (container "{name}" must set securityContext.capabilities.drop=["ALL"])')
        if set(caps.get("add", [])) - {"NET_BIND_SERVICE"}:
            problems.append(f'unrestricted capabilities (container "{name}" must not add {sorted(set(caps["add"]) - {"NET_BIND_SERVICE"})})')
        if sc.get("runAsNonRoot", pod.get("runAsNonRoot")) is not True:
            problems.append(f'runAsNonRoot != true (container "{name}" or the pod must set securityContext.runAsNonRoot=true)')
        if sc.get("runAsUser") == 0:
            problems.append(f'runAsUser=0 (container "{name}" must not set runAsUser=0)')
        seccomp = (sc.get("seccompProfile") or pod.get("seccompProfile") or {}).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            problems.append(f'seccompProfile (container "{name}" or the pod must set seccompProfile.type to '
                            '"RuntimeDefault" or "Localhost")')
    return problems


def restricted_problems(spec: dict[str, Any]) -> list[str]:
    """Every way a pod spec violates `restricted` (baseline included); empty = admitted."""
    return _baseline(spec) + _restricted(spec)

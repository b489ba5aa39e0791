"""Start the control plane's processes, wait for them, and stop them by PID (never by name)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Processes:
    """Every process this harness started, in start order; its logs under `logs`."""

    logs: Path
    running: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, name: str, cmd: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        self.logs.mkdir(parents=True, exist_ok=True)
        log = (self.logs / f"{name}.log").open("ab")
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env={**os.environ, **(env or {})}, start_new_session=True)
        log.close()
        self.running[name] = proc
        return proc

    def tail(self, name: str, lines: int = 15) -> str:
        path = self.logs / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def wait_until(self, name: str, ready: Callable[[], bool], timeout_s: float) -> float:
        """Poll `ready` until true; fail with the process's last log lines if it dies or times out."""
        start = time.monotonic()
        proc = self.running[name]
        while time.monotonic() - start < timeout_s:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode} while starting:\n{self.tail(name)}")
            try:
                if ready():
                    return time.monotonic() - start
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{name} not ready after {timeout_s:.0f}s:\n{self.tail(name)}")

    def stop(self, name: str, grace_s: float = 10.0) -> None:
        """SIGTERM the process's own group (its PID), SIGKILL after `grace_s`."""
        proc = self.running.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)

    def stop_all(self) -> None:
        for name in reversed(list(self.running)):
            self.stop(name)

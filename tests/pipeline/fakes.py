"""A fake kubeflow TrainingClient: records created jobs and plays back a script of job states."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubeflow.training import (
    KubeflowOrgV1JobCondition,
    KubeflowOrgV1JobStatus,
    KubeflowOrgV1PyTorchJob,
    KubeflowOrgV1ReplicaStatus,
)
from kubernetes.client import V1ObjectMeta


def job_in_state(name: str, state: str | None, message: str = "", active: int = 0) -> KubeflowOrgV1PyTorchJob:
    """A PyTorchJob as the API returns it, whose latest condition is `state` (None: no status yet)."""
    status = None
    if state is not None:
        status = KubeflowOrgV1JobStatus(
            conditions=[KubeflowOrgV1JobCondition(type=state, status="True", reason=f"PyTorchJob{state}",
                                                  message=message or f"PyTorchJob {name} is {state.lower()}.")],
            replica_statuses={"Master": KubeflowOrgV1ReplicaStatus(active=active or None)})
    return KubeflowOrgV1PyTorchJob(metadata=V1ObjectMeta(name=name, namespace="astrobio"), status=status)


class FakeTrainingClient:
    """`create_job` records the job; `get_job` returns the next scripted state (the last one repeats).

    `on_state` runs when a state is served (e.g. publish the artifact when the job 'succeeds').
    `exists` makes `create_job` fail as the real client does for an existing job (RuntimeError).
    """

    def __init__(self, states: list[str | None], *, exists: bool = False,
                 on_state: Callable[[str | None], None] | None = None) -> None:
        self.states, self.exists, self.on_state = list(states), exists, on_state
        self.created: list[tuple[Any, str]] = []
        self.deleted: list[tuple[str, str, Any]] = []
        self.polls = 0

    def create_job(self, job: Any = None, namespace: str | None = None, **_: Any) -> None:
        if self.exists:
            raise RuntimeError(f"Failed to create PyTorchJob: {namespace}/{job.metadata.name}")
        self.created.append((job, namespace))

    def delete_job(self, name: str, namespace: str | None = None, delete_options: Any = None, **_: Any) -> None:
        self.deleted.append((name, namespace or "", delete_options))

    def get_job(self, name: str, namespace: str | None = None, **_: Any) -> KubeflowOrgV1PyTorchJob:
        if not self.created and not self.exists:
            raise RuntimeError(f"Failed to get PyTorchJob: {namespace}/{name}")
        state = self.states[min(self.polls, len(self.states) - 1)]
        self.polls += 1
        if self.on_state:
            self.on_state(state)
        return job_in_state(name, state, active=1 if state == "Running" else 0)

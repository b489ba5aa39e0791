"""Issue #13 item 9: gang scheduling, so a half-placed multi-node GPU job does not hold GPUs.

The Training Operator v1.9 turns `runPolicy.schedulingPolicy` into a PodGroup when it runs with a
gang scheduler: `minMember` = minAvailable (default: every replica), `queue` (default "default"),
`priorityClassName` = priorityClass, `scheduleTimeoutSeconds` (kubeflow/training-operator v1.9.0
`pkg/controller.v1/common/job.go`, "if jc.Config.EnableGangScheduling()"). Kueue admits a job whose
metadata carries `kueue.x-k8s.io/queue-name` as a whole. Every rendered job is checked against the
PyTorchJob CRD schema the package ships (`spec.runPolicy.schedulingPolicy` there).
"""

from __future__ import annotations

import copy

import pytest

from astrobio.errors import UsageError
from astrobio.kube.render.pytorchjob import KUEUE_QUEUE_LABEL, render_pytorchjob
from astrobio.kube.validate import ManifestInvalid, check_object, validate_object

from .conftest import variant

COMPONENT = "graph_vae"


def policy(job):
    return job["spec"]["runPolicy"].get("schedulingPolicy")


@pytest.mark.parametrize(("scale", "expected"), [
    ("gpu", {"minAvailable": 2}),
    ("multi-gpu", {"minAvailable": 4}),
    ("elastic", {"minAvailable": 1}),  # an elastic job may start with its minimum
    ("single-node", None),             # one pod: nothing to gang
])
def test_multi_node_jobs_are_all_or_nothing_by_default(scale, expected):
    job = render_pytorchjob(variant(scale), COMPONENT)
    assert policy(job) == expected
    assert check_object(job) == []


def test_queue_priority_timeout_and_kueue_label_from_config():
    cfg = variant("multi-gpu", "kube.scheduling.queue=gpu-research", "kube.scheduling.priority_class=batch-high",
                  "kube.scheduling.schedule_timeout_s=600", "kube.scheduling.kueue_queue=team-a")
    job = render_pytorchjob(cfg, COMPONENT)
    assert policy(job) == {"minAvailable": 4, "queue": "gpu-research", "priorityClass": "batch-high",
                           "scheduleTimeoutSeconds": 600}
    assert job["metadata"]["labels"][KUEUE_QUEUE_LABEL] == "team-a"
    pods = [r["template"]["spec"] for r in job["spec"]["pytorchReplicaSpecs"].values()]
    assert all(p["priorityClassName"] == "batch-high" for p in pods)
    validate_object(job)  # the upstream CRD schema accepts every field


def test_min_available_is_capped_at_the_job_size_and_one_pod_jobs_keep_an_explicit_queue():
    job = render_pytorchjob(variant("gpu", "kube.scheduling.min_available=9"), COMPONENT)
    assert policy(job) == {"minAvailable": 2}
    single = render_pytorchjob(variant("single-node", "kube.scheduling.queue=q"), COMPONENT)
    assert policy(single) == {"minAvailable": 1, "queue": "q"}


def test_gang_off_leaves_scheduling_to_the_cluster():
    job = render_pytorchjob(variant("multi-gpu", "kube.scheduling.gang=false", "kube.scheduling.kueue_queue=team-a"),
                            COMPONENT)
    assert policy(job) is None and job["metadata"]["labels"][KUEUE_QUEUE_LABEL] == "team-a"


def test_the_schema_check_does_see_scheduling_policy():
    """A wrong type in the rendered field fails validation, so the passes above are real."""
    job = copy.deepcopy(render_pytorchjob(variant("gpu"), COMPONENT))
    job["spec"]["runPolicy"]["schedulingPolicy"]["minAvailable"] = "two"
    with pytest.raises(ManifestInvalid, match="minAvailable"):
        validate_object(job)
    job["spec"]["runPolicy"]["schedulingPolicy"] = {"minAvailable": 2, "gang": True}
    assert any("gang" in e for e in check_object(job))


@pytest.mark.parametrize(("setting", "field"), [
    ("kube.scheduling.kueue_queue=Team_A", "kueue_queue"),
    ("kube.scheduling.priority_class=High!", "priority_class"),
    ("kube.scheduling.min_available=0", "min_available"),
    ("kube.scheduling.gnag=true", "gnag"),
])
def test_bad_scheduling_settings_are_config_errors(setting, field):
    with pytest.raises((UsageError, ValueError), match=field):
        variant("gpu", setting)


CHART_SCHEDULING = {"minAvailable": 1, "queue": "gpu-research", "priorityClass": "batch-high",
                    "scheduleTimeoutSeconds": 300, "kueueQueue": "team-a"}


def test_chart_values_schedule_every_shipped_job_and_trial():
    helpers = pytest.importorskip("tests.chart.helpers")
    docs = helpers.render({**helpers.all_enabled(), "scheduling": CHART_SCHEDULING})
    jobs = [d for d in docs if d["kind"] == "PyTorchJob"]
    trials = [d["spec"]["trialTemplate"]["trialSpec"] for d in docs if d["kind"] == "Experiment"]
    assert jobs and trials
    for job in [*jobs, *trials]:
        assert policy(job) == {"minAvailable": 1, "queue": "gpu-research", "priorityClass": "batch-high",
                               "scheduleTimeoutSeconds": 300}
        assert job["metadata"]["labels"][KUEUE_QUEUE_LABEL] == "team-a"
        assert all(r["template"]["spec"]["priorityClassName"] == "batch-high"
                   for r in job["spec"]["pytorchReplicaSpecs"].values())
    for job in jobs:
        validate_object(job)
    shipped = {d["metadata"]["name"]: d for d in helpers.render(helpers.all_enabled()) if d["kind"] == "PyTorchJob"}
    for job in jobs:  # nothing else changed
        base = copy.deepcopy(shipped[job["metadata"]["name"]])
        changed = copy.deepcopy(job)
        changed["metadata"]["labels"].pop(KUEUE_QUEUE_LABEL)
        changed["spec"]["runPolicy"].pop("schedulingPolicy")
        base["spec"]["runPolicy"].pop("schedulingPolicy", None)
        for r in changed["spec"]["pytorchReplicaSpecs"].values():
            r["template"]["spec"].pop("priorityClassName")
        assert changed == base


def test_chart_refuses_a_bad_kueue_queue_name():
    helpers = pytest.importorskip("tests.chart.helpers")
    with pytest.raises(Exception, match="kueueQueue"):
        helpers.render({"scheduling": {"kueueQueue": "Team_A"}})

"""What Katib v0.19 and the Training Operator v1.9 do to a trial, replayed offline for the tests.

- Katib's pod webhook rewrites the primary container of the primary pod
  (`pkg/webhook/v1beta1/pod/utils.go` in kubeflow/katib v0.19.0, wrapWorkerContainer and
  getContainerCommand): `args` = command + args; a leading `sh -c` (or `bash -c`) becomes the new
  command, else the command is `sh -c`; for the StdOut collector `1>/var/log/katib/metrics.log 2>&1`
  is appended, with early stopping `|| <getEarlyStoppingCommand>`, and always `&& echo completed >
  <dir>/$$$$.pid`; then `strings.Join(args, " ")` is the one argument of `sh -c`. Nothing is quoted.
- The operator labels each pod it creates with its lower-cased replica type and its index, and
  `job-role=master` on the Master, or on worker 0 when there is no Master
  (`pkg/controller.v1/common/pod.go` createNewPod, `pkg/controller.v1/pytorch/pytorchjob_controller.go`
  IsMasterRole, label keys in `pkg/apis/kubeflow.org/v1/common_types.go`, training-operator v1.9.0).

The wrapped line is then run by a real `/bin/sh` with a stand-in `torchrun` that records its argv,
so word splitting, quoting and globbing are the shell's, not an imitation.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

KATIB_METRICS_FILE = "/var/log/katib/metrics.log"
_FAKE_TORCHRUN = '#!/bin/sh\nprintf \'%s\\0\' "$@" > "$ARGV_OUT"\n'
_FAKE_PYTHON = '#!/bin/sh\n[ "$1 $2" = "-m astrobio.torchrun" ] || exit 97\nshift 2\nprintf \'%s\\0\' "$@" > "$ARGV_OUT"\n'
"""The pods run `python -m astrobio.torchrun` (torchrun keeping the rank's exit code): torchrun's argv."""


def katib_wrap(container: dict[str, Any], early_stopping: bool, metrics_file: str = KATIB_METRICS_FILE) -> list[str]:
    """The primary container's command + args after Katib's webhook (see the module docstring)."""
    args = [*container.get("command", []), *container.get("args", [])]
    command = ["sh", "-c"]
    if args[0] in ("sh", "bash") and args[1] == "-c":
        command, args = args[:2], args[2:]
    folder = os.path.dirname(metrics_file)
    args = [*args, f"1>{metrics_file} 2>&1"]
    if early_stopping:
        args += ["||", f"if test -f {folder}/$$$$.pid && [ $(head -n 1 {folder}/$$.pid) = early-stopped ]; "
                       "then echo Training Container was Early Stopped; else echo Training Container was Failed; exit 1; fi"]
    args += ["&&", f"echo completed > {folder}/$$$$.pid"]
    return [*command, " ".join(args)]


def run_in_shell(argv: list[str], workdir: Path) -> list[str]:
    """Run `argv` (a `sh -c ...` command line) with a recording `torchrun` (and `python -m
    astrobio.torchrun`); torchrun's argv."""
    bindir = workdir / "bin"
    bindir.mkdir(parents=True, exist_ok=True)
    for name, text in (("torchrun", _FAKE_TORCHRUN), ("python", _FAKE_PYTHON)):
        fake = bindir / name
        fake.write_text(text)
        fake.chmod(0o755)
    out = workdir / "argv"
    env = {"PATH": f"{bindir}:/usr/bin:/bin", "ARGV_OUT": str(out)}
    proc = subprocess.run(argv, cwd=workdir, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, (argv, proc.stdout, proc.stderr)
    return out.read_bytes().decode().split("\0")[:-1]


def operator_pods(job: dict[str, Any]) -> Iterator[tuple[str, int, dict[str, str]]]:
    """(replica type, index, labels) of every pod the operator creates for `job`."""
    replicas = job["spec"]["pytorchReplicaSpecs"]
    for kind, spec in replicas.items():
        for index in range(int(spec.get("replicas", 1))):
            labels = {"training.kubeflow.org/replica-type": kind.lower(),
                      "training.kubeflow.org/replica-index": str(index)}
            if ("Master" in replicas and kind == "Master") or ("Master" not in replicas and kind == "Worker" and index == 0):
                labels["training.kubeflow.org/job-role"] = "master"
            yield kind, index, {**spec["template"]["metadata"].get("labels", {}), **labels}


def parse_train_cli(args: list[str]) -> dict[str, Any]:
    """`astrobio train <args>` through the real typer app, stopping where training would start:
    exit code, output and the parsed (component, config, overrides, output)."""
    from unittest import mock

    from typer.testing import CliRunner

    import astrobio.cli.train as train_cli
    from astrobio.cli import app

    seen: dict[str, Any] = {}

    def record(component: str, config: Path | None, overrides: list[str], output: Path | None, nproc: int) -> None:
        seen.update(component=component, config=config, overrides=list(overrides), output=output, nproc=nproc)

    with mock.patch.object(train_cli, "run_train", record):
        result = CliRunner().invoke(app, args)
    return {"exit_code": result.exit_code, "output": result.output, **seen}


def trial_assignments(tc: Any) -> list[dict[str, str]]:
    """Two assignments as Katib substitutes them (strings): every lower bound / first choice, and
    every upper bound / last choice."""
    from astrobio.kube.render.config_args import format_value
    from astrobio.tune.space import TRIAL_NAME_PARAM, katib_number

    low = tc.space.sample_assignment()
    high = {TRIAL_NAME_PARAM: "sample-trial-2"}
    for p in tc.space.parameters:
        last = tc.space.extremes(p)[-1]
        high[p.key] = format_value(last) if p.type == "categorical" else katib_number(float(last), p.type == "int")
    return [low, high]


def check_trials(exp: dict[str, Any], tc: Any, workdir: Path) -> int:
    """Every pod of every sampled trial of `exp`, as Katib and the operator would run it, parses
    with torchrun's and astrobio's own CLIs into the tuning config with the trial's values.
    Returns the number of pods checked."""
    from torch.distributed.run import get_args_parser

    from astrobio.config import load_config
    from astrobio.config.overrides import apply_overrides
    from astrobio.tune.katib_backend import per_trial_run_id
    from astrobio.tune.load import validate_tree
    from astrobio.tune.space import TRIAL_NAME_PARAM, substitute

    template = exp["spec"]["trialTemplate"]
    primary = template["primaryPodLabels"]
    early = exp["spec"].get("earlyStopping") is not None
    component = tc.tune.component
    checked = 0
    for n, values in enumerate(trial_assignments(tc)):
        job = json.loads(substitute(json.dumps(template["trialSpec"]), values))
        sets = [f"{p.path}={values[p.key]}" for p in tc.space.parameters]
        if per_trial_run_id(tc):
            sets.append(f"run.run_id={values[TRIAL_NAME_PARAM]}")
        intended = validate_tree(apply_overrides(tc.base_tree, sets), "intended")
        for kind, index, labels in operator_pods(job):
            (container,) = [c for c in job["spec"]["pytorchReplicaSpecs"][kind]["template"]["spec"]["containers"]
                            if c["name"] == template["primaryContainerName"]]
            is_primary = all(labels.get(k) == v for k, v in primary.items())
            folder = workdir / f"{n}-{kind}-{index}"
            folder.mkdir(parents=True)
            argv = (katib_wrap(container, early, str(folder / "katib" / "metrics.log")) if is_primary
                    else [*container["command"], *container["args"]])
            (folder / "katib").mkdir()
            torchrun = get_args_parser().parse_args(run_in_shell(argv, folder))
            assert torchrun.module and torchrun.training_script == "astrobio", argv
            parsed = parse_train_cli(list(torchrun.training_script_args))
            assert parsed["exit_code"] == 0, (argv, parsed["output"])
            assert parsed["component"] == component
            cfg = load_config(parsed["config"], parsed["overrides"])
            assert cfg.component(component) == intended.component(component), argv
            assert cfg.run.effective_run_id == intended.run.effective_run_id and cfg.run.seed == intended.run.seed
            checked += 1
    return checked


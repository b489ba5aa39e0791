"""What the commands a person types first load: `astrobio --help`, `astrobio components` and
`astrobio config show` must not import torch, the Kubeflow/Kubernetes SDKs, the model libraries or
the data-science stack (each costs a second or more; issue #19 item 4: start-up under 1 s).

The test is on WHAT is imported, in a fresh interpreter per command, not on timing (timing goals
live in benchmarks/bench_startup.py). It fails on code that prints `components` through `get_spec`
(a SPEC imports torch) or that imports an SDK at the top of a CLI module.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.cli_helpers import ROOT, SMOKE, fresh_python_env

HEAVY = ("torch", "kfp", "kubernetes", "kubeflow", "transformers", "diffusers", "peft", "optuna",
         "pandas", "scipy", "sklearn", "matplotlib", "minio")

# runs the real entry point in-process; the report is printed from an atexit handler because the
# entry point leaves through `process_exit.exit_process` (atexit handlers run, then os._exit)
_PROBE = """
import atexit, json, sys
from astrobio.cli import main
heavy = set(json.loads(HEAVY))
atexit.register(lambda: print("\\n" + json.dumps({"loaded": sorted(({m.split(".")[0] for m in sys.modules} | set(sys.modules)) & heavy)})))
sys.argv = ["astrobio", *sys.argv[1:]]
main()
"""


def loaded_by(*args: str, heavy: tuple[str, ...] = HEAVY, extra_env: dict[str, str] | None = None) -> list[str]:
    """The packages (or dotted modules) of `heavy` that `astrobio *args` has imported by the time it exits."""
    env = fresh_python_env(**(extra_env or {}))
    probe = f"HEAVY = {json.dumps(json.dumps(heavy))}\n{_PROBE}"
    done = subprocess.run([sys.executable, "-c", probe, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])["loaded"]


def test_importing_the_cli_loads_no_heavy_package() -> None:
    probe = f"import sys, astrobio.cli; print(sorted({{m.split('.')[0] for m in sys.modules}} & set({list(HEAVY)!r})))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env=fresh_python_env())
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("args", [("--help",), ("components",), ("config", "show", "--config", str(SMOKE)),
                                  ("train", "--help")], ids=lambda a: " ".join(a[:2]))
def test_first_commands_load_no_heavy_package(args: tuple[str, ...]) -> None:
    assert loaded_by(*args) == []


def test_components_prints_every_row_without_loading_a_spec() -> None:
    """The listing comes from the catalog rows (get_spec checks SPEC agrees with them)."""
    from astrobio.catalog import COMPONENTS

    env = fresh_python_env()
    done = subprocess.run([sys.executable, "-m", "astrobio", "components"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == len(COMPONENTS)
    for row in COMPONENTS:
        line = next(line for line in lines if line.split()[0] == row.name)
        assert f"phase={row.phase}" in line and f"image={row.image}" in line and line.endswith(row.description)


@pytest.mark.parametrize("name", ["spectra", "llm", "causal"])
def test_render_job_needs_the_kubernetes_models_only(name: str) -> None:
    """A job is sized from the catalog row (image, phase, supports_ddp), so rendering one loads
    neither torch nor the component's model library (spectra's diffusers, llm's transformers)."""
    loaded = loaded_by("render", "job", "--component", name, "--config", str(SMOKE))
    assert "kubernetes" in loaded
    assert not set(loaded) & {"torch", "transformers", "diffusers", "peft", "optuna", "kfp"}, loaded


# what a training of one component has no use for: the other components' model libraries, the
# cluster SDKs, the tuner, the S3 client when the store is a local folder, and torch's compiler
# (torch._dynamo: sympy, fx; ~1.2 s, loaded by torch.optim unless the trainer's EagerAdamW steps)
NOT_FOR_CAUSAL = ("minio", "kfp", "kubernetes", "kubeflow", "transformers", "diffusers", "peft",
                  "torch_geometric", "optuna", "torch._dynamo")


def test_local_causal_training_loads_only_what_it_uses(tmp_path) -> None:
    """`astrobio train -c causal` with a local store (the tuning trial's command) pays neither for
    the S3 backend (store/factory.py opens it only for s3://) nor for the libraries of components
    it does not train: each is a share of every trial's start-up (issue #19 item 4)."""
    sets = ["components.causal.trainer.max_steps=100", "components.causal.trainer.eval_every=50",
            "components.causal.trainer.checkpoint.every=100", f"store.uri={tmp_path / 'store'}",
            f"run.output_root={tmp_path / 'out'}"]
    args = ["train", "--component", "causal", "--config", str(SMOKE), "--output", str(tmp_path / "run")]
    loaded = loaded_by(*args, *[w for s in sets for w in ("--set", s)], heavy=(*HEAVY, *NOT_FOR_CAUSAL))
    assert "torch" in loaded  # the probe sees what the training imported
    assert not set(loaded) & set(NOT_FOR_CAUSAL), loaded
    assert (tmp_path / "store").is_dir()


def test_the_process_that_runs_the_pipeline_loads_no_torch(tmp_path) -> None:
    """`astrobio run` orchestrates: KFP's local runner, run.json, the report (figures drawn from the
    artifacts' saved arrays). Measured 2026-12-03: it imported torch through `astrobio.trainer`'s
    package `__init__` (for an atomic-write helper) and every component's figure module (for a type
    hint), 2.2 s of CPU in the parent and in each KFP step; pipeline_overhead was 31.6%."""
    from tests.pipeline.helpers import fake_train_command

    sets = [f"store.uri={tmp_path / 'store'}", f"run.output_root={tmp_path / 'out'}"]
    args = ["run", "--config", str(SMOKE), "--output", str(tmp_path / "run"), "--phases", "1"]
    loaded = loaded_by(*args, *[w for s in sets for w in ("--set", s)],
                       extra_env={"ASTROBIO_TRAIN_COMMAND": fake_train_command()})
    assert "kfp" in loaded and "matplotlib" in loaded  # the probe sees the pipeline and the report
    assert not set(loaded) & {"torch", "transformers", "diffusers", "peft", "torch_geometric", "optuna"}, loaded
    assert (tmp_path / "run" / "run.json").is_file()


def test_the_tuning_parent_loads_no_torch(tmp_path) -> None:
    """`astrobio tune` runs each trial as its own `astrobio train` process; the parent only asks
    Optuna, reads the trials' metric lines and draws the study. It imported torch through
    `astrobio.tune.metrics` -> `astrobio.trainer.metrics` while the trainer package's `__init__`
    imported the loop (review 2026-12-03): ~2 s of every study's start-up for nothing."""
    import yaml

    from tests.tune.conftest import tune_tree

    tree = tune_tree(**{"tune.budget.trials": 1, "trainer.max_steps": 6, "trainer.eval_every": 3,
                        "store.uri": str(tmp_path / "store"), "run.output_root": str(tmp_path / "out")})
    config = tmp_path / "tune.yaml"
    config.write_text(yaml.safe_dump(tree))
    loaded = loaded_by("tune", "--config", str(config), "--output", str(tmp_path / "study"))
    assert "optuna" in loaded  # the probe sees the tuner
    assert not set(loaded) & {"torch", "transformers", "diffusers", "peft", "torch_geometric", "kfp"}, loaded
    assert (tmp_path / "study" / "best.yaml").is_file()

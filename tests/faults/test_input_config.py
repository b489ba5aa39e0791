"""Bad input refused: several hundred generated hostile configs, as YAML files and as `--set`.

Most cases run in-process through the real typer app (`config show`, the CLI's own error mapping);
a smaller sample runs the real CLI in a subprocess (`astrobio train` or `config show`) and checks
that a refused config never leaves an output folder behind. Hypothesis is derandomized so CI sees the same cases.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import yaml
from hypothesis import HealthCheck, example, given, settings
from typer.testing import CliRunner

from astrobio.cli import app
from astrobio.config import load_config
from astrobio.errors import UsageError
from tests.cli_helpers import assert_one_line_error, run_cli
from tests.config.fuzz_cases import Case, cases, check_outcome, check_resolved

IN_PROCESS_EXAMPLES = 400
CLI_EXAMPLES = 12
FUZZ = settings(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _write(case: Case, folder: Path) -> Path:
    path = folder / "fuzz.yaml"
    path.write_bytes(case.file_bytes())
    return path


def test_generated_configs_in_process(tmp_path, fault_table):
    runner = CliRunner()
    outcomes = {"valid": 0, "refused": 0}
    start = time.perf_counter()

    @settings(FUZZ, max_examples=IN_PROCESS_EXAMPLES)
    @given(case=cases)
    @example(case=Case("yaml", ((("trainer", "early_stopping", "min_delta"), math.inf),)))  # was accepted
    @example(case=Case("set", ((("trainer", "clip_grad_norm"), math.inf),)))  # was accepted
    @example(case=Case("set", ((("optim", "betas"), [math.nan, 0.5]),)))  # was accepted
    @example(case=Case("set", ((("trainer", "max_steps"), True),)))  # was read as 1
    @example(case=Case("raw", raw="[" * 5000))  # was a RecursionError traceback
    @example(case=Case("set", ((("run",), "&a [*a]"),)))  # an alias cycle
    def one(case: Case) -> None:
        for old in tmp_path.iterdir():
            old.unlink()
        if case.mode == "set":
            args, source = ["config", "show", *case.set_args()], ""
        else:
            path = _write(case, tmp_path)
            args, source = ["config", "show", "--config", str(path)], str(path)
        result = runner.invoke(app, args)
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        outcome = check_outcome(case, result.exit_code, result.stderr, source)
        if outcome == "valid":
            check_resolved(yaml.safe_load(result.stdout))
        assert sorted(p.name for p in tmp_path.iterdir()) == ([] if case.mode == "set" else ["fuzz.yaml"])
        outcomes[outcome] += 1

    one()
    trials = sum(outcomes.values())
    assert trials >= IN_PROCESS_EXAMPLES * 0.9 and outcomes["refused"] > trials // 2, outcomes
    fault_table.record("config fuzzing (in-process CLI)", trials=trials, survived=trials, data_lost=0,
                       detail=f"{outcomes['valid']} valid, {outcomes['refused']} refused with one line naming the "
                              f"field/file, exit 2, no traceback; {time.perf_counter() - start:.0f} s")


def test_generated_configs_through_the_cli(tmp_path, fault_table):
    outcomes = {"valid": 0, "refused": 0}
    left_behind = 0
    start = time.perf_counter()

    @settings(FUZZ, max_examples=CLI_EXAMPLES)
    @given(case=cases.filter(lambda c: not any("\x00" in arg for arg in c.set_args())))  # argv cannot hold NUL
    def one(case: Case) -> None:
        nonlocal left_behind
        index = sum(outcomes.values())
        work = tmp_path / f"case{index}"
        work.mkdir()
        config = None if case.mode == "set" else _write(case, work)
        config_args = [] if config is None else ["--config", str(config)]
        try:
            load_config(config, case.overrides() if case.mode == "set" else [])
        except UsageError:
            # every other refused case goes through `train` (imports torch, ~3 s), the rest `config show`
            out = work / "out"
            command = ["train", "-c", "graph_vae", "--output", str(out)] if index % 2 == 0 else ["config", "show"]
            proc = run_cli(*command, *config_args, *(case.set_args() if case.mode == "set" else []), timeout=120)
            line = assert_one_line_error(proc, 2)
            check_outcome(case, proc.returncode, line, "" if config is None else str(config))
            left_behind += out.exists()
            assert not out.exists(), f"refused config left {out}"
            outcomes["refused"] += 1
            return
        proc = run_cli("config", "show", *config_args, *(case.set_args() if case.mode == "set" else []), timeout=120)
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
        check_resolved(yaml.safe_load(proc.stdout))
        outcomes["valid"] += 1

    one()
    trials = sum(outcomes.values())
    assert trials >= CLI_EXAMPLES * 0.9 and outcomes["refused"] > 0, outcomes
    fault_table.record("config fuzzing (CLI subprocess)", trials=trials, survived=trials, data_lost=left_behind,
                       detail=f"{outcomes['refused']} refused by `astrobio train`/`config show` (exit 2, one "
                              f"line, no output folder), {outcomes['valid']} valid via `config show`; "
                              f"{time.perf_counter() - start:.0f} s")

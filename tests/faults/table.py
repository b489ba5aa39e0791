"""Rows of the fault suite's table, rendered as text and as JSON, and the verdict over them.

The table can say no: `EXPECTED` names the rows each fault test must record, so a row that a
failing, skipped or deselected-by-accident test never wrote shows up as missing, and a test that
failed after recording marks its rows failed. `all_survived` is true only when every expected row
of the tests that were collected is present, passed, and survived every trial without data loss.
"""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any


EXPECTED: dict[str, tuple[str, ...]] = {
    "test_input_config.py::test_generated_configs_in_process": ("config fuzzing (in-process CLI)",),
    "test_input_config.py::test_generated_configs_through_the_cli": ("config fuzzing (CLI subprocess)",),
    "test_input_data.py::test_malformed_user_files_give_one_line_naming_file_and_place":
        ("malformed data files (loaders)",),
    "test_input_data.py::test_malformed_user_files_through_the_cli": ("malformed data files (CLI train)",),
    "test_input_paths.py::test_hostile_keys_and_names_never_leave_the_store_root":
        ("path traversal: store API + key helpers",),
    "test_input_paths.py::test_hostile_manifest_cannot_write_outside_the_fetch_folder":
        ("path traversal: hostile manifest on fetch",),
    "test_input_paths.py::test_hostile_run_ids_in_config_are_refused[run.run_id]": ("path traversal: config run.run_id",),
    "test_input_paths.py::test_hostile_run_ids_in_config_are_refused[run.name]": ("path traversal: config run.name",),
    "test_input_paths.py::test_hostile_names_through_the_cli": ("path traversal: CLI -c / run id",),
    "test_input_weights.py::test_code_carrying_weights_are_refused_through_the_cli": ("untrusted weights (code pickles)",),
    "test_run_kill.py::test_run_killed_within_and_between_phases_resumes_without_redoing_work": (
        "astrobio run SIGKILLed mid-training (phase 1)", "astrobio run SIGTERMed (parent pid only) mid-training",
        "astrobio run SIGKILLed between phases 1 and 2"),
    "test_security_pods.py::test_rendered_training_pods_are_locked_down":
        ("pod security: rendered PyTorchJob/TrainJob/Katib trials",),
    "test_security_pods.py::test_committed_generated_files_are_locked_down": ("pod security: manifests/ and chart files/",),
    "test_security_pods.py::test_chart_pods_are_locked_down_with_any_values":
        ("pod security: helm chart (default + non-default values)",),
    "test_security_pods.py::test_kfp_executors_carry_only_secret_references":
        ("pod security: KFP executors (YAML-expressible part)",),
    "test_security_pods.py::test_rbac_is_least_privilege": ("rbac: least privilege (chart roles)",),
    "test_security_secrets.py::test_no_secret_in_stdout_or_stderr": ("secret leak: stdout/stderr",),
    "test_security_secrets.py::test_no_secret_in_run_folders": ("secret leak: run folders",),
    "test_security_secrets.py::test_no_secret_in_store_objects": ("secret leak: store objects",),
    "test_security_secrets.py::test_no_secret_in_rendered_files":
        ("secret leak: rendered manifests/pipeline/components/chart files",),
    "test_security_secrets.py::test_chart_keeps_keys_only_in_its_secret": ("secret leak: helm chart output",),
    "test_security_secrets.py::test_failing_runs_do_not_echo_the_secret": ("secret leak: error lines of failing runs",),
    "test_security_secrets.py::test_store_uri_with_keys_is_not_echoed":
        ("secret leak: store.uri with KEY:SECRET@ (error line)",),
    "test_store_outage.py::test_store_crash_mid_upload_is_ridden_out_by_retries":
        ("object store crashes mid-upload, back within retry budget",),
    "test_store_outage.py::test_store_down_past_retry_budget_fails_clearly_and_rerun_publishes_without_retraining":
        ("object store down past retry budget, then back (rerun)",),
    "test_store_outage.py::test_store_5xx_mid_upload_is_retried": ("object store answers 5xx mid-upload",),
    "test_trainer_corrupt.py::test_bad_newest_checkpoint_is_skipped_with_warning":
        ("corrupt/truncated newest checkpoint, missing checksum",),
    "test_trainer_ddp.py::test_dead_rank_fails_fast_is_named_and_restart_resumes": ("one DDP rank SIGKILLed (2 ranks, gloo)",),
    "test_trainer_disk_full.py::test_disk_full_during_checkpoint": ("disk full while writing a checkpoint",),
    "test_trainer_nan.py::test_nan_and_inf_under_each_policy": ("NaN/inf loss (nan_policy)",),
    "test_trainer_sigkill.py::test_sigkill_at_random_steps_and_mid_checkpoint":
        ("SIGKILL at random steps + mid-checkpoint-write",),
    "test_trainer_sigkill.py::test_sigkill_from_an_external_killer_at_random_times":
        ("SIGKILL from an external killer at random times",),
    "test_trainer_sigterm.py::test_sigterm_checkpoints_within_grace_and_resumes": ("SIGTERM (pod eviction), 30 s grace",),
    "test_trainer_reader_gone.py::test_trainer_checkpoints_when_its_output_reader_goes_away":
        ("trainer's output reader gone (SIGTERM then pipe closed; pipe closed alone)",),
}
"""Rows each fault test must record, by `<file>::<test>[params]` under tests/faults/."""


@dataclass(frozen=True)
class FaultRow:
    fault: str
    trials: int
    survived: int
    data_lost: int
    detail: str = ""
    test: str = ""
    failure: str | None = None


@dataclass
class FaultTable:
    rows: list[FaultRow] = field(default_factory=list)
    current_test: str = ""
    """Key (`<file>::<test>`) of the test running now; set by the conftest before each test."""

    def record(self, fault: str, *, trials: int, survived: int, data_lost: int, detail: str = "") -> None:
        """Add one row; `survived`/`data_lost` are counts out of `trials`, measured by the test.
        Record before asserting, so a failing test still leaves what it measured."""
        if not 0 <= survived <= trials or not 0 <= data_lost <= trials:
            raise ValueError(f"fault row '{fault}': survived {survived} / data_lost {data_lost} out of {trials}")
        self.rows.append(FaultRow(fault, trials, survived, data_lost, detail, self.current_test))

    def settle(self, outcomes: dict[str, str | None]) -> list[FaultRow]:
        """The final rows: `outcomes` maps each collected fault test to None (passed) or its failure
        (a failed or skipped test). A recorded row of a failed test carries the failure; an expected
        row never recorded becomes a 0-trial row that says why; a row nobody expects is flagged."""
        rows = [row if outcomes.get(row.test) is None else replace(row, failure=outcomes[row.test])
                for row in self.rows]
        recorded = {(row.test, row.fault) for row in rows}
        for test, failure in outcomes.items():
            for fault in EXPECTED.get(test, ()):
                if (test, fault) not in recorded:
                    why = failure or "test passed but never recorded this row"
                    rows.append(FaultRow(fault, 0, 0, 0, "", test, f"missing: {why}"))
        return [row if row.fault in EXPECTED.get(row.test, ()) else
                replace(row, failure=row.failure or f"unexpected row: add it to EXPECTED for {row.test}")
                for row in rows]


def render(rows: list[FaultRow]) -> str:
    """The table as aligned text (a failure replaces the measured detail)."""
    head = ("fault", "trials", "survived", "data lost", "measured")
    body = [(r.fault, str(r.trials), str(r.survived), str(r.data_lost), r.failure or r.detail) for r in rows]
    widths = [max(len(row[i]) for row in (head, *body)) for i in range(len(head))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in (head, *body)]
    return "\n".join([lines[0], "  ".join("-" * w for w in widths), *lines[1:]])


def machine_info() -> dict[str, Any]:
    import torch

    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "torch": torch.__version__,
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}


def survived(row: FaultRow) -> bool:
    return row.failure is None and row.trials > 0 and row.survived == row.trials and row.data_lost == 0


def all_survived(rows: list[FaultRow]) -> bool:
    return bool(rows) and all(survived(row) for row in rows)


def write_report(path: str | os.PathLike[str], rows: list[FaultRow], machine: dict[str, Any],
                 command: list[str]) -> None:
    """The table as JSON (temp name + rename): the verdict, the failures spelled out, every row."""
    report = {"command": command, "machine": machine, "all_survived": all_survived(rows),
              "failures": [{"fault": r.fault, "test": r.test, "failure": r.failure or "survived < trials or data lost"}
                           for r in rows if not survived(r)],
              "rows": [asdict(r) for r in rows]}
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=2) + "\n")
    os.replace(tmp, target)

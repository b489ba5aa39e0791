"""kfp.local's output filed by step, with start/end events (lines as kfp 2.13's task_dispatcher writes them)."""

from __future__ import annotations

from astrobio.pipeline.step_logs import StepLogRouter, log_path, tail

KFP_TEXT = (
    "13:40:01.000 - INFO - Running pipeline: \x1b[95m'astrobio-five-phase'\x1b[0m\n"
    "13:40:01.100 - INFO - Executing task \x1b[96m'train-causal'\x1b[0m\n"
    '    {"executorInput": {"inputs": {}}}\n'
    "    causal: running astrobio train --component causal\n"
    "    [causal] step 50/600 loss=1.9\n"
    "13:40:09.000 - INFO - Task \x1b[96m'train-causal'\x1b[0m finished with status \x1b[92mSUCCESS\x1b[0m\n"
    "13:40:09.100 - INFO - Executing task \x1b[96m'train-fusion'\x1b[0m\n"
    "    fusion: runs://x is already complete; reusing it (new run id to retrain)\n"
    "13:40:10.000 - INFO - Task \x1b[96m'train-fusion'\x1b[0m finished with status \x1b[92mSUCCESS\x1b[0m\n"
    "13:40:10.100 - INFO - Executing task \x1b[96m'train-llm'\x1b[0m\n"
    "    error: llm: exited with code 3\n"
    "13:40:11.000 - ERROR - Task \x1b[96m'train-llm'\x1b[0m finished with status \x1b[91mFAILURE\x1b[0m\n"
)


def test_lines_go_to_their_step_log_and_events_name_start_end_and_outcome(tmp_path):
    events = []
    router = StepLogRouter(tmp_path, events.append)
    for i in range(0, len(KFP_TEXT), 7):  # arbitrary chunks: lines split across writes
        router.write(KFP_TEXT[i:i + 7])
    router.close()
    assert [(e.kind, e.task, e.status) for e in events] == [
        ("start", "train-causal", ""), ("end", "train-causal", "SUCCESS"),
        ("start", "train-fusion", ""), ("end", "train-fusion", "REUSED"),
        ("start", "train-llm", ""), ("end", "train-llm", "FAILURE")]
    causal = log_path(tmp_path, "train-causal").read_text()
    assert "executorInput" in causal and "step 50/600" in causal and "\x1b[" not in causal
    assert "Running pipeline" in log_path(tmp_path, "kfp-local").read_text()
    assert router.errors == ["error: llm: exited with code 3"]
    assert tail(log_path(tmp_path, "train-causal"), 5, "causal: running ")[0].startswith("causal: running")
    assert tail(tmp_path / "missing.log") == []

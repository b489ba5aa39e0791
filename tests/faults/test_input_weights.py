"""Bad input refused: weights files whose unpickling would run code, through the real CLI.

Each file carries a `__reduce__` payload that would create a marker file (via `os.system` or
`builtins.exec`) in the forms a user hands us: a torch zip `.pt`, a raw-pickle `.pth`, a Lightning
`.ckpt` with the payload inside `state_dict`, and a checkpoint folder's `state.pt`. They go through
`astrobio models inspect` and `init_from` of `astrobio train`; every one must be refused with one
line (exit 2) and the marker must never appear. The causal component is used because its data
builds in well under a second, which keeps each CLI call short.
"""

from __future__ import annotations

import builtins
import json
import os
import pickle
from pathlib import Path

import torch

from tests.cli_helpers import SMOKE, assert_one_line_error, run_cli


class SystemPayload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204 - the attack itself
        return (os.system, (f"touch {self.marker}",))


class ExecPayload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204 - the attack itself
        return (builtins.exec, (f"open({str(self.marker)!r}, 'w').write('ran')",))


PAYLOADS = {"os.system": SystemPayload, "builtins.exec": ExecPayload}


def craft(form: str, payload: object, folder: Path) -> Path:
    """A hostile weights file of `form`; the payload sits where a tensor would be."""
    if form == ".pt":
        path = folder / "evil.pt"
        torch.save({"weight": torch.zeros(2), "bias": payload}, path)
    elif form == ".pth":
        path = folder / "evil.pth"
        with open(path, "wb") as fh:
            pickle.dump({"model_state_dict": {"weight": payload}, "epoch": 3}, fh, protocol=2)
    elif form == ".ckpt":
        path = folder / "evil.ckpt"
        torch.save({"state_dict": {"model.weight": payload}, "epoch": 1, "pytorch-lightning_version": "2.4.0"}, path)
    else:  # a checkpoint folder as astrobio writes it, with the payload in its state.pt
        ckpt = folder / "checkpoints" / "step-00000010"
        ckpt.mkdir(parents=True)
        path = ckpt / "state.pt"
        torch.save({"step": 10, "optimizer": payload}, path)
        (ckpt / "meta.json").write_text(json.dumps({"step": 10, "files": {}}))
    return path


FORMS = (".pt", ".pth", ".ckpt", "checkpoint state.pt")


def test_code_carrying_weights_are_refused_through_the_cli(tmp_path, fault_table):
    trials = refused = ran = stray = 0
    calls: list[tuple[str, str, str]] = [(f, p, "inspect") for f in FORMS for p in PAYLOADS]
    calls += [(".pt", "os.system", "init_from"), ("checkpoint state.pt", "builtins.exec", "init_from")]
    for number, (form, payload_name, how) in enumerate(calls):
        work = tmp_path / f"t{number}"
        work.mkdir()
        marker = work / "MARKER"
        path = craft(form, PAYLOADS[payload_name](marker), work)
        if how == "inspect":
            proc = run_cli("models", "inspect", str(path), "-c", "causal", "--config", str(SMOKE), timeout=180)
        else:
            proc = run_cli("train", "-c", "causal", "--config", str(SMOKE), "--output", str(work / "out"),
                           "--set", f"components.causal.init_from={path}", "--set", "components.causal.trainer.max_steps=2",
                           timeout=180)
        trials += 1
        ran += marker.exists()
        assert not marker.exists(), f"{form} payload {payload_name} ran via {how}"
        assert_one_line_error(proc, 2, str(path), "refused", "never pickled code")
        refused += 1
        # a refused init_from leaves no output folder behind (the command removes the one it created)
        leftover = sorted(p.name for p in (work / "out").iterdir()) if (work / "out").exists() else []
        stray += bool(leftover)
        assert leftover == [], leftover
    fault_table.record("untrusted weights (code pickles)", trials=trials, survived=refused, data_lost=stray,
                       detail=f"{len(FORMS)} file forms x {len(PAYLOADS)} payloads via `models inspect`, 2 via "
                              f"init_from: refused with one line, exit 2, payload ran {ran} times; "
                              f"{stray} init_from refusals left an output folder")

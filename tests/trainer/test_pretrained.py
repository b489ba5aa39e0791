"""init_from / models inspect: every supported file shape, key reports, and refusal of code pickles."""

from __future__ import annotations

import os
import pickle

import pytest
import torch
from safetensors.torch import save_file

from astrobio.errors import UsageError
from astrobio.trainer.pretrained import apply_init_from, inspect_weights


def model() -> torch.nn.Module:
    return torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))


def trained_state() -> dict[str, torch.Tensor]:
    torch.manual_seed(1)
    return model().state_dict()


@pytest.mark.parametrize("shape", ["plain", "checkpoint", "lightning", "ddp", "safetensors"])
def test_supported_files_load_cleanly(tmp_path, shape):
    state = trained_state()
    path = tmp_path / ("w.safetensors" if shape == "safetensors" else "w.pth")
    if shape == "plain":
        torch.save(state, path)
    elif shape == "checkpoint":
        torch.save({"model_state_dict": state, "epoch": 3, "optimizer": {"lr": 0.1}}, path)
    elif shape == "lightning":
        path = tmp_path / "w.ckpt"
        torch.save({"state_dict": {f"model.{k}": v for k, v in state.items()}, "epoch": 3, "global_step": 10,
                    "pytorch-lightning_version": "2.4.0"}, path)
    elif shape == "ddp":
        torch.save({f"module.{k}": v for k, v in state.items()}, path)
    else:
        save_file(state, str(path))
    target = model()
    report = apply_init_from(target, path, strict=True)
    assert report.clean and len(report.matching) == 4
    for key, value in state.items():
        assert torch.equal(target.state_dict()[key], value)


def test_report_names_missing_unexpected_and_misshaped(tmp_path):
    state = trained_state()
    state["0.weight"] = torch.zeros(5, 4)
    state.pop("2.bias")
    state["extra.weight"] = torch.zeros(1)
    path = tmp_path / "w.pth"
    torch.save(state, path)
    report = inspect_weights(path, model())
    assert report.missing == ["2.bias"] and report.unexpected == ["extra.weight"]
    assert report.mismatched == [("0.weight", [5, 4], [3, 4])]
    text = report.render()
    assert "mis-shaped  0.weight: file [5, 4] vs model [3, 4]" in text and "missing     2.bias" in text
    with pytest.raises(UsageError, match="does not match the architecture"):
        apply_init_from(model(), path, strict=True)
    loaded = apply_init_from(model(), path, strict=False)
    assert loaded.matching == ["0.bias", "2.weight"]


class Payload:
    def __reduce__(self):
        return (os.system, (f"touch {os.environ.get('PAYLOAD_MARKER', '/tmp/astrobio-payload-ran')}",))


def test_code_payload_is_refused_and_never_runs(tmp_path, monkeypatch):
    marker = tmp_path / "ran"
    monkeypatch.setenv("PAYLOAD_MARKER", str(marker))
    path = tmp_path / "evil.pth"
    for protocol in (2, 4):
        with open(path, "wb") as fh:
            pickle.dump({"0.weight": Payload()}, fh, protocol=protocol)
        with pytest.raises(UsageError, match="refused.*never pickled code") as info:
            inspect_weights(path, model())
        if protocol == 2:
            assert "system" in str(info.value)  # names the global it refused
    assert not marker.exists()


@pytest.mark.parametrize("content,pattern", [(None, "not found"), (b"not a torch file", "weights-only"),
                                             (b"\x00\x01garbage", "weights-only"), (b"PK\x03\x04junk", "unreadable")])
def test_bad_files(tmp_path, content, pattern):
    path = tmp_path / "w.pth"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(UsageError, match=pattern):
        inspect_weights(path, model())


def test_bad_safetensors(tmp_path):
    path = tmp_path / "w.safetensors"
    path.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{bad}   ")
    with pytest.raises(UsageError, match="not a valid safetensors"):
        inspect_weights(path, model())


def test_no_state_dict_inside(tmp_path):
    path = tmp_path / "w.pth"
    torch.save({"epoch": 3, "note": "no weights"}, path)
    with pytest.raises(UsageError, match="no state dict found"):
        inspect_weights(path, model())

"""`EagerAdamW` is `torch.optim.AdamW`, bit for bit, with torch._dynamo loaded or not, and while it
is not loaded, the optimizer does not load it (issue #19 item 4: ~1.2 s of each training's start-up).

Upstream: torch/_compile.py `_disable_dynamo` imports torch._dynamo on a wrapped method's first
call (Optimizer.add_param_group, zero_grad, state_dict, load_state_dict); torch/optim/optimizer.py
`_use_grad_for_differentiable` imports it in every `step` for `torch._dynamo.graph_break()`. The
no-dynamo case runs in a fresh interpreter, since what matters is what is (not yet) imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import torch

from astrobio.trainer.eager_adamw import EagerAdamW

SRC = Path(__file__).resolve().parents[2] / "src"


def train(optimizer: type[torch.optim.Optimizer]) -> tuple[list[torch.Tensor], dict]:
    """Six steps with warm-up, weight decay and clipping; a state_dict round trip into a fresh
    optimizer; three more steps. Returns the parameters and the final optimizer state."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    data = torch.randn(9, 32, 5)
    opt = optimizer(model.parameters(), lr=3e-2, betas=(0.9, 0.95), weight_decay=0.1)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: min(1.0, (step + 1) / 3))
    for i, batch in enumerate(data):
        if i == 6:
            saved = opt.state_dict()
            opt = optimizer(model.parameters(), lr=3e-2, betas=(0.9, 0.95), weight_decay=0.1)
            opt.load_state_dict(saved)
        opt.zero_grad(set_to_none=True)
        model(batch).pow(2).mean().backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        opt.step()
        sched.step()
    return [p.detach().clone() for p in model.parameters()], opt.state_dict()


def assert_same(a: tuple[list[torch.Tensor], dict], b: tuple[list[torch.Tensor], dict]) -> None:
    assert all(torch.equal(x, y) for x, y in zip(a[0], b[0], strict=True))
    assert a[1]["param_groups"] == b[1]["param_groups"]
    for key, state in a[1]["state"].items():
        assert state.keys() == b[1]["state"][key].keys()
        assert all(torch.equal(state[k], b[1]["state"][key][k]) for k in state)


_PROBE = """
import json, sys, torch
from tests.trainer.test_eager_adamw import train
from astrobio.trainer.eager_adamw import EagerAdamW
params, state = train(EagerAdamW)
loaded = "torch._dynamo" in sys.modules
torch.save({"params": params, "state": state}, sys.argv[1])
print(json.dumps({"dynamo_loaded": loaded, "grad_fns": [p.grad_fn is not None for p in params]}))
"""


def test_without_dynamo_loaded_it_steps_as_adamw_and_never_loads_it(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), str(SRC.parent), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", _PROBE, str(tmp_path / "eager.pt")], env=env, capture_output=True,
                          text=True, timeout=300, cwd=SRC.parent)
    assert done.returncode == 0, done.stderr[-2000:]
    facts = json.loads(done.stdout.strip().splitlines()[-1])
    assert facts == {"dynamo_loaded": False, "grad_fns": [False] * 4}
    eager = torch.load(tmp_path / "eager.pt", weights_only=True)
    assert_same((eager["params"], eager["state"]), train(torch.optim.AdamW))


def test_with_dynamo_loaded_it_defers_to_torch_and_still_matches() -> None:
    import torch._dynamo  # noqa: F401  (the state a compile, DDP or transformers leaves behind)

    assert_same(train(EagerAdamW), train(torch.optim.AdamW))


def test_it_is_an_adamw_to_schedulers_and_checkpoints() -> None:
    opt = EagerAdamW([torch.nn.Parameter(torch.zeros(2))], lr=0.1)
    assert isinstance(opt, torch.optim.AdamW)
    assert opt.state_dict()["param_groups"][0]["lr"] == 0.1
    assert EagerAdamW.zero_grad.__doc__ == torch.optim.Optimizer.zero_grad.__doc__

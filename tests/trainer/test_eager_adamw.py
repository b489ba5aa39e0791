"""`EagerAdamW` is `torch.optim.AdamW`, bit for bit and hook for hook, with torch._dynamo loaded or
not, and while it is not loaded, the optimizer does not load it (issue #19 item 4: ~1.2 s of each
training's start-up).

Upstream: torch/_compile.py `_disable_dynamo` imports torch._dynamo on a wrapped method's first
call (Optimizer.add_param_group, zero_grad, state_dict, load_state_dict); torch/optim/optimizer.py
`_use_grad_for_differentiable` imports it in every `step` for `torch._dynamo.graph_break()`, and
`_patch_step_function` wraps a class's `step` in `profile_hook_step` (the step hooks) at its first
instance. Each case runs in a fresh interpreter: what matters is what is (not yet) imported, and
the pytest process's modules depend on the tests before this one.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from astrobio.trainer.eager_adamw import EagerAdamW
from tests.cli_helpers import ROOT, fresh_python_env
STEPS = 9


def train(optimizer: type[torch.optim.Optimizer]) -> dict[str, Any]:
    """Nine closure steps with warm-up, weight decay and clipping, a state_dict round trip into a
    fresh optimizer after six, and per-instance step hooks counting their calls."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    data = torch.randn(STEPS, 32, 5)
    hooks = {"pre": 0, "post": 0}

    def make() -> torch.optim.Optimizer:
        opt = optimizer(model.parameters(), lr=3e-2, betas=(0.9, 0.95), weight_decay=0.1)
        opt.register_step_pre_hook(lambda *_: hooks.__setitem__("pre", hooks["pre"] + 1))
        opt.register_step_post_hook(lambda *_: hooks.__setitem__("post", hooks["post"] + 1))
        return opt

    opt = make()
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: min(1.0, (step + 1) / 3))
    losses = []
    for i, batch in enumerate(data):
        if i == 6:
            saved = opt.state_dict()
            opt = make()
            opt.load_state_dict(saved)

        def closure(batch: torch.Tensor = batch, opt: torch.optim.Optimizer = opt) -> torch.Tensor:
            opt.zero_grad(set_to_none=True)
            loss = model(batch).pow(2).mean()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            return loss

        losses.append(opt.step(closure).detach())
        sched.step()
    return {"params": [p.detach().clone() for p in model.parameters()], "state": opt.state_dict(),
            "losses": torch.stack(losses), "hooks": hooks}


def differentiable_update(optimizer: type[torch.optim.Optimizer]) -> tuple[torch.Tensor, torch.Tensor]:
    """One step with `differentiable=True`, which must run with grad enabled: the updated value and
    the gradient through the update back to its input (weight decay scales it by 1 - lr * wd;
    an update run without grad would leave it 1)."""
    torch.manual_seed(0)
    source = torch.randn(3, requires_grad=True)
    param = source.clone()
    opt = optimizer([param], lr=0.1, weight_decay=0.5, differentiable=True)
    param.grad = torch.ones(3)
    opt.step()
    param.sum().backward()
    return param.detach().clone(), source.grad.clone()


def assert_same(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert all(torch.equal(x, y) for x, y in zip(a["params"], b["params"], strict=True))
    assert torch.equal(a["losses"], b["losses"])
    assert a["state"]["param_groups"] == b["state"]["param_groups"]
    assert a["state"]["state"].keys() == b["state"]["state"].keys()
    for key, state in a["state"]["state"].items():
        assert state.keys() == b["state"]["state"][key].keys()
        assert all(torch.equal(state[k], b["state"]["state"][key][k]) for k in state)


_PROBE = """
import json, sys, torch
from tests.trainer.test_eager_adamw import differentiable_update, train
from astrobio.trainer.eager_adamw import EagerAdamW
breaks = [0]
if sys.argv[2] == "dynamo":
    train(torch.optim.AdamW)  # a plain AdamW first: dynamo loaded, AdamW.step already hooked
    import torch._dynamo
    graph_break = torch._dynamo.graph_break
    def counted():
        breaks[0] += 1
        return graph_break()
    torch._dynamo.graph_break = counted
run = train(EagerAdamW)
run["differentiable"] = differentiable_update(EagerAdamW)
torch.save(run, sys.argv[1])
print(json.dumps({"dynamo_loaded": "torch._dynamo" in sys.modules, "graph_breaks": breaks[0]}))
"""


def probe(tmp_path: Path, mode: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """`train` and `differentiable_update` with EagerAdamW in a fresh interpreter (`mode`: "fresh",
    or "dynamo" after a plain AdamW has run): the facts line and the saved results."""
    env = fresh_python_env(with_root=True)
    done = subprocess.run([sys.executable, "-c", _PROBE, str(tmp_path / "eager.pt"), mode], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), torch.load(tmp_path / "eager.pt", weights_only=True)


@pytest.mark.parametrize("mode", ["fresh", "dynamo"])
def test_it_steps_as_adamw_with_or_without_dynamo(tmp_path: Path, mode: str) -> None:
    facts, eager = probe(tmp_path, mode)
    # fresh: dynamo never loaded (the point); dynamo: torch's wrapper ran, two graph breaks in each
    # of the STEPS steps and in differentiable_update's one
    assert facts == ({"dynamo_loaded": False, "graph_breaks": 0} if mode == "fresh"
                     else {"dynamo_loaded": True, "graph_breaks": 2 * (STEPS + 1)})
    assert eager["hooks"] == {"pre": STEPS, "post": STEPS}  # once each, not twice (two profiler wrappers)
    assert_same(eager, train(torch.optim.AdamW))
    value, through = differentiable_update(torch.optim.AdamW)
    assert torch.allclose(through, torch.full((3,), 0.95))
    assert torch.equal(eager["differentiable"][0], value) and torch.equal(eager["differentiable"][1], through)


def test_it_is_an_adamw_to_schedulers_checkpoints_and_readers() -> None:
    opt = EagerAdamW([torch.nn.Parameter(torch.zeros(2))], lr=0.1)
    assert isinstance(opt, torch.optim.AdamW)
    assert opt.state_dict()["param_groups"][0]["lr"] == 0.1
    assert EagerAdamW.zero_grad.__doc__ == torch.optim.Optimizer.zero_grad.__doc__
    assert EagerAdamW.zero_grad.__qualname__ == "EagerAdamW.zero_grad"
    assert inspect.signature(EagerAdamW.zero_grad) == inspect.signature(inspect.unwrap(torch.optim.Optimizer.zero_grad))

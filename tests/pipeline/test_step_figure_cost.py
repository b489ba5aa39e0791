"""A pipeline step draws its component's figure without importing the component's model (#19 item 5).

Profiled (cProfile of a reused `train-spectra` step under kfp.local): `step_figures_html` spent 84%
of the step in `get_spec('spectra')`, i.e. importing diffusers (and through it peft and
torch._dynamo) only to reach `SPEC.figure`, which ComponentSpec requires to live in
`components/<name>/figure.py` and to need no model. The hook is now the catalog row's `figure`
(`get_figure`), and `get_spec` refuses a SPEC whose figure is not that function.

Then torch itself: every figure module imported torch at the top for `save`'s type hint, and a
`import torch` costs 2.2 s of the ~4.5 s each step of `astrobio run --phases 1-2` spent outside
training (2026-12-03, idle 2 cores; pipeline_overhead 31.6% in CPU time). `draw` needs numpy and
matplotlib only, so torch is imported inside `save`, which runs in the training process.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from astrobio.catalog import component_names, get_figure, get_spec


@pytest.mark.parametrize("name", component_names())
def test_the_hook_is_the_specs_own_figure(name: str) -> None:
    assert get_figure(name) is get_spec(name).figure is not None


def test_reaching_the_figure_imports_no_model_library_nor_torch() -> None:
    code = ("import sys\nfrom astrobio.catalog import component_names, get_figure\n"
            "hooks = [get_figure(n) for n in component_names()]\n"
            "print(all(hooks), sorted(m for m in ('diffusers', 'torch_geometric', 'transformers', 'peft', 'torch')"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "[]"]

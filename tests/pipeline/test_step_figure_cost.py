"""A pipeline step draws its component's figure without importing the component's model (#19 item 5).

Profiled (cProfile of a reused `train-spectra` step under kfp.local): `step_figures_html` spent 84%
of the step in `get_spec('spectra')`, i.e. importing diffusers (and through it peft and
torch._dynamo) only to reach `SPEC.figure`, which ComponentSpec requires to live in
`components/<name>/figure.py` and to need no model. The hook is now taken from that module.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from astrobio.catalog import component_names, get_spec
from astrobio.report.build import figure_hook


@pytest.mark.parametrize("name", component_names())
def test_the_hook_is_the_specs_own_figure(name: str) -> None:
    assert figure_hook(name) is get_spec(name).figure


def test_reaching_the_figure_imports_no_model_library() -> None:
    code = ("import sys\nfrom astrobio.report.build import figure_hook\n"
            "hooks = [figure_hook(n) for n in ('spectra', 'graph_vae', 'llm')]\n"
            "print(all(hooks), sorted(m for m in ('diffusers', 'torch_geometric', 'transformers', 'peft') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "[]"]

"""graph_vae config: strict keys, source names or SBML paths, and a torch-free import."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import ValidationError

from astrobio.components.graph_vae.config import DEFAULT_CURRENCY, GraphVAEConfig
from tests.components.graph_vae.helpers import make_cfg


def test_defaults_validate_and_cover_the_usual_currency():
    cfg = GraphVAEConfig()
    assert cfg.data.sources == ["iJO1366"]
    assert {"h2o", "h", "atp", "adp", "nad", "nadh", "nadp", "nadph", "pi", "ppi", "co2", "o2", "nh4", "coa"} <= set(DEFAULT_CURRENCY)


@pytest.mark.parametrize("sources", [["textbook", "salmonella"], ["/data/my_model.xml"], ["m.xml.gz"], ["M.SBML"]])
def test_bundled_names_and_sbml_paths_are_accepted(sources):
    assert make_cfg({"sources": sources}).data.sources == sources


@pytest.mark.parametrize("data", [
    {"sources": ["ecoli"]},               # not bundled, not a file path
    {"sources": []},
    {"sources": ["textbook", "textbook"]},
    {"graph": "reaction"},
    {"val_frac": 0.6},
    {"val_frac": 0.45, "test_frac": 0.45},
    {"neg_ratio": 0},
    {"sorces": ["textbook"]},             # typo of a key
])
def test_bad_data_values_are_rejected(data):
    with pytest.raises(ValidationError):
        make_cfg(data)


@pytest.mark.parametrize("model", [{"encoder": "gat"}, {"decoder": "bilinear"}, {"hidden_dim": 0},
                                   {"encoder": "transformer", "hidden_dim": 30, "heads": 4}, {"dropout": 1.0}])
def test_bad_model_values_are_rejected(model):
    with pytest.raises(ValidationError):
        make_cfg(model=model)


def test_config_module_imports_neither_torch_nor_cobra():
    code = ("import sys, astrobio.components.graph_vae.config; "
            "print(any(m.split('.')[0] in ('torch', 'cobra', 'torch_geometric') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

"""Bad input is a one-line UsageError naming the file (and line/column) or the config field."""

from __future__ import annotations

import pydantic
import pytest

from astrobio.components.causal.data import build_data
from astrobio.errors import UsageError
from tests.components.causal.conftest import chain_rows, make_cfg, write_csv


def test_missing_csv(tmp_path):
    with pytest.raises(UsageError, match=r"data\.source: file .*nope\.csv not found"):
        build_data(make_cfg(data={"source": str(tmp_path / "nope.csv")}), 0, 1, None)


def test_missing_graph_file(tmp_path):
    csv = write_csv(tmp_path / "obs.csv", ["a", "b", "c"], chain_rows())
    with pytest.raises(UsageError, match=r"data\.graph: file .*g\.csv not found"):
        build_data(make_cfg(data={"source": str(csv), "graph": str(tmp_path / "g.csv")}), 0, 1, None)


def test_row_with_wrong_field_count_names_file_and_line(tmp_path):
    rows = chain_rows(20)
    rows[4] = rows[4][:2]
    csv = write_csv(tmp_path / "bad.csv", ["a", "b", "c"], rows)
    with pytest.raises(UsageError, match=r"bad\.csv line 6: 2 fields, expected 3"):
        build_data(make_cfg(data={"source": str(csv)}), 0, 1, None)


def test_non_number_names_file_line_and_column(tmp_path):
    rows = chain_rows(20)
    rows[0][1] = "high"
    csv = write_csv(tmp_path / "bad.csv", ["a", "b", "c"], rows)
    with pytest.raises(UsageError, match=r"bad\.csv line 2, column 'b': 'high' is not a number"):
        build_data(make_cfg(data={"source": str(csv)}), 0, 1, None)


def test_duplicate_header_and_too_few_rows(tmp_path):
    with pytest.raises(UsageError, match="'a' appears twice"):
        build_data(make_cfg(data={"source": str(write_csv(tmp_path / "d.csv", ["a", "a"], [[1, 2]] * 20))}), 0, 1, None)
    with pytest.raises(UsageError, match="3 data rows"):
        build_data(make_cfg(data={"source": str(write_csv(tmp_path / "s.csv", ["a", "b"], [[1, 2]] * 3))}), 0, 1, None)


def test_unknown_variable_in_edge_list(tmp_path):
    csv = write_csv(tmp_path / "obs.csv", ["a", "b", "c"], chain_rows())
    graph = tmp_path / "g.csv"
    graph.write_text("a,b\nb,zeta\n")
    with pytest.raises(UsageError, match=r"g\.csv line 2: unknown variable 'zeta'"):
        build_data(make_cfg(data={"source": str(csv), "graph": str(graph)}), 0, 1, None)


@pytest.mark.parametrize("priors, field", [
    ({"required_edges": [["stellar_flux", "biomass"]]}, r"priors\.required_edges\[0\]: unknown variable 'biomass'"),
    ({"forbidden_edges": ["o2->co2", "ozone->o2"]}, r"priors\.forbidden_edges\[1\]: unknown variable 'ozone'"),
    ({"exogenous": ["stellar_flx"]}, r"priors\.exogenous\[0\]: unknown variable 'stellar_flx'"),
    ({"tiers": [["stellar_flux"], ["co2", "Co2"]]}, r"priors\.tiers\[1\]\[1\]: unknown variable 'Co2'"),
])
def test_unknown_variable_in_a_prior_names_the_field(priors, field):
    with pytest.raises(UsageError, match=field):
        build_data(make_cfg(data={"n_samples": 100}, priors=priors), 0, 1, None)


def test_contradictory_priors():
    with pytest.raises(UsageError, match=r"required_edges\[0\].*also forbidden"):
        build_data(make_cfg(data={"n_samples": 100}, priors={"required_edges": ["co2->stellar_flux"],
                                                            "exogenous": ["stellar_flux"]}), 0, 1, None)


def test_log_transform_of_negative_column():
    with pytest.raises(UsageError, match="transform: 'log' needs positive values"):
        build_data(make_cfg(data={"transform": "log", "n_samples": 100}), 0, 1, None)


def test_config_rejects_unknown_source_and_keys():
    with pytest.raises(pydantic.ValidationError, match="pgmpy:<name>"):
        make_cfg(data={"source": "sachz"})
    with pytest.raises(pydantic.ValidationError, match="lamda1"):
        make_cfg(model={"lamda1": 0.1})

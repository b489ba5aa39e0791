"""Bad input refused: malformed data files a user supplies instead of the bundled data.

Each loader that reads a user's file (graph_vae SBML, causal CSV and edge list, spectra and
datacube .npz) gets truncated, wrong-root, missing-attribute, non-numeric, ragged, header-less,
empty, binary and wrongly encoded files. Each must raise one UsageError line naming the file and,
where the format has them, the line/column or the field; a sample goes through `astrobio train`
(exit 2, one line, no traceback).
"""

from __future__ import annotations

import gzip
import io
import pickle
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from astrobio.components.causal.sources import read_edge_list, read_table
from astrobio.components.datacube.generate import load_user_file
from astrobio.components.graph_vae.sbml import read_sbml
from astrobio.components.spectra.config import SpectraDataConfig
from astrobio.components.spectra.data import user_file
from astrobio.errors import UsageError
from tests.cli_helpers import SMOKE, assert_one_line_error, run_cli

L3 = '<?xml version="1.0" encoding="UTF-8"?>\n<sbml xmlns="http://www.sbml.org/sbml/level3/version1/core" level="3" version="1">\n'
SBML = {  # name -> (bytes, what the error line must also say)
    "truncated.xml": ((L3 + '<model id="m"><listOfSpecies><species id="a"').encode(), r"line \d+, column \d+"),
    "wrong_root.xml": (b"<html><body>not sbml</body></html>", "root element is <html>"),
    "no_id.xml": ((L3 + '<model id="m"><listOfCompartments><compartment id="c" constant="true"/></listOfCompartments>'
                   '<listOfSpecies><species compartment="c" hasOnlySubstanceUnits="false" boundaryCondition="false" '
                   'constant="false"/></listOfSpecies></model></sbml>').encode(), r"line 3, column \d+: .*'id'"),
    "no_model.xml": ((L3 + "</sbml>").encode(), "no <model>"),
    "empty.xml": (b"", "empty"),
    "binary.xml": (bytes(range(256)) * 8, r"not well-formed XML.*line 1"),
    "latin1.xml": ((L3 + '<model id="caf\xe9"/></sbml>').encode("latin-1"), r"not well-formed XML.*line 3"),
    "not_gzip.xml.gz": (b"plain text, not gzip", "gzip"),
    "truncated.xml.gz": (gzip.compress((L3 + "<model/></sbml>").encode() * 50)[:40], "gzip"),
}
HEADER, ROWS = "a,b,c\n", "".join(f"{i},{2 * i},{3 * i}\n" for i in range(20))
CSV = {
    "non_numeric.csv": ((HEADER + ROWS + "1,high,3\n").encode(), r"line 22, column 'b': 'high' is not a number"),
    "ragged.csv": ((HEADER + ROWS + "1,2\n").encode(), r"line 22: 2 fields, expected 3"),
    "no_header.csv": (b"\n\n\n", r"line 1: no header"),
    "missing_column_name.csv": (("a,,c\n" + ROWS).encode(), r"line 1, column 2: empty variable name"),
    "empty.csv": (b"", r"line 1: no header"),
    "binary.csv": (bytes(range(256)) * 8, "not UTF-8"),
    "latin1.csv": (("a,b\xe9,c\n" + ROWS).encode("latin-1"), "not UTF-8"),
    "utf16.csv": ((HEADER + ROWS).encode("utf-16"), "not UTF-8"),
    "nul.csv": ((HEADER + ROWS + "1,\x002,3\n").encode(), r"line 22, column 'b'"),
    "infinite.csv": ((HEADER + ROWS + "1e999,1,1\n").encode(), r"line 22, column 'a': .*not a finite number"),
    "huge_field.csv": ((HEADER + '"' + "9" * 200_000 + '",1,2\n' + ROWS).encode(), "malformed CSV"),
}
EDGES = {
    "edges_three_fields.csv": (b"a,b,c\n", r"line 1: 3 fields, expected 2"),
    "edges_unknown.csv": (b"a,b\nb,zeta\n", r"line 2: unknown variable 'zeta'"),
    "edges_binary.csv": (bytes(range(256)) * 8, "not UTF-8"),
    "edges_huge_field.csv": (b'"' + b"x" * 200_000 + b'",a\n', "malformed CSV"),
    "edges_empty.csv": (b"", "no edges"),
}


def _npz(**arrays: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _bad_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("params.npy", b"not an npy header")
    return buf.getvalue()


GOOD_SPECTRA = _npz(params=np.tile([1000.0, 0.0, 0.5], (40, 1)), spectra=np.ones((40, 64)))
NPZ = {  # malformed for both spectra (params [N,3], spectra) and datacube (params [N,8], fields)
    "empty.npz": (b"", ""),
    "binary.npz": (bytes(range(256)) * 8, ""),
    "truncated.npz": (GOOD_SPECTRA[:200], ""),
    "object_array.npz": (_npz(params=np.array([object()] * 3, dtype=object)), "pickle"),
    "pickle.npz": (pickle.dumps({"params": [1, 2, 3]}), "pickle"),
    "bad_member.npz": (_bad_zip(), ""),
    "missing_arrays.npz": (_npz(other=np.zeros(3)), ""),
    "text.npz": (b"T,metallicity,C/O\n1000,0,0.5\n", ""),
}


def _loaders(path: Path, name: str) -> list[tuple[str, Callable[[], object]]]:
    if name in SBML:
        return [("graph_vae SBML", lambda: read_sbml(str(path)))]
    if name in CSV:
        return [("causal CSV", lambda: read_table(path))]
    if name in EDGES:
        return [("causal edge list", lambda: read_edge_list(path, ["a", "b", "c"]))]
    return [("spectra .npz", lambda: user_file(SpectraDataConfig(file=str(path)))),
            ("datacube .npz", lambda: load_user_file(str(path)))]


def test_malformed_user_files_give_one_line_naming_file_and_place(tmp_path, fault_table):
    trials = refused = 0
    kinds: dict[str, int] = {}
    for name, (content, needle) in {**SBML, **CSV, **EDGES, **NPZ}.items():
        path = tmp_path / name
        path.write_bytes(content)
        for kind, load in _loaders(path, name):
            trials += 1
            with pytest.raises(UsageError) as info:
                load()
            line = str(info.value)
            assert "\n" not in line and str(path) in line, line
            assert re.search(needle, line), (needle, line)
            assert "allow_pickle" not in line, line  # never advise loading a pickle
            refused += 1
            kinds[kind] = kinds.get(kind, 0) + 1
    fault_table.record("malformed data files (loaders)", trials=trials, survived=refused, data_lost=0,
                       detail=", ".join(f"{k} {n}" for k, n in kinds.items()) + "; one line naming file and line/field")


CLI_CASES = [  # (component, --set key, file name in the tables above)
    ("graph_vae", "components.graph_vae.data.sources=[{path}]", "wrong_root.xml"),
    ("graph_vae", "components.graph_vae.data.sources=[{path}]", "truncated.xml.gz"),
    ("causal", "components.causal.data.source={path}", "non_numeric.csv"),
    ("causal", "components.causal.data.source={path}", "binary.csv"),
    ("spectra", "components.spectra.data.file={path}", "truncated.npz"),
    ("datacube", "components.datacube.data.path={path}", "pickle.npz"),
]


def test_malformed_user_files_through_the_cli(tmp_path, fault_table):
    tables = {**SBML, **CSV, **NPZ}
    refused = stray = 0
    for number, (component, setting, name) in enumerate(CLI_CASES):
        path = tmp_path / name
        path.write_bytes(tables[name][0])
        out = tmp_path / f"out{number}"
        proc = run_cli("train", "-c", component, "--config", str(SMOKE), "--output", str(out),
                       "--set", setting.format(path=path), timeout=180)
        assert_one_line_error(proc, 2, str(path))
        refused += 1
        # the output folder this command created is removed again when the data is refused
        leftover = sorted(p.name for p in out.iterdir()) if out.exists() else []
        stray += bool(leftover)
        assert leftover == [], leftover
    fault_table.record("malformed data files (CLI train)", trials=len(CLI_CASES), survived=refused, data_lost=stray,
                       detail=f"exit 2, one line naming the file; {stray} output folders left behind")

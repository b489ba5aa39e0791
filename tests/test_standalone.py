"""The repository stands alone: a user's clone has nothing beside it.

CI clones the repository next to the team's desk folder, so a test that merely passes in CI could
still be reading it; only a search of every tracked file can tell."""

from __future__ import annotations

import subprocess
from pathlib import Path

from astrobio.kube.validate import SCHEMA_FILES, default_schema_dir

ROOT = Path(__file__).resolve().parents[1]
DESK = "../" + "shared"  # spelled in two parts so this file does not name it itself


def test_no_tracked_file_names_the_desk_folder():
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    offenders = []
    for name in filter(None, tracked.decode().split("\0")):
        path = ROOT / name
        if not path.is_file():
            continue
        data = path.read_bytes()
        if DESK.encode() in data:
            offenders.append(name)
    assert offenders == [], f"tracked files that name {DESK}: {offenders}"


def test_upstream_schemas_ship_inside_the_package():
    import astrobio

    folder = default_schema_dir()
    assert folder.resolve().parent == Path(astrobio.__file__).resolve().parent
    assert (folder / "SOURCES.md").is_file()
    for file in SCHEMA_FILES.values():
        assert (folder / "json" / file).is_file(), file
    sources = (folder / "SOURCES.md").read_text(encoding="utf-8")
    assert "Apache-2.0" in sources
    for crd in (folder / "crds").glob("*.yaml"):
        assert f"crds/{crd.name}" in sources, f"{crd.name} has no SOURCES.md row"

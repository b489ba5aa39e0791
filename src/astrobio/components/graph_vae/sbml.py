"""Read metabolic models from SBML files: cobra's bundled ones or a user's own.

Only cobra's local file reader is used, never a loader that fetches from a model repository, so a
run on a cluster without internet behaves exactly as on a laptop. Any file problem becomes a
one-line UsageError that names the file, because a user fixes it by changing the config.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from astrobio.components.graph_vae.config import BUNDLED_MODELS
from astrobio.errors import UsageError

# name in a config -> file name in cobra's package data
BUNDLED_FILES: dict[str, str] = {
    "textbook": "textbook.xml.gz",
    "iJO1366": "iJO1366.xml.gz",
    "salmonella": "salmonella.xml.gz",
}
assert set(BUNDLED_FILES) == set(BUNDLED_MODELS)


@dataclass(frozen=True)
class LoadedModel:
    """A cobra model with where it came from (for provenance in the model card)."""

    source: str
    path: Path
    model: Any  # cobra.Model; typed loosely so importing this module does not need cobra


def bundled_path(name: str) -> Path:
    """Path of one of cobra's bundled SBML files."""
    import cobra

    return Path(cobra.__file__).parent / "data" / BUNDLED_FILES[name]


def resolve_source(source: str) -> Path:
    """A config source (bundled name or file path) -> an existing file path, or a UsageError."""
    if source in BUNDLED_FILES:
        path = bundled_path(source)
        if not path.is_file():
            raise UsageError(f"bundled model '{source}': {path} is missing from the cobra install")
        return path
    path = Path(source).expanduser()
    if not path.exists():
        raise UsageError(f"SBML file {source}: not found")
    if not path.is_file():
        raise UsageError(f"SBML file {source}: is not a file")
    return path


def read_sbml(source: str) -> LoadedModel:
    """Load one source with `cobra.io.read_sbml_model`; unreadable or non-SBML -> UsageError."""
    import cobra.io

    path = resolve_source(source)
    # cobra logs its own parse errors before raising; the UsageError below is the one line we show.
    cobra_log = logging.getLogger("cobra")
    level = cobra_log.level
    cobra_log.setLevel(logging.CRITICAL)
    try:
        model = cobra.io.read_sbml_model(str(path))
    except Exception as exc:  # cobra raises CobraSBMLError, OSError, libsbml errors, ...
        reason = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise UsageError(f"SBML file {source}: cannot be read as SBML ({reason[:120]})") from None
    finally:
        cobra_log.setLevel(level)
    if len(model.reactions) == 0 or len(model.metabolites) == 0:
        raise UsageError(f"SBML file {source}: has no reactions or no metabolites; expected a metabolic model")
    return LoadedModel(source=source, path=path, model=model)


def read_sources(sources: list[str]) -> list[LoadedModel]:
    """Load every configured source, in order."""
    return [read_sbml(s) for s in sources]

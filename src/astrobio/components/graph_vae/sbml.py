"""Read metabolic models from SBML files: cobra's bundled ones or a user's own.

Only cobra's local file reader is used, never a loader that fetches from a model repository, so a
run on a cluster without internet behaves exactly as on a laptop. Any file problem becomes a
one-line UsageError that names the file, because a user fixes it by changing the config.
"""

from __future__ import annotations

import gzip
import logging
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

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
        reason = diagnose(path) or (str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__)
        raise UsageError(f"SBML file {source}: cannot be read as SBML ({reason[:200]})") from None
    finally:
        cobra_log.setLevel(level)
    if len(model.reactions) == 0 or len(model.metabolites) == 0:
        raise UsageError(f"SBML file {source}: has no reactions or no metabolites; expected a metabolic model")
    return LoadedModel(source=source, path=path, model=model)


def diagnose(path: Path) -> str | None:
    """Why cobra could not read `path`, with the line and element where possible.

    cobra's own error says only "something went wrong", so on failure the file is looked at again:
    compression, emptiness, XML well-formedness (expat gives line and column), the root element,
    then libsbml's first error with its line. None when none of these finds the problem.
    """
    try:
        raw = path.read_bytes()
        if path.name.lower().endswith(".gz"):
            raw = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        return f"not a readable gzip file: {exc}"
    if not raw.strip():
        return "the file is empty"
    try:
        root = ElementTree.fromstring(raw)
    except ElementTree.ParseError as exc:
        return f"not well-formed XML: {exc}"
    tag = root.tag.rsplit("}", 1)[-1]
    if tag != "sbml":
        return f"the root element is <{tag}>, expected <sbml>"
    if not any(child.tag.rsplit("}", 1)[-1] == "model" for child in root):
        return "no <model> element inside <sbml>"
    return _libsbml_error(raw)


def _libsbml_error(raw: bytes) -> str | None:
    """libsbml's first error or fatal, as 'line N, column M: what (detail)'."""
    import libsbml

    doc = libsbml.readSBMLFromString(raw.decode("utf-8", errors="replace"))
    for i in range(doc.getNumErrors()):
        err = doc.getError(i)
        if err.getSeverity() >= libsbml.LIBSBML_SEV_ERROR:
            lines = [ln.strip() for ln in err.getMessage().splitlines() if ln.strip()]
            detail = next((ln for ln in reversed(lines) if not ln.startswith("Reference")), "")
            return f"line {err.getLine()}, column {err.getColumn()}: {err.getShortMessage()} ({detail[:120]})"
    return None


def read_sources(sources: list[str]) -> list[LoadedModel]:
    """Load every configured source, in order."""
    return [read_sbml(s) for s in sources]

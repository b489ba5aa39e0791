"""Turn a pydantic ValidationError into the one line a user reads: the dotted field, what was
expected, what was given, and for an unknown key the closest valid key."""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel, ValidationError

from astrobio.errors import one_line


def _model_at(root: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model class that owns the fields at `loc` (None if it is not a model)."""
    model: type[BaseModel] | None = root
    for part in loc:
        if model is None or not isinstance(part, str) or part not in model.model_fields:
            return None
        annotation = model.model_fields[part].annotation
        model = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    return model


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _canonical(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """A top-level trainer/optim error is copied into every component section by the merge; count it once."""
    if len(loc) > 2 and loc[0] == "components" and loc[2] in ("trainer", "optim"):
        return loc[2:]
    return loc


def format_validation_error(err: ValidationError, root: type[BaseModel], source: str) -> str:
    """One line for the first error, with a count of the others."""
    errors = err.errors()
    first = errors[0]
    loc = tuple(first["loc"])
    dotted = ".".join(str(p) for p in loc) or "<root>"
    if first["type"] == "extra_forbidden":
        owner = _model_at(root, loc[:-1])
        hint = ""
        if owner is not None:
            close = difflib.get_close_matches(str(loc[-1]), list(owner.model_fields), n=1, cutoff=0.5)
            if close:
                hint = f" (did you mean '{'.'.join(str(p) for p in loc[:-1] + (close[0],))}'?)"
            valid = ", ".join(owner.model_fields)
            line = f"{source}: unknown key '{dotted}'{hint}; valid keys here: {valid}"
        else:
            line = f"{source}: unknown key '{dotted}'"
    else:
        message = first["msg"].removeprefix("Value error, ")
        line = f"{source}: {dotted}: {message} (got {_short(first.get('input'))})"
    others = len({_canonical(tuple(e["loc"])) for e in errors} - {_canonical(loc)})
    if others > 0:
        line += f" [and {others} more error{'s' if others > 1 else ''}]"
    return one_line(line)

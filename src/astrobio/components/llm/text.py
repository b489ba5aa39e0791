"""Texts about planets, generated from their known physical parameters.

Each planet yields one question/answer pair per parameter ("What is the equilibrium temperature of
this planet?" -> "About 290 K.") and optionally a short description. Answers carry numbers rounded
to two significant figures (at most 5% off, inside the 10% scoring tolerance; every further digit
is a token the model must learn and cannot be scored), tiny ones as "2.4e-5" rather than a run of
zeros the model would have to count, so a greedy-decoded answer can be parsed back and scored. Phrasing is
picked by a generator seeded per planet: the same table always gives the same texts, whatever the
rank or the order in which planets are visited.

Parameter names come from the fusion artifact; known names (the climate, spectra and catalogue
parameters used across astrobio) get a proper phrase and unit, unknown ones a readable fallback.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

# normalised name -> (short label for descriptions, what a question asks about, unit)
_T_EQ = ("equilibrium temperature", "equilibrium temperature of this planet", "K")
_T_STAR = ("host-star temperature", "effective temperature of this planet's host star", "K")
_FLUX = ("stellar flux", "stellar flux this planet receives", "W/m^2")
_RADIUS = ("radius", "radius of this planet", "Earth radii")
_GRAVITY = ("surface gravity", "surface gravity of this planet", "m/s^2")
_P_ROT = ("rotation period", "rotation period of this planet", "days")
_P_ORB = ("orbital period", "orbital period of this planet", "days")
_P0 = ("surface pressure", "surface pressure of this planet", "bar")
_MET = ("metallicity", "atmospheric metallicity [M/H] of this planet", "dex")
_CO = ("C/O ratio", "C/O ratio of this planet's atmosphere", "")
KNOWN_PARAMETERS: dict[str, tuple[str, str, str]] = {
    **dict.fromkeys(("t_eq", "teq", "equilibrium_temperature", "temperature", "t"), _T_EQ),
    **dict.fromkeys(("t_star", "teff", "stellar_temperature", "star_temperature"), _T_STAR),
    **dict.fromkeys(("f_star", "flux", "stellar_flux", "instellation"), _FLUX),
    **dict.fromkeys(("radius", "r_p", "planet_radius"), _RADIUS),
    **dict.fromkeys(("gravity", "g", "surface_gravity"), _GRAVITY),
    **dict.fromkeys(("p_rot", "rotation_period"), _P_ROT),
    **dict.fromkeys(("p_orb", "orbital_period", "period"), _P_ORB),
    **dict.fromkeys(("p0", "surface_pressure", "pressure"), _P0),
    **dict.fromkeys(("metallicity", "met", "log_met", "log_metallicity", "m_h", "[m/h]"), _MET),
    **dict.fromkeys(("c_o", "c/o", "c_to_o", "co_ratio"), _CO),
    **dict.fromkeys(("surface_temperature", "t_surf", "t_s"), ("surface temperature", "mean surface temperature of this planet", "K")),
    "log_cloud_top_bar": ("cloud-top pressure", "cloud-top pressure of this planet in log10 bar", ""),
    "mass": ("mass", "mass of this planet", "Earth masses"),
    "co2": ("CO2 fraction", "CO2 volume fraction of this planet's atmosphere", ""),
    "ch4": ("CH4 fraction", "CH4 volume fraction of this planet's atmosphere", ""),
    "albedo": ("Bond albedo", "Bond albedo of this planet", ""),
    "semi_major_axis": ("semi-major axis", "semi-major axis of this planet's orbit", "AU"),
}
QUESTION_TEMPLATES: tuple[str, ...] = ("What is the {what}?", "Tell me the {what}.")
DESCRIBE_QUESTION = "Describe this planet."
_NUMBER = re.compile(r"(?<![A-Za-z\d.])[-+]?(?:\d[\d,]*(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?")


@dataclass(frozen=True)
class Example:
    """One text: a question about a planet and its answer; `value` is set for numeric facts."""

    planet: int
    question: str
    answer: str
    value: float | None


def describe_parameter(name: str) -> tuple[str, str, str]:
    """(label, question phrase, unit) of a fusion parameter name; unknown names read as words."""
    key = name.strip().lower().replace(" ", "_").replace("-", "_")
    if key in KNOWN_PARAMETERS:
        return KNOWN_PARAMETERS[key]
    words = name.replace("_", " ").strip()
    return words, f"{words} of this planet", ""


def format_number(value: float, significant: int = 3) -> str:
    """Rounded, positional (never 1e+04): what a person would write and a parser reads back."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    rounded = float(f"{value:.{significant}g}")
    return np.format_float_positional(rounded, trim="-")


def answer_number(value: float) -> str:
    """Two significant figures; below 1e-3 in e-notation ("2.4e-5"), which is shorter and states the
    magnitude in one token instead of a count of zeros."""
    if value != 0 and math.isfinite(value) and abs(value) < 1e-3:
        mantissa, exponent = f"{value:.1e}".split("e")
        return f"{mantissa}e{int(exponent)}"
    return format_number(value, significant=2)


def _quantity(value: float, unit: str, number: str | None = None) -> str:
    return f"{number or format_number(value)} {unit}".rstrip()


def parse_number(text: str) -> float | None:
    """The first number in `text` that is not part of a word (so 'CO2' is not read as 2)."""
    match = _NUMBER.search(text)
    if match is None:
        return None
    try:
        return float(match.group(0).replace(",", ""))
    except ValueError:
        return None


def is_close(predicted: float | None, true: float, tolerance: float) -> bool:
    """Relative tolerance; a true zero needs an exact zero."""
    return predicted is not None and abs(predicted - true) <= tolerance * abs(true)


def planet_examples(planet: int, params: np.ndarray, names: list[str], seed: int,
                    describe: bool, describe_max_facts: int) -> list[Example]:
    """All texts of one planet, a pure function of (planet, its parameters, seed)."""
    rng = np.random.default_rng([seed, planet])
    facts = [(describe_parameter(n), float(v)) for n, v in zip(names, params) if math.isfinite(float(v))]
    out: list[Example] = []
    for (label, what, unit), value in facts:
        template = QUESTION_TEMPLATES[int(rng.integers(len(QUESTION_TEMPLATES)))]
        out.append(Example(planet, template.format(what=what), f"About {_quantity(value, unit, answer_number(value))}.", value))
    if describe and facts:
        picked = sorted(rng.choice(len(facts), size=min(describe_max_facts, len(facts)), replace=False))
        parts = [f"{facts[i][0][0]} about {_quantity(facts[i][1], facts[i][0][2])}" for i in picked]
        joined = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        out.append(Example(planet, DESCRIBE_QUESTION, f"This planet has {joined}.", None))
    return out

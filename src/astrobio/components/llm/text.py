"""Texts about planets, generated from their known physical parameters.

Each planet yields one short question/answer pair per ratio-scale parameter ("Equilibrium
temperature in K?" -> "290") and optionally a description. The answer is the bare number, in the
unit the question names: a fixed format that decoding can be held to (see `decode.py`), with no
words before it to spend tokens on (training cost on CPU is per token). Numbers are rounded to two
significant figures (at most 5% off, inside the 10% scoring tolerance; every further digit is a
token the model must learn and cannot be scored), tiny ones as "2.4e-5" rather than a run of zeros
the model would have to count. Only parameters whose values are all positive get numeric questions:
a relative tolerance needs a ratio scale, and a signed log quantity such as [M/H] = 0.05 would need
an answer within 0.005. The facts a description picks are drawn by a generator seeded per planet:
the same table always gives the same texts, whatever the rank or the order planets are visited in.

Parameter names come from the fusion artifact; known names (the climate, spectra and catalogue
parameters used across astrobio) get a proper phrase and unit, unknown ones a readable fallback.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

# normalised name -> (label, unit); a question reads "<Label> in <unit>?"
_T_EQ = ("equilibrium temperature", "K")
_T_STAR = ("host-star temperature", "K")
_FLUX = ("stellar flux", "W/m^2")
_RADIUS = ("radius", "Earth radii")
_GRAVITY = ("surface gravity", "m/s^2")
_P_ROT = ("rotation period", "days")
_P_ORB = ("orbital period", "days")
_P0 = ("surface pressure", "bar")
_MET = ("metallicity [M/H]", "dex")
_CO = ("C/O ratio", "")
KNOWN_PARAMETERS: dict[str, tuple[str, str]] = {
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
    **dict.fromkeys(("surface_temperature", "t_surf", "t_s"), ("surface temperature", "K")),
    "log_cloud_top_bar": ("log10 cloud-top pressure in bar", ""),
    "mass": ("mass", "Earth masses"),
    "co2": ("CO2 volume fraction", ""),
    "ch4": ("CH4 volume fraction", ""),
    "albedo": ("Bond albedo", ""),
    "semi_major_axis": ("semi-major axis", "AU"),
}
DESCRIBE_QUESTION = "Describe this planet."
_NUMBER = re.compile(r"(?<![A-Za-z\d.])[-+]?(?:\d[\d,]*(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?")


@dataclass(frozen=True)
class Example:
    """One text: a question about a planet and its answer; `value` is set for numeric facts."""

    planet: int
    question: str
    answer: str
    value: float | None
    param: int = -1  # the parameter column a numeric question asks about; -1 for a description


def describe_parameter(name: str) -> tuple[str, str]:
    """(label, unit) of a fusion parameter name; unknown names read as words, without a unit."""
    key = name.strip().lower().replace(" ", "_").replace("-", "_")
    if key in KNOWN_PARAMETERS:
        return KNOWN_PARAMETERS[key]
    return name.replace("_", " ").strip(), ""


def question(label: str, unit: str) -> str:
    """The numeric question about one parameter; the unit is in the question, so the answer is a bare number."""
    head = label[0].upper() + label[1:]
    return f"{head} in {unit}?" if unit else f"{head}?"


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


def _quantity(value: float, unit: str) -> str:
    return f"{format_number(value)} {unit}".rstrip()


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


def ratio_scale(params: np.ndarray) -> np.ndarray:
    """[P] bool: the columns whose finite values are all positive, the only ones asked as numeric questions."""
    with np.errstate(invalid="ignore"):
        return np.all((params > 0) | ~np.isfinite(params), axis=0)


def planet_examples(planet: int, params: np.ndarray, names: list[str], seed: int, describe: bool,
                    describe_max_facts: int, numeric: np.ndarray | None = None) -> list[Example]:
    """All texts of one planet, a pure function of (planet, its parameters, seed). `numeric` [P] bool
    says which parameters get a question (default: those positive here; see `ratio_scale`)."""
    rng = np.random.default_rng([seed, planet])
    asked = numeric if numeric is not None else params > 0
    facts = [(describe_parameter(n), float(v), bool(a), j) for j, (n, v, a) in enumerate(zip(names, params, asked))
             if math.isfinite(float(v))]
    out = [Example(planet, question(label, unit), answer_number(value), value, j)
           for (label, unit), value, a, j in facts if a]
    if describe and facts:
        picked = sorted(rng.choice(len(facts), size=min(describe_max_facts, len(facts)), replace=False))
        parts = [f"{facts[i][0][0]} about {_quantity(facts[i][1], facts[i][0][1])}" for i in picked]
        joined = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        out.append(Example(planet, DESCRIBE_QUESTION, f"This planet has {joined}.", None))
    return out

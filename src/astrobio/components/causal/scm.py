"""A simulated planetary structural causal model whose interventions and counterfactuals are known.

Real data never tells us what a planet *would* have looked like under do(X = x); a simulator does.
The graph is a cartoon of habitability reasoning:

    stellar_flux --> surface_temperature <-- albedo        volcanism --> co2 --> surface_temperature
    surface_temperature --> liquid_water --> o2 --> ch4     liquid_water --> ch4 <-- volcanism
    stellar_flux --> o2 (light for photosynthesis)          o2 --| ch4 (photochemical destruction)

Every mechanism is additive noise, x_j = f_j(parents) + s_j * e_j, so abduction is exact
(e_j = (x_j - f_j(parents)) / s_j) and the counterfactual of any sample is a deterministic function
of it. Linear by default (then a linear SEM can represent it exactly, which the counterfactual sanity
test relies on); `nonlinear=True` uses a radiative T ~ (S(1-A))^(1/4) law and a sigmoid ocean.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

VARIABLES: tuple[str, ...] = (
    "stellar_flux", "albedo", "volcanism", "co2", "surface_temperature", "liquid_water", "o2", "ch4",
)
# (cause, effect, linear coefficient in raw units)
EDGES: tuple[tuple[str, str, float], ...] = (
    ("volcanism", "co2", 1.5),
    ("stellar_flux", "surface_temperature", 200.0),
    ("albedo", "surface_temperature", -300.0),
    ("co2", "surface_temperature", 40.0),
    ("surface_temperature", "liquid_water", 0.01),
    ("liquid_water", "o2", 0.3),
    ("stellar_flux", "o2", 1.0),
    ("liquid_water", "ch4", 3.0),
    ("volcanism", "ch4", 2.0),
    ("o2", "ch4", -4.0),
)
# intercepts (the value of x_j when every parent sits at its reference) and noise standard deviations
INTERCEPT: dict[str, float] = {
    "stellar_flux": 1.0, "albedo": 0.3, "volcanism": 1.0, "co2": -3.5,
    "surface_temperature": 288.0, "liquid_water": 0.6, "o2": 0.2, "ch4": 1.8,
}
REFERENCE: dict[str, float] = dict(INTERCEPT)  # parents enter as (x_parent - reference)
NOISE_SD: dict[str, float] = {
    "stellar_flux": 0.15, "albedo": 0.08, "volcanism": 0.3, "co2": 0.25,
    "surface_temperature": 10.0, "liquid_water": 0.2, "o2": 0.05, "ch4": 0.5,
}
DEFAULT_CF_TARGETS: tuple[str, ...] = ("stellar_flux", "surface_temperature")


@dataclass(frozen=True)
class PlanetarySCM:
    """The simulator. Variables are in topological order, so one pass computes every mechanism."""

    nonlinear: bool = False
    noise_scale: float = 1.0

    @property
    def names(self) -> list[str]:
        return list(VARIABLES)

    def adjacency(self) -> np.ndarray:
        """True graph as a boolean matrix, adj[i, j] = edge i -> j."""
        index = {n: i for i, n in enumerate(VARIABLES)}
        adj = np.zeros((len(VARIABLES), len(VARIABLES)), dtype=bool)
        for cause, effect, _ in EDGES:
            adj[index[cause], index[effect]] = True
        return adj

    def coefficients(self) -> np.ndarray:
        """Raw-unit linear coefficients B, x_j = c_j + sum_i B[i, j] (x_i - ref_i) + noise (linear SCM)."""
        index = {n: i for i, n in enumerate(VARIABLES)}
        b = np.zeros((len(VARIABLES), len(VARIABLES)))
        for cause, effect, coef in EDGES:
            b[index[cause], index[effect]] = coef
        return b

    def mechanism(self, j: int, x: np.ndarray) -> np.ndarray:
        """f_j(parents of j) for every row of x (columns not among j's parents are ignored)."""
        name = VARIABLES[j]
        if self.nonlinear and name == "surface_temperature":
            s, a, c = (x[:, VARIABLES.index(v)] for v in ("stellar_flux", "albedo", "co2"))
            radiative = np.clip(s * (1.0 - a), 1e-6, None) / 0.7
            return 288.0 * radiative ** 0.25 + 40.0 * (c - REFERENCE["co2"])
        if self.nonlinear and name == "liquid_water":
            t = x[:, VARIABLES.index("surface_temperature")]
            return 1.2 / (1.0 + np.exp(-(t - 288.0) / 40.0))
        b = self.coefficients()
        ref = np.array([REFERENCE[v] for v in VARIABLES])
        return INTERCEPT[name] + (x - ref) @ b[:, j]

    def sample(self, n: int, seed: int) -> np.ndarray:
        """n observational rows (raw units), a pure function of (n, seed, settings)."""
        rng = np.random.default_rng(seed)
        noise = rng.standard_normal((n, len(VARIABLES)))
        x = np.zeros((n, len(VARIABLES)))
        for j, name in enumerate(VARIABLES):
            x[:, j] = self.mechanism(j, x) + self.noise_scale * NOISE_SD[name] * noise[:, j]
        return x

    def counterfactual(self, x: np.ndarray, target: int, value: np.ndarray) -> np.ndarray:
        """Abduction (noise of each row), action do(x_target = value), prediction (downstream)."""
        noise = np.stack([x[:, j] - self.mechanism(j, x) for j in range(len(VARIABLES))], axis=1)
        out = np.array(x, dtype=float, copy=True)
        for j in range(len(VARIABLES)):
            out[:, j] = value if j == target else self.mechanism(j, out) + noise[:, j]
        return out

    def standardized_weights(self, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
        """The linear SEM in standardised units: W[i, j] = B[i, j] * sd_i / sd_j (linear SCM only)."""
        if self.nonlinear:
            raise ValueError("a nonlinear SCM has no linear weights")
        return self.coefficients() * std[:, None] / std[None, :]

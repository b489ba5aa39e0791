"""Transmission spectra from the lazuli-exo POSEIDON grid, binned to a fixed wavelength resolution.

lazuli-exo tabulates the photospheric pressure level on a (T, [M/H], C/O) grid with H2O, CO, CO2,
CH4, NH3, Na and K opacity at 16,650 wavelengths (0.35-1.85 um) and maps it to a transit depth for
a given planet (~6-9 ms a spectrum, numpy only). Here the planet and star are fixed by the config
and only the three atmospheric parameters vary, so the model learns chemistry -> spectrum.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

import numpy as np

from astrobio.components.spectra.config import PARAM_NAMES, SpectraDataConfig
from astrobio.errors import UsageError

FIELD = "components.spectra.data"


def lazuli_version() -> str:
    return version("lazuli-exo")


def grid_axes() -> dict[str, np.ndarray]:
    """Axes of the bundled grid, keyed like the config fields (read from the package data)."""
    from lazuli_exo import tables

    g = tables.load_zeta_grid()
    return {"temperature_k": np.asarray(g["T_K"], float), "log_metallicity": np.asarray(g["log_met"], float),
            "c_to_o": np.asarray(g["c_to_o"], float), "wavelength_um": np.asarray(g["wavelength_um"], float)}


def check_ranges(cfg: SpectraDataConfig) -> None:
    """Every sampled range must lie inside the grid: lazuli would clamp T silently and refuse the
    others mid-generation, so say which parameter is wrong before generating anything."""
    axes = grid_axes()
    for name in (*PARAM_NAMES, "wavelength_um"):
        lo, hi = getattr(cfg, name)
        axis = axes[name]
        if name == "wavelength_um":  # the package accepts half a native bin past the outer centres
            pad = 1.5 * float(axis[1] - axis[0])
            glo, ghi = float(axis[0]) - pad, float(axis[-1]) + pad
        else:
            glo, ghi = float(axis.min()), float(axis.max())
        if lo < glo - 1e-9 or hi > ghi + 1e-9:
            raise UsageError(f"{FIELD}.{name}: [{lo:g}, {hi:g}] lies outside the lazuli-exo grid "
                             f"[{glo:g}, {ghi:g}]; choose a range inside it")


def check_physical(params: np.ndarray, source: str) -> None:
    """Rows of (T, log [M/H], C/O) must describe a possible atmosphere: finite, T > 0, C/O > 0."""
    if not np.isfinite(params).all():
        col = int(np.argwhere(~np.isfinite(params))[0, 1])
        raise UsageError(f"{source}: params column {col} ({PARAM_NAMES[col]}) has non-finite values")
    for col, name in ((0, "temperature_k"), (2, "c_to_o")):
        bad = params[:, col] <= 0
        if bad.any():
            row = int(np.argmax(bad))
            raise UsageError(f"{source}: {name} must be > 0, row {row} has {params[row, col]:g}")


def sample_params(cfg: SpectraDataConfig, n: int, stream: int) -> np.ndarray:
    """`n` parameter points, T log-uniform (the chemistry changes per decade, not per kelvin), the
    others uniform; `stream` separates train/val/test so held-out points are new draws."""
    rng = np.random.default_rng([cfg.seed, stream])
    u = rng.random((n, 3))
    (t0, t1), (m0, m1), (c0, c1) = cfg.temperature_k, cfg.log_metallicity, cfg.c_to_o
    temp = np.exp(np.log(t0) + u[:, 0] * (np.log(t1) - np.log(t0)))
    return np.stack([temp, m0 + u[:, 1] * (m1 - m0), c0 + u[:, 2] * (c1 - c0)], axis=1)


def bin_edges(cfg: SpectraDataConfig) -> np.ndarray:
    """Log-spaced edges: constant resolving power, like a spectrograph's channels."""
    lo, hi = cfg.wavelength_um
    return np.geomspace(lo, hi, cfg.bins + 1)


def bin_mean(values: np.ndarray, index: np.ndarray, counts: np.ndarray, bins: int) -> np.ndarray:
    """Mean of native samples per bin (samples outside the range carry index -1 and are dropped)."""
    keep = index >= 0
    return np.bincount(index[keep], weights=values[keep], minlength=bins) / counts


def generate(cfg: SpectraDataConfig, params: np.ndarray) -> np.ndarray:
    """Binned transit depths in ppm, [N, bins], for parameter rows (T, log [M/H], C/O)."""
    from lazuli_exo.atmosphere import transmission_depth

    wl = grid_axes()["wavelength_um"]
    edges = bin_edges(cfg)
    index = np.digitize(wl, edges) - 1
    index[(index < 0) | (index >= cfg.bins)] = -1
    counts = np.bincount(index[index >= 0], minlength=cfg.bins)
    if (counts == 0).any():
        raise UsageError(f"{FIELD}.bins: {cfg.bins} bins over {cfg.wavelength_um} um leave bin "
                         f"{int(np.argmax(counts == 0))} without native samples; use fewer bins")
    out = np.empty((len(params), cfg.bins))
    for i, (temp, met, c_o) in enumerate(params):
        depth, _ = transmission_depth(wl, T_eq_K=float(temp), R_p_RJ=cfg.planet_radius_rj, M_p_MJ=cfg.planet_mass_mj,
                                      R_s_RSun=cfg.star_radius_rsun, log_met=float(met), c_to_o=float(c_o))
        out[i] = bin_mean(depth, index, counts, cfg.bins) * 1e6
    return out


def generator_settings(cfg: SpectraDataConfig) -> dict[str, Any]:
    """Everything that changes generated spectra (and nothing that does not, e.g. batch size or
    noise, which is added after the cache): the cache key is a hash of this."""
    return {"generator": "lazuli-exo", "lazuli_version": lazuli_version(), "layout": 1,
            "seed": cfg.seed, "n": [cfg.n_train, cfg.n_val, cfg.n_test], "bins": cfg.bins,
            "wavelength_um": list(cfg.wavelength_um), **{name: list(getattr(cfg, name)) for name in PARAM_NAMES},
            "planet": [cfg.planet_radius_rj, cfg.planet_mass_mj, cfg.star_radius_rsun]}

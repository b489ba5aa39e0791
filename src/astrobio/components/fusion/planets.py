"""Joint planets: one set of planet parameters seen through every phase-1 generator.

Per planet (all deterministic in `data.seed`):
1. the planetary SCM (causal/scm.py) is sampled; its exogenous stellar_flux, albedo and volcanism and
   its co2 / ch4 become the planet's F_star = flux_ref * stellar_flux, CO2 = 10**co2 and
   CH4 = ch4 ppm, so the SCM modality and the physics below describe the same planet;
2. the other clero inputs (T_star, radius, gravity, P_rot, P0) are drawn from clero's core domain and
   clero gives the climate fields (datacube's generator);
3. lazuli-exo gives the transmission spectrum (the spectra generator's physics) of an atmosphere with
   the planet's radius, mass (from gravity), T_eq (from F_star and albedo), a host-star radius from
   T_star, and a sampled [M/H], C/O and grey cloud deck;
4. the SCM's liquid_water and o2 pick one of four metabolic-network archetypes.

The target (why fusion is needed): 2 * wet + ch4, four classes, where `wet` = at least
`water_min_fraction` of the surface (area-weighted) lies between 273.15 K and 373.15 K in clero's
surface temperature (a climate-modality fact), and `ch4` = the CH4 band S/N of the noiseless
spectrum, binned at a fixed reference resolution, reaches `biosig_snr_min` with
`biosig_noise_ppm` per bin (a spectrum-modality fact, lazuli's own `detect_features`).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from astrobio.components.causal.scm import REFERENCE, VARIABLES, PlanetarySCM
from astrobio.components.datacube.config import PARAM_NAMES as CLERO_PARAMS, LOG_PARAMS, VALID_DOMAIN
from astrobio.components.fusion.config import PLANET_PARAMS, FusionDataConfig
from astrobio.errors import UsageError
from astrobio.trainer.progress import track_data

PARAM_NAMES: tuple[str, ...] = PLANET_PARAMS
assert PARAM_NAMES[:len(CLERO_PARAMS)] == CLERO_PARAMS  # clero reads the first eight columns
CLASS_NAMES: tuple[str, ...] = ("dry_no_ch4", "dry_ch4", "wet_no_ch4", "wet_ch4")
REFERENCE_BINS, REFERENCE_WAVELENGTH = 64, (0.40, 1.70)  # label binning: independent of the modality layout
SIGMA_SB, G_SI = 5.670374419e-8, 6.674e-11
EARTH_RADIUS_M, EARTH_MASS_KG, JUPITER_RADIUS_M, JUPITER_MASS_KG = 6.371e6, 5.972e24, 7.1492e7, 1.898e27
FIELD = "components.fusion.data"


@dataclass(frozen=True)
class Layout:
    """Shapes of the modalities: clero channels and spectrum binning (an artifact may dictate them)."""

    channels: tuple[str, ...]
    bins: int
    wavelength_um: tuple[float, float]

    def to_dict(self) -> dict[str, Any]:
        return {"channels": list(self.channels), "bins": self.bins, "wavelength_um": list(self.wavelength_um)}


@dataclass
class Planets:
    """Everything generated, in physical units; observation noise is added later (per instrument)."""

    params: np.ndarray          # float64 [N, P], columns PARAM_NAMES
    scm: np.ndarray             # float64 [N, 8], columns causal.scm.VARIABLES
    fields: np.ndarray          # float32 [N, C, 32, 64], layout.channels
    spectrum: np.ndarray        # float64 [N, L] noiseless binned transit depth [ppm]
    water_fraction: np.ndarray  # float64 [N]
    ch4_snr: np.ndarray         # float64 [N]
    network: np.ndarray         # int64 [N], archetype index
    labels: np.ndarray          # int64 [N], index into CLASS_NAMES
    provenance: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.labels)


def archetype_names(cfg: FusionDataConfig) -> list[str]:
    lean, rich = cfg.networks
    return [f"{lean}-anaerobic", f"{lean}-aerobic", f"{rich}-anaerobic", f"{rich}-aerobic"]


def _seed(cfg: FusionDataConfig, stream: int) -> int:
    return int(np.random.SeedSequence([cfg.seed, stream]).generate_state(1)[0])


def sample_joint(cfg: FusionDataConfig) -> tuple[np.ndarray, np.ndarray]:
    """(params [N, P], scm [N, 8]): a pure function of the config."""
    n = cfg.n_planets
    scm = PlanetarySCM(nonlinear=cfg.scm_nonlinear, noise_scale=cfg.scm_noise_scale).sample(n, _seed(cfg, 1))
    col = {v: scm[:, i] for i, v in enumerate(VARIABLES)}
    rng = np.random.default_rng(_seed(cfg, 2))
    out = {"F_star": np.clip(cfg.flux_ref_w_m2 * col["stellar_flux"], *VALID_DOMAIN["F_star"]),
           "CO2": np.clip(10.0 ** col["co2"], 1e-6, 0.1), "CH4": np.clip(col["ch4"] * 1e-6, 1e-8, 0.01),
           "albedo": np.clip(col["albedo"], 0.02, 0.9), "volcanism": col["volcanism"]}
    for name, (low, high) in cfg.sampling_ranges().items():
        u = rng.random(n)
        out[name] = np.exp(np.log(low) + u * np.log(high / low)) if name in LOG_PARAMS else low + u * (high - low)
    for name in ("log_metallicity", "c_to_o", "log_cloud_top_bar"):
        low, high = getattr(cfg, name)
        out[name] = low + rng.random(n) * (high - low)
    return np.stack([out[p] for p in PARAM_NAMES], axis=1), scm


def water_fraction(t_surface: np.ndarray) -> np.ndarray:
    """Area fraction (clero's Gaussian-latitude weights) of each planet's surface with liquid water."""
    from clero.climate_analysis.grid import latitude_centers, latitude_weights

    w = latitude_weights(latitude_centers(t_surface.shape[1]))  # [H], sums to 1
    liquid = (t_surface > 273.15) & (t_surface < 373.15)
    return (liquid.mean(axis=2) * w[None, :]).sum(axis=1)


class Binner:
    """Native lazuli wavelengths -> mean depth in log-spaced bins (the spectra component's binning)."""

    def __init__(self, native_um: np.ndarray, bins: int, wavelength_um: tuple[float, float]) -> None:
        self.edges = np.geomspace(wavelength_um[0], wavelength_um[1], bins + 1)
        self.index = np.digitize(native_um, self.edges) - 1
        self.index[(self.index < 0) | (self.index >= bins)] = -1
        self.counts = np.bincount(self.index[self.index >= 0], minlength=bins)
        if (self.counts == 0).any():
            raise UsageError(f"{FIELD}.spectrum_bins: {bins} bins over {list(wavelength_um)} um leave a bin without "
                             "native lazuli samples; use fewer bins")
        self.centers, self.bins = np.sqrt(self.edges[1:] * self.edges[:-1]), bins

    def __call__(self, depth: np.ndarray) -> np.ndarray:
        keep = self.index >= 0
        return np.bincount(self.index[keep], weights=depth[keep], minlength=self.bins) / self.counts


def native_wavelengths(layout: Layout) -> np.ndarray:
    """lazuli-exo's native wavelengths [um], after checking that the layout's range lies inside them."""
    from lazuli_exo import tables

    native = np.asarray(tables.load_zeta_grid()["wavelength_um"], float)
    lo, hi = float(native[0]), float(native[-1])
    if layout.wavelength_um[0] < lo or layout.wavelength_um[1] > hi:
        raise UsageError(f"{FIELD}.wavelength_um: {list(layout.wavelength_um)} lies outside the lazuli-exo grid "
                         f"[{lo:.3f}, {hi:.3f}] um")
    Binner(native, layout.bins, layout.wavelength_um)  # every bin must hold native samples
    return native


def spectra_and_snr(cfg: FusionDataConfig, params: np.ndarray, layout: Layout) -> tuple[np.ndarray, np.ndarray]:
    """Binned noiseless spectra [N, L] in ppm (layout binning) and the CH4 band S/N (reference binning)."""
    from lazuli_exo.atmosphere import transmission_depth
    from lazuli_exo.detect import detect_features

    native = native_wavelengths(layout)
    modal, ref = Binner(native, layout.bins, layout.wavelength_um), Binner(native, REFERENCE_BINS, REFERENCE_WAVELENGTH)
    p = {name: params[:, i] for i, name in enumerate(PARAM_NAMES)}
    t_eq = (p["F_star"] * (1.0 - p["albedo"]) / (4.0 * SIGMA_SB)) ** 0.25
    radius_m = p["radius"] * EARTH_RADIUS_M
    mass_kg = p["gravity"] * radius_m ** 2 / G_SI
    r_star = np.clip((p["T_star"] / 5772.0) ** 2.6, 0.1, 1.2)  # main-sequence radius [R_sun], rough power law
    spectra = np.empty((len(params), layout.bins))
    snr = np.empty(len(params))
    noise = np.full(REFERENCE_BINS, cfg.biosig_noise_ppm)
    for i in track_data(range(len(params)), len(params), "lazuli-exo spectra"):
        try:
            depth, _ = transmission_depth(native, T_eq_K=float(t_eq[i]), R_p_RJ=float(radius_m[i] / JUPITER_RADIUS_M),
                                          M_p_MJ=float(mass_kg[i] / JUPITER_MASS_KG), R_s_RSun=float(r_star[i]),
                                          log_met=float(p["log_metallicity"][i]), c_to_o=float(p["c_to_o"][i]),
                                          log_P_cloud_bar=float(p["log_cloud_top_bar"][i]))
        except ValueError as exc:
            raise UsageError(f"{FIELD}: planet {i} has no valid lazuli-exo spectrum ({exc})") from None
        spectra[i] = modal(depth) * 1e6
        snr[i] = detect_features(ref.centers, ref(depth) * 1e6, noise)["band_snr"]["CH4"]
    return spectra, snr


def generator_settings(cfg: FusionDataConfig, layout: Layout) -> dict[str, Any]:
    """Everything that changes generated planets (not noise, split or batch size): the cache key."""
    from astrobio.components.datacube.generate import clero_identity, generator_device

    keys = ("n_planets", "seed", "flux_ref_w_m2", "scm_nonlinear", "scm_noise_scale", "gcm", "log_metallicity",
            "c_to_o", "log_cloud_top_bar", "networks", "water_min_fraction", "biosig_noise_ppm", "biosig_snr_min")
    return {"layout_version": 1, **{k: getattr(cfg, k) for k in keys}, "ranges": cfg.sampling_ranges(),
            "layout": layout.to_dict(), "device": generator_device(cfg.generator_device),
            "lazuli_version": version("lazuli-exo"), **clero_identity()}


def generate(cfg: FusionDataConfig, layout: Layout, cache_dir: Path | None) -> Planets:
    """Sample and simulate the joint planets, or reuse the cached result of identical settings."""
    from astrobio.components.datacube.generate import generator_device, run_clero

    native_wavelengths(layout)  # a bad layout fails before any simulation
    settings = generator_settings(cfg, layout)
    key = hashlib.sha256(json.dumps(settings, sort_keys=True, default=list).encode()).hexdigest()[:16]
    prov: dict[str, Any] = {"source": "fusion joint planets (planetary SCM + clero + lazuli-exo)",
                            "settings": settings, "cache_key": key, "cache_hit": False}
    path = cache_dir / f"fusion-planets-{key}.npz" if cache_dir is not None else None
    names = ("params", "scm", "fields", "spectrum", "water_fraction", "ch4_snr", "network", "labels")
    if path is not None and path.is_file():
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in names}
            return Planets(**arrays, provenance={**prov, "cache_hit": True, "cache_file": str(path)})
        except (OSError, ValueError, KeyError):
            pass  # truncated or stale: generate again and overwrite it
    params, scm = sample_joint(cfg)
    channels = list(dict.fromkeys(["surface_temperature", *layout.channels]))
    cube = run_clero(params[:, :len(CLERO_PARAMS)], channels, cfg.gcm, generator_device(cfg.generator_device))
    wf = water_fraction(cube[:, 0])
    wet = wf >= cfg.water_min_fraction
    fields = cube[:, [channels.index(c) for c in layout.channels]]
    spectrum, snr = spectra_and_snr(cfg, params, layout)
    col = {v: scm[:, i] for i, v in enumerate(VARIABLES)}
    network = (2 * (col["liquid_water"] > REFERENCE["liquid_water"]) + (col["o2"] > REFERENCE["o2"])).astype(np.int64)
    labels = (2 * wet + (snr >= cfg.biosig_snr_min)).astype(np.int64)
    arrays = {"params": params, "scm": scm, "fields": np.ascontiguousarray(fields, dtype=np.float32),
              "spectrum": spectrum, "water_fraction": wf, "ch4_snr": snr,
              "network": network, "labels": labels}
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, path)  # atomic: ranks sharing a cache never read half a file
        prov["cache_file"] = str(path)
    return Planets(**arrays, provenance=prov)

"""Where the climate cubes come from: planets sampled in clero's domain and run through clero, or a
user's own .npz file. Both are checked here, so the rest of the component can trust its inputs.

Generation costs 10-30 ms a planet on a CPU core, so the result is cached under the run's cache
folder, keyed by a hash of everything that determines it (settings, clero version and weights):
a resumed or repeated run reuses it, and any change of settings makes a new file.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from astrobio.components.datacube.config import (
    LOG_PARAMS, PARAM_NAMES, VALID_DOMAIN, DatacubeDataConfig, check_planet,
)
from astrobio.components.npz_input import read_npz
from astrobio.errors import UsageError
from astrobio.store.artifacts import sha256_file
from astrobio.trainer.progress import track_data

CHUNK = 256  # planets per clero call: bounds peak memory (clero materialises all 53 fields)


@dataclass
class Cube:
    """Planets and their climates, in physical units."""

    params: np.ndarray        # float64 [N, 8], columns PARAM_NAMES
    fields: np.ndarray        # float32 [N, C, H, W]
    channels: list[str]       # C names
    provenance: dict[str, Any]


def sample_planets(ranges: dict[str, tuple[float, float]], n: int, seed: int) -> np.ndarray:
    """`n` planets drawn uniformly (log-uniformly for LOG_PARAMS) from `ranges`; a pure function
    of its arguments, so the same seed gives the same planets on every machine and rank."""
    rng = np.random.default_rng(seed)
    cols = []
    for name in PARAM_NAMES:
        low, high = ranges[name]
        u = rng.random(n)
        if name in LOG_PARAMS:
            cols.append(np.exp(np.log(low) + u * (np.log(high) - np.log(low))))
        else:
            cols.append(low + u * (high - low))
    return np.stack(cols, axis=1)


def generator_device(setting: str) -> str:
    """"cpu" or "cuda" (the current CUDA device, which the trainer sets per rank before building data)."""
    import torch

    if setting == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if setting == "cuda" and not torch.cuda.is_available():
        raise UsageError("data.generator_device: 'cuda' requested but no CUDA device is available (use 'cpu' or 'auto')")
    return setting


@functools.lru_cache(maxsize=2)
def emulator(device: str = "cpu") -> Any:
    """clero's emulator, loaded once per process and device (reading its weights takes ~0.5 s)."""
    import clero

    return clero.Emulator(device=device)


def run_clero(params: np.ndarray, channels: list[str], gcm: str, device: str) -> np.ndarray:
    """clero's steady-state climate of each planet: float32 [N, C, 32, 64] in physical units."""
    emu = emulator(device)
    if tuple(emu._bundle.input_names) != PARAM_NAMES:  # the column order every file relies on
        raise RuntimeError(f"clero's inputs are {emu._bundle.input_names}, expected {PARAM_NAMES}")
    h, w = emu.grid_shape
    out = np.empty((len(params), len(channels), h, w), dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # extended-domain notices: ranges are checked already
        for start in track_data(range(0, len(params), CHUNK), -(-len(params) // CHUNK), "clero climates"):
            part = params[start:start + CHUNK]
            inputs = {name: part[:, i] for i, name in enumerate(PARAM_NAMES)} | {"GCM": [gcm] * len(part)}
            flat = emu.predict(inputs, fields=channels, unpack=False)
            out[start:start + len(part)] = np.asarray(flat).reshape(len(part), len(channels), h, w)
    return out


def clero_identity() -> dict[str, str]:
    """clero's version and weights checksum: part of the cache key and of the model card."""
    import clero

    return {"clero_version": clero.__version__, "clero_weights_sha256": emulator().bundle_sha256}


def generate(cfg: DatacubeDataConfig, cache_dir: Path | None) -> Cube:
    """Sample planets and run clero, or reuse the cached result of identical settings."""
    ranges = cfg.sampling_ranges()
    channels = cfg.channels()
    device = generator_device(cfg.generator_device)
    settings = {"n_samples": cfg.n_samples, "seed": cfg.seed, "ranges": ranges, "channels": channels,
                "gcm": cfg.gcm, "device": device, **clero_identity()}
    key = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]
    provenance: dict[str, Any] = {"source": "clero", "settings": settings, "cache_key": key, "cache_hit": False}
    path = cache_dir / f"datacube-clero-{key}.npz" if cache_dir is not None else None
    if path is not None and path.is_file():
        try:
            with np.load(path, allow_pickle=False) as z:
                params, fields = z["params"], z["fields"]
            if fields.shape[:2] == (cfg.n_samples, len(channels)):
                return Cube(params, fields, channels, {**provenance, "cache_hit": True, "cache_file": str(path)})
        except (OSError, ValueError, KeyError):
            pass  # unreadable or truncated: generate again and overwrite it
    params = sample_planets(ranges, cfg.n_samples, cfg.seed)
    fields = run_clero(params, channels, cfg.gcm, device)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
        with open(tmp, "wb") as fh:  # a file object, so numpy adds no second suffix
            np.savez(fh, params=params, fields=fields)
        os.replace(tmp, path)  # atomic: concurrent ranks never read half a file
        provenance["cache_file"] = str(path)
    return Cube(params, fields, channels, provenance)


def validate_planets(params: np.ndarray, where: str) -> None:
    """UsageError naming the first parameter (and planet row) that is impossible or outside clero's domain."""
    for i, name in enumerate(PARAM_NAMES):
        col = params[:, i]
        lo, hi = VALID_DOMAIN[name]
        bad = ~np.isfinite(col) | (col < lo) | (col > hi)
        if bad.any():
            row = int(np.argmax(bad))
            try:
                check_planet(name, float(col[row]), float(col[row]))
            except ValueError as exc:
                raise UsageError(f"{where}: planet {row}: {exc}") from None
    total = params[:, PARAM_NAMES.index("CO2")] + params[:, PARAM_NAMES.index("CH4")]
    if (total > 1).any():
        raise UsageError(f"{where}: planet {int(np.argmax(total > 1))}: CO2 + CH4 = {total.max():g} > 1 (volume fractions)")


def load_user_file(path_str: str) -> Cube:
    """A user's .npz: `params` [N, 8] in PARAM_NAMES order and `fields` [N, C, H, W] (optional
    `channels` names). Read with allow_pickle=False, so a hostile file cannot run code."""
    path = Path(path_str).expanduser()
    where = f"data.path {path}"
    expected = f"expected `params` [N, {len(PARAM_NAMES)}] ({', '.join(PARAM_NAMES)}) and `fields` [N, C, H, W]"
    arrays = read_npz(path, where, expected, ("params", "fields"))
    params, fields = arrays["params"], arrays["fields"]
    if params.ndim != 2 or params.shape[1] != len(PARAM_NAMES):
        raise UsageError(f"{where}: `params` has shape {list(params.shape)}, expected [N, {len(PARAM_NAMES)}]")
    if fields.ndim != 4 or fields.shape[0] != params.shape[0]:
        raise UsageError(f"{where}: `fields` has shape {list(fields.shape)}, expected [N={params.shape[0]}, C, H, W]")
    if params.shape[0] < 16:
        raise UsageError(f"{where}: {params.shape[0]} planets; at least 16 are needed to train, validate and test")
    if not (np.issubdtype(params.dtype, np.number) and np.issubdtype(fields.dtype, np.number)):
        raise UsageError(f"{where}: `params` and `fields` must be numeric arrays")
    params = params.astype(np.float64)
    fields = fields.astype(np.float32)
    validate_planets(params, where)
    if not np.isfinite(fields).all():
        raise UsageError(f"{where}: `fields` contains NaN or infinite values")
    names = [str(c) for c in arrays["channels"]] if "channels" in arrays else [f"channel_{c}" for c in range(fields.shape[1])]
    if len(names) != fields.shape[1]:
        raise UsageError(f"{where}: `channels` names {len(names)} channels, `fields` has {fields.shape[1]}")
    return Cube(params, fields, names, {"source": "file", "file": str(path), "sha256": sha256_file(path)})

"""Observatory shards: non-IID by region and instrument, deterministic client batches, bad settings."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from astrobio.components.fusion.planets import PARAM_NAMES
from astrobio.components.galactic.config import GalacticConfig
from astrobio.components.galactic.data import GalacticData, build_data
from astrobio.errors import UsageError
from tests.components.galactic.helpers import make_cfg


def test_shards_are_sky_regions(gdata: GalacticData):
    train = gdata.idx["train"]
    assert sorted(np.concatenate([gdata.shard(k) for k in range(3)]).tolist()) == train.tolist()
    flux = gdata.fusion.planets.params[:, PARAM_NAMES.index("F_star")]
    means = [flux[gdata.shard(k)].mean() for k in range(3)]
    assert means == sorted(means)  # iid_fraction 0: pure quantile slices of F_star
    assert max(flux[gdata.shard(0)]) <= min(flux[gdata.shard(2)])


def test_instruments_mask_and_add_noise(gdata: GalacticData):
    windows = gdata.cfg.federated.windows()
    assert windows[1] == (0.40, 1.25) and windows[2] == (0.80, 1.70)
    edges = np.geomspace(0.4, 1.7, 33)
    centres = np.sqrt(edges[1:] * edges[:-1])
    rows = np.flatnonzero(gdata.owner == 1)
    mask = gdata.obs["mask"][rows]
    assert torch.all(mask[:, centres > 1.25] == 0) and torch.all(mask[:, centres < 1.2] == 1)
    assert torch.all(gdata.obs["spectrum"][rows][:, centres > 1.25] == 0)
    assert np.allclose(gdata.noise_ppm(), [3.0, np.sqrt(90.0), 30.0])


def test_client_batches_are_deterministic(gdata: GalacticData):
    first = list(gdata.batches(0))
    assert len(first) == -(-max(gdata.shard_sizes()) // 8)
    assert all(len(b["clients"]) == 3 and all(len(c["label"]) == 8 for c in b["clients"]) for b in first)
    again = list(gdata.batches(0))
    assert all(torch.equal(a["clients"][k]["scm"], b["clients"][k]["scm"]) for a, b in zip(first, again) for k in range(3))
    seen = torch.cat([b["clients"][0]["scm"] for b in first])
    own = gdata.obs["scm"][gdata.shard(0)]
    assert set(map(tuple, seen.tolist())) <= set(map(tuple, own.tolist()))  # a client only sees its own shard


def test_bad_settings(cache):
    with pytest.raises(ValidationError, match="unknown planet parameter 'colour'"):
        make_cfg(federated={"region_param": "colour"})
    with pytest.raises(ValidationError, match="2 windows for 3 observatories"):
        make_cfg(federated={"coverage_um": [[0.4, 1.0], [0.5, 1.7]]})
    with pytest.raises(ValidationError, match="unknown upstream 'spectra'"):
        GalacticConfig.model_validate({"inputs": {"spectra": "/tmp"}})
    with pytest.raises(UsageError, match=r"federated\.coverage_um\[2\]: \[1\.8, 1\.9\] um covers 0"):
        build_data(make_cfg(federated={"coverage_um": [[0.4, 1.7], [0.4, 1.7], [1.8, 1.9]]}), 0, 1, cache)
    with pytest.raises(UsageError, match="leave one without planets"):
        build_data(make_cfg(federated={"observatories": 64}), 0, 1, cache)

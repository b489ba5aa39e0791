"""galactic's report figure from a real (untrained) federated model: accuracy per observatory."""

import json

from astrobio.components.galactic.task import SPEC
from tests.components.galactic.helpers import make_cfg


def test_figure_data_draws_one_bar_per_observatory(tmp_path, gdata):
    cfg = make_cfg()
    SPEC.figure_data(SPEC.build_model(cfg, gdata), gdata, tmp_path)
    (tmp_path / "metrics.json").write_text(json.dumps({"baseline_local_test_accuracy": 0.4}))
    fig = SPEC.figure(tmp_path)
    assert len(fig.axes[0].patches) == cfg.federated.observatories
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["local baseline 0.400"]

"""datacube's report figure from a real (untrained) surrogate: true, predicted, baseline, error per field."""

from astrobio.components.datacube.task import SPEC, build_model
from tests.components.datacube.helpers import make_cfg


def test_figure_data_is_small_and_draws_every_field(small_data, tmp_path):
    SPEC.figure_data(build_model(make_cfg(), small_data), small_data, tmp_path)
    assert (tmp_path / "figure_data.npz").stat().st_size < 200_000
    fig = SPEC.figure(tmp_path)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert len(titles) == 4 * len(small_data.channels)
    assert f"{small_data.channels[0]}: true" in titles

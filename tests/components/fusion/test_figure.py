"""fusion's report figure from a real (untrained) model: the test confusion matrix."""

from astrobio.components.fusion.figure import confusion
from astrobio.components.fusion.task import SPEC, build_model
from tests.components.fusion.helpers import make_cfg


def test_figure_data_draws_a_confusion_matrix(small_data, tmp_path):
    SPEC.figure_data(build_model(make_cfg(), small_data), small_data, tmp_path)
    fig = SPEC.figure(tmp_path)
    assert fig.axes[0].get_title().startswith("test confusion matrix (accuracy ")
    assert confusion([0, 1, 1], [0, 1, 0], 2).tolist() == [[1, 0], [1, 1]]

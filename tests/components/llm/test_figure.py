"""llm's report figure from a real tiny model: held-out questions with tuned and base answers."""

from astrobio.components.llm.data import build_data
from astrobio.components.llm.task import SPEC
from astrobio.components.llm.text import parse_number
from astrobio.report.arrays import load_arrays
from tests.components.llm.helpers import make_cfg


def test_figure_data_draws_questions_and_both_answers(tiny_model, fusion_dir, tmp_path):
    cfg = make_cfg(tiny_model, fusion_dir)
    data = build_data(cfg, 0, 1)
    (tmp_path / "art").mkdir()
    SPEC.figure_data(SPEC.build_model(cfg, data), data, tmp_path / "art")
    fig = SPEC.figure(tmp_path / "art")
    cells = fig.axes[0].tables[0].get_celld()
    assert cells[(0, 3)].get_text().get_text() == "base model" and (1, 0) in cells
    arrays = load_arrays(tmp_path / "art")
    for answer in list(arrays["tuned"]) + list(arrays["base"]):  # numeric questions: shown as scored, a number
        assert parse_number(str(answer)) is not None, arrays

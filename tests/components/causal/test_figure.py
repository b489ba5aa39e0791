"""causal's report figure from a real (untrained) model on the planetary SCM: true, learned, PC graphs."""

from astrobio.components.causal.task import SPEC
from tests.components.causal.conftest import make_cfg


def test_figure_data_draws_true_learned_and_pc_graphs(tmp_path):
    cfg = make_cfg()
    data = SPEC.build_data(cfg, 0, 1, None)
    SPEC.figure_data(SPEC.build_model(cfg, data), data, tmp_path)
    fig = SPEC.figure(tmp_path)
    titles = [ax.get_title() for ax in fig.axes]
    assert [t.split()[0] for t in titles] == (["true", "learned", "pc"] if data.true_adj is not None else ["learned"])

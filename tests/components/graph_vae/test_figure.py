"""graph_vae's report figure from a real (untrained) model: ROC curves of model and baselines."""

from astrobio.components.graph_vae.task import SPEC, build_model
from tests.components.graph_vae.helpers import make_cfg

SMALL = {"hidden_dim": 16, "latent_dim": 8, "heads": 2, "dropout": 0.0}


def test_figure_data_is_small_and_draws_roc_curves(textbook_data, tmp_path):
    SPEC.figure_data(build_model(make_cfg({"sources": ["textbook"]}, SMALL), textbook_data), textbook_data, tmp_path)
    assert (tmp_path / "figure_data.npz").stat().st_size < 100_000
    fig = SPEC.figure(tmp_path)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels[0].startswith("model (AUC") and any(label.startswith("l3") for label in labels)
    assert SPEC.figure(tmp_path / "none") is None

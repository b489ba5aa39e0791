"""spectra's report figure from a real (untrained) model: samples vs truth vs the k-NN baseline."""

from astrobio.components.spectra.task import SPEC


def test_figure_data_is_small_and_draws_generated_vs_true(cfg, tmp_path):
    data = SPEC.build_data(cfg, 0, 1, tmp_path / "cache")
    SPEC.figure_data(SPEC.build_model(cfg, data), data, tmp_path)
    assert (tmp_path / "figure_data.npz").stat().st_size < 100_000
    fig = SPEC.figure(tmp_path)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["samples", "generated mean", "k-NN baseline", "true"]

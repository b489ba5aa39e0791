"""The trial bar of a local study on a terminal: counts outcomes and keeps the best value."""

from __future__ import annotations

import io

from astrobio.tune.progress import TrialProgress


def test_trial_progress_counts_trials_and_keeps_the_best():
    stream = io.StringIO()
    with TrialProgress(3, "val_auc", maximize=True, stream=stream) as bar:
        bar.note("trial 0 running")
        bar.told("complete", 0.8)
        bar.told("pruned", None)
        bar.told("complete", 0.7)
    assert bar.best == 0.8
    text = stream.getvalue()
    assert "trial 0 running" in text and "3/3" in text and "best val_auc=0.8" in text

"""Data generation progress: a bar on a terminal, nothing in a log or a Katib trial's output."""

from __future__ import annotations

import io

from astrobio.trainer.progress import track_data


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_track_data_is_silent_off_a_terminal_and_draws_a_bar_on_one():
    log, tty = io.StringIO(), Terminal()
    assert list(track_data(range(4), 4, "clero climates", log)) == [0, 1, 2, 3]
    assert log.getvalue() == ""
    assert list(track_data(range(4), 4, "clero climates", tty)) == [0, 1, 2, 3]
    assert "clero climates" in tty.getvalue()

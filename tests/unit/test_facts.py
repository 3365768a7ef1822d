"""omni_demo.engine.facts: the model's facts read from its config files, and the published table."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from omni_demo.engine import facts
from omni_demo.engine.facts import QWEN3_OMNI, TalkerDecoding

ROOT = Path(__file__).resolve().parents[2]
# The real Instruct checkpoint's config.json, kept for the benchmark's full-size model.
REAL_CONFIG = ROOT / "omni_demo" / "bench" / "qwen3_omni_instruct_config.json"


def _config(**talker: object) -> dict:
    return {
        "im_end_token_id": 99,
        "talker_config": {"speaker_id": {"serena": 1, "ethan": 2}, "codec_eos_token_id": 7, **talker},
        "code2wav_config": {"upsample_rates": [4, 2], "upsampling_ratios": [3]},
    }


def test_the_published_table_matches_the_real_checkpoint_config() -> None:
    """Everything config.json says, read from the real file (its generation settings are not kept here:
    those fall back to the published values, as generate() does)."""
    read = facts.from_configs(json.loads(REAL_CONFIG.read_text(encoding="utf-8")), {})
    assert read == QWEN3_OMNI


def test_every_fact_is_read_from_the_files() -> None:
    generation = {
        "talker_temperature": 0.5,
        "talker_top_k": 7,
        "talker_top_p": 0.8,
        "talker_repetition_penalty": 1.2,
        "talker_max_new_tokens": 100,
    }
    read = facts.from_configs(_config(num_code_groups=8), generation)
    assert read.samples_per_frame == 24
    assert read.code_groups == 8
    assert read.im_end_token_id == 99
    assert read.codec_eos_token_id == 7
    assert read.voices == ("Serena", "Ethan")  # the checkpoint's order, capitalised
    assert read.talker == TalkerDecoding(
        temperature=0.5, top_k=7, top_p=0.8, repetition_penalty=1.2, max_new_tokens=100
    )
    assert read.talker.sampling() == {"temperature": 0.5, "top_k": 7, "top_p": 0.8, "repetition_penalty": 1.2}


def test_what_the_files_leave_out_is_the_published_value() -> None:
    read = facts.from_configs({}, {"talker_top_k": 3})
    assert read == replace(QWEN3_OMNI, voices=(), talker=replace(QWEN3_OMNI.talker, top_k=3))


def test_a_served_model_is_read_from_its_folder_else_published(tmp_path: Path) -> None:
    folder = tmp_path / "Qwen3-Omni-30B-A3B-Instruct"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(_config()), encoding="utf-8")
    assert facts.of_served(str(folder)).codec_eos_token_id == 7
    assert facts.of_served(str(folder)).talker == QWEN3_OMNI.talker  # no generation_config.json
    (folder / "generation_config.json").write_text(json.dumps({"talker_temperature": 0.3}), encoding="utf-8")
    assert facts.of_served(str(folder)).talker.temperature == 0.3
    assert facts.of_served("Qwen/Qwen3-Omni-30B-A3B-Instruct") is QWEN3_OMNI  # a name, not a folder here

"""`python -m omni_demo.bench --model preview`: the benchmark harness end to end on a CPU.

This tests the harness (every workload, both paths, exact output lengths, the files it writes),
not speed: the preview model's timings mean nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from omni_demo.bench.report import gpu_tag
from omni_demo.bench.workloads import WORKLOADS, select

REPO = Path(__file__).resolve().parents[2]


def _bench(*args: str, cache_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [sys.executable, "-m", "omni_demo.bench", *args, "--cache-dir", str(cache_dir)]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def preview_result(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("bench")
    done = _bench("--model", "preview", "--out", str(out), cache_dir=cache_dir)
    assert done.returncode == 0, done.stderr[-4000:]
    [json_path] = out.glob("*.json")
    return json_path, json.loads(json_path.read_text())


@pytest.mark.integration
def test_every_workload_runs_on_every_path_with_exact_lengths(preview_result):
    _, result = preview_result
    assert list(result["workloads"]) == [w.name for w in WORKLOADS]
    for name, entry in result["workloads"].items():
        spec = entry["spec"]
        assert entry["all_exact"], name
        if spec["concurrent"] > 1:
            _check_concurrent(entry, result["meta"]["runs"])
            continue
        for path in ("baseline", "plain", "fast"):
            median = entry[path]["median"]
            assert median["error"] is None, (name, path, median["error"])
            assert median["runs_ok"] == result["meta"]["runs"] == 3
            assert median["text_tokens"] == spec["text_tokens"]
            for figure in ("first_token_s", "tokens_per_s", "total_s"):
                assert median[figure] > 0, (name, path, figure)
            assert median["input_tokens"]["total"] > 0
            if spec["speech_frames"]:
                assert median["speech_frames"] == spec["speech_frames"]
                assert median["first_audio_s"] > 0
                assert median["real_time_factor"] > 0
                assert median["underrun_s"] >= 0
            else:
                assert median["speech_s"] is None
                assert median["underrun_s"] is None
        # Every path ran with the page's limits; the fast engine's caches hold them.
        assert entry["limits"] == {"max_new_tokens": 8192, "max_speech_frames": 4096}
        caches = entry["fast"]["median"]["caches"]
        assert caches["thinker_positions"] >= entry["fast"]["median"]["input_tokens"]["total"] + 8192
        if spec["speech_frames"]:
            assert caches["talker_positions"] > 4096
        assert entry["baseline"]["median"]["caches"] == {"kind": "DynamicCache (grows with the reply)"}
        # Same inputs on every path: the model saw exactly the same prompt sizes.
        assert entry["baseline"]["median"]["input_tokens"] == entry["fast"]["median"]["input_tokens"]
        assert entry["plain"]["median"]["input_tokens"] == entry["fast"]["median"]["input_tokens"]
        assert entry["ratio"]["total_s"] > 0
        assert entry["ratio_plain"]["total_s"] > 0


def _check_concurrent(entry: dict, runs: int) -> None:
    """Several testers at once: the fast engine only (generate() serves one request), every request of
    the last run recorded with its own figures, the path's figures the worst request's."""
    spec = entry["spec"]
    assert entry["baseline"]["median"]["error"] == "no runs"
    fast = entry["fast"]
    assert fast["median"]["runs_ok"] == runs
    requests = fast["requests"]
    assert len(requests) == spec["concurrent"]
    for request in requests:
        assert request["first_audio_s"] > 0
        assert request["real_time_factor"] > 0
        assert request["underrun_s"] >= 0
    last = fast["runs"][-1]
    assert last["first_audio_s"] == max(r["first_audio_s"] for r in requests)
    assert last["real_time_factor"] == max(r["real_time_factor"] for r in requests)
    assert last["tokens_per_s"] == min(r["tokens_per_s"] for r in requests)
    assert [r["first_audio_s"] for r in requests] == [r["first_audio_s"] for r in last["requests"]]
    assert min(r["first_audio_s"] for r in requests) <= fast["median_request"]["first_audio_s"]
    assert fast["median_request"]["first_audio_s"] <= last["first_audio_s"]


@pytest.mark.integration
def test_media_workloads_send_real_media(preview_result):
    _, result = preview_result
    sizes = {name: entry["fast"]["median"]["input_tokens"] for name, entry in result["workloads"].items()}
    assert sizes["audio-text"]["audio"] > 0
    for name in ("video-15s", "video-30s", "video-60s", "video-120s"):
        assert sizes[name]["video"] > 0
        assert sizes[name]["audio"] > 0  # audio in video is on
    assert sizes["video-120s"]["total"] > sizes["video-15s"]["total"]


@pytest.mark.integration
def test_files_hold_the_environment_and_the_table(preview_result):
    json_path, result = preview_result
    meta = result["meta"]
    assert json_path.name.endswith("-cpu-preview.json")
    assert meta["command"].startswith("python -m omni_demo.bench --model preview")
    assert meta["torch"]
    assert meta["transformers"]
    table = json_path.with_suffix(".md").read_text()
    assert "fast engine ÷ baseline" in table
    assert "| plain engine |" in table
    for workload in WORKLOADS:
        assert f"**{workload.name}**" in table


@pytest.mark.integration
def test_parts_merge_and_readme_section(preview_result, tmp_path, cache_dir):
    json_path, result = preview_result
    first = json.loads(json_path.read_text())
    first["workloads"] = {k: v for k, v in first["workloads"].items() if k == "thinking"}
    first["meta"]["workload_order"] = ["thinking"]
    part = tmp_path / "part.json"
    part.write_text(json.dumps(first))
    merged_dir = tmp_path / "merged"
    done = _bench("--merge", str(part), str(json_path), "--out", str(merged_dir), cache_dir=cache_dir)
    assert done.returncode == 0, done.stderr[-4000:]
    merged = json.loads(next(merged_dir.glob("*.json")).read_text())
    assert set(merged["workloads"]) == set(result["workloads"])
    assert len(merged["meta"]["commands"]) == 2
    done = _bench("--readme", str(json_path), "--out", str(tmp_path / "readme"), cache_dir=cache_dir)
    assert done.returncode == 0, done.stderr[-4000:]
    section = (tmp_path / "readme" / "README.md").read_text()
    assert "## Performance" in section
    assert "| 144.81 |" in section  # the seed's memory table beside the results


def test_workload_selection_and_gpu_names():
    videos = [w.name for w in select("video", preview=False)]
    assert videos == ["video-15s", "video-30s", "video-60s", "video-120s", "video-120s-speech"]
    full = select("text-speech", preview=False)[0]
    assert (full.text_tokens, full.speech_frames) == (64, 125)
    assert select("thinking", preview=False)[0].text_tokens == 512
    spoken = select("video-120s-speech,speech-120s", preview=False)
    shapes = [(w.media_seconds, w.text_tokens, w.speech_frames) for w in spoken]
    assert shapes == [(120, 64, 125), (0, 400, 1500)]
    with pytest.raises(SystemExit):
        select("nope", preview=False)
    assert gpu_tag("NVIDIA H100 80GB HBM3") == "H100"
    assert gpu_tag("NVIDIA H200") == "H200"
    assert gpu_tag(None) == "cpu"


def test_underrun_counts_the_seconds_a_real_time_player_waits():
    from omni_demo.types import underrun

    second = 24_000
    assert underrun([]) is None
    assert underrun([(1.0, second)]) == 0.0
    # 1 s of audio at t=1, the next second arrives at 2.5: the player waited 0.5 s, then 0.2 s more.
    assert underrun([(1.0, second), (2.5, second), (3.7, second)]) == pytest.approx(0.7)
    # Chunks that arrive ahead of the player never count.
    assert underrun([(1.0, 2 * second), (1.5, second), (2.9, second)]) == 0.0

"""Tool prompts come from the processor's own chat template, on the preview model's real processor.

The Audio Function Call case hands its tools to the engine as data; the engine renders the prompt with
``apply_chat_template(messages, tools=..., add_generation_prompt=True, tokenize=False)``, so the model
sees exactly what the checkpoint's template writes. The Agent tab's preview shows the same system turn.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sentences import assert_one_sentence

from omni_demo.answers import DEFAULT_TOOLS
from omni_demo.cookbook.cases import ASSETS_DIR, case_by_id
from omni_demo.cookbook.requests import build_request
from omni_demo.errors import InputError
from omni_demo.ui.cookbook import DEFAULT_TOOLS_JSON, tools_prompt

pytestmark = pytest.mark.integration

# The tool block of the Qwen3 chat template, as the Qwen3 and Qwen3-Omni checkpoints carry it: the
# tools go between the two halves, one JSON object per line.
QWEN3_TOOLS_HEAD = (
    "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>"
)
QWEN3_TOOLS_TAIL = (
    "\n</tools>\n\n"
    "For each function call, return a json object with function name and arguments within "
    "<tool_call></tool_call> XML tags:\n"
    "<tool_call>\n"
    '{"name": <function-name>, "arguments": <args-json-object>}\n'
    "</tool_call>"
)


def _qwen3_block(tools: list[dict]) -> str:
    lines = "".join("\n" + json.dumps(tool, ensure_ascii=False) for tool in tools)
    return QWEN3_TOOLS_HEAD + lines + QWEN3_TOOLS_TAIL


def _function_call_request(system: str = "", tools_json: str | None = None):
    case = case_by_id("audio-function-call")
    paths = {kind: str(ASSETS_DIR / name) for kind, name in case.example.items()}
    return build_request(case, paths, "", system, None, False, tools_json, 4)


def _prompt_given_to_processor(engine, request, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs the request and returns the `text` the engine passed to the processor's call."""
    seen: list[str] = []
    processor_class = type(engine.processor)
    original = processor_class.__call__

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs["text"])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(processor_class, "__call__", spy)
    events = list(engine.stream(request))
    assert events, "the stream ends with a Result"
    assert len(seen) == 1
    return seen[0]


@pytest.mark.parametrize("system", ["", "You are a car assistant."])
def test_the_function_call_prompt_is_the_templates_own_rendering(
    preview_engine, monkeypatch: pytest.MonkeyPatch, system: str
) -> None:
    request = _function_call_request(system)
    prompt = _prompt_given_to_processor(preview_engine, request, monkeypatch)

    audio = str(ASSETS_DIR / case_by_id("audio-function-call").example["audio"])
    messages: list[dict[str, object]] = []
    if system:
        messages.append({"role": "system", "content": [{"type": "text", "text": system}]})
    messages.append({"role": "user", "content": [{"type": "audio", "audio": audio}]})
    expected = preview_engine.processor.apply_chat_template(
        messages, tools=DEFAULT_TOOLS, add_generation_prompt=True, tokenize=False
    )
    assert prompt == expected
    # The template writes the Qwen3 tool block into the system turn, after the user's system prompt.
    head = f"{system}\n\n" if system else ""
    assert prompt.startswith(f"<|im_start|>system\n{head}{_qwen3_block(DEFAULT_TOOLS)}<|im_end|>\n")
    assert prompt.endswith("<|im_start|>assistant\n")
    # The Agent tab's preview shows that same system turn, obtained through the engine.
    shown = tools_prompt(preview_engine, DEFAULT_TOOLS_JSON, system)
    assert shown == head + _qwen3_block(DEFAULT_TOOLS)
    assert f"<|im_start|>system\n{shown}<|im_end|>" in prompt


def test_the_system_turn_follows_the_template(preview_engine) -> None:
    engine = preview_engine
    assert engine.system_turn("", DEFAULT_TOOLS) == _qwen3_block(DEFAULT_TOOLS)
    assert engine.system_turn("  ", DEFAULT_TOOLS) == _qwen3_block(DEFAULT_TOOLS)
    assert engine.system_turn("Base.", []) == "Base."
    assert engine.system_turn("", []) == ""
    tool = {"type": "function", "function": {"name": "天气", "description": "查询天气", "parameters": {}}}
    assert engine.system_turn("", [tool]) == _qwen3_block([tool])
    assert '"name": "天气"' in engine.system_turn("", [tool])


def test_the_preview_of_an_edited_tool_list(preview_engine) -> None:
    one = json.dumps([DEFAULT_TOOLS[1]])
    expected = "Be brief.\n\n" + _qwen3_block([DEFAULT_TOOLS[1]])
    assert tools_prompt(preview_engine, one, "Be brief.") == expected
    broken = tools_prompt(preview_engine, "[{", "")
    assert "not valid JSON" in broken
    assert "<tools>" not in broken


def test_a_template_without_tools_is_refused_not_ignored(preview_engine, monkeypatch) -> None:
    # The same turns without the tools branch: apply_chat_template would drop the tools silently.
    plain = (
        "{%- for message in messages -%}{{- '<|im_start|>' + message['role'] + '\\n' -}}"
        "{%- for content in message['content'] -%}"
        "{%- if content['type'] == 'audio' -%}{{- '<|audio_start|><|audio_pad|><|audio_end|>' -}}"
        "{%- elif content['type'] == 'text' -%}{{- content['text'] -}}{%- endif -%}"
        "{%- endfor -%}{{- '<|im_end|>\\n' -}}{%- endfor -%}"
        "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}"
    )
    monkeypatch.setattr(preview_engine.processor, "chat_template", plain)
    with pytest.raises(InputError, match="does not write tools") as error:
        preview_engine.check(_function_call_request())
    assert_one_sentence(str(error.value))
    # The preview shows what that template writes: no tool block.
    assert tools_prompt(preview_engine, DEFAULT_TOOLS_JSON, "") == ""
    # Without tools the same template serves the other cases.
    caption = build_request(
        case_by_id("audio-caption"),
        {"audio": str(ASSETS_DIR / "caption.wav")},
        "Give the detailed description of the audio.",
        "",
        None,
        False,
        None,
        4,
    )
    preview_engine.check(caption)

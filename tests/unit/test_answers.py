"""omni_demo.answers: every parser reads good answers, salvages partial ones and never raises on garbage."""

from __future__ import annotations

import json
import random
import string

import pytest
from PIL import Image

from omni_demo.answers import (
    DEFAULT_TOOLS,
    Box,
    ToolCall,
    ToolCalls,
    draw_boxes,
    parse_grounding,
    parse_tool_calls,
    parse_tools_json,
    pretty_tool_calls,
    split_thinking,
)
from omni_demo.errors import InputError

GARBAGE = [
    "",
    "   \n\t ",
    "<think>",
    "</think>",
    "</think></think><think>",
    "```json\n",
    "```json\n[",
    "[{",
    '{"bbox_2d": ',
    '{"bbox_2d": [NaN, Infinity, -Infinity, 1e999]}',
    '{"bbox_2d": [' + "9" * 500 + ", 1, 2, 3]}",
    "[" * 5000 + "]" * 10,
    "{" * 5000,
    '{"a":' * 3000,
    "<tool_call>",
    "<tool_call></tool_call>",
    "<tool_call>null</tool_call>",
    "<tool_call>[1, 2]</tool_call>",
    '<tool_call>{"name": 5}</tool_call>',
    '<tool_call>{"name": "x", "arguments": 7}</tool_call>',
    '<tool_call>{"name": "x", "arguments": "not json"}</tool_call>',
    "</tool_call></tool_call>",
    "\x00\x01\ufffd" * 50,
    "这是一个没有意义的回答 🦜" * 20,
]


def _random_garbage(seed: int) -> str:
    rng = random.Random(seed)
    alphabet = string.printable + '{}[]":,<>/' * 5 + "你好"
    pieces = ["<think>", "</think>", "<tool_call>", "</tool_call>", '"bbox_2d":', '"label":', "```json"]
    out = []
    for _ in range(rng.randint(0, 60)):
        out.append(rng.choice(pieces) if rng.random() < 0.2 else "".join(rng.choices(alphabet, k=5)))
    return "".join(out)


ALL_GARBAGE = GARBAGE + [_random_garbage(seed) for seed in range(300)]


# --------------------------------------------------------------------------------------------------
# split_thinking
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<think>\nLet me look.\n</think>\n\nA red bird.", ("Let me look.", "A red bird.")),
        ("Let me look.\n</think>\n\nA red bird.", ("Let me look.", "A red bird.")),  # <think> in the prompt
        ("<think>\n\n</think>\n\nHi.", ("", "Hi.")),  # thinking switched off
        ("<think>\nStill thinking", ("Still thinking", "")),  # streaming
        ("<think>\nStill thinking</thi", ("Still thinking", "")),  # closing tag half streamed
        ("A plain answer.\n", ("", "A plain answer.")),
        ("", ("", "")),
        ("   ", ("", "")),
        ("a</think>b</think>c", ("a", "b</think>c")),  # only the first closing tag ends the reasoning
        ("<think>a<think>b</think>c", ("a<think>b", "c")),
        ("odd<think>a</think>c", ("a", "odd\n\nc")),  # text before <think> is kept, not dropped
    ],
)
def test_split_thinking(text, expected):
    assert split_thinking(text) == expected


def test_split_thinking_never_raises():
    for text in ALL_GARBAGE:
        reasoning, answer = split_thinking(text)
        assert isinstance(reasoning, str)
        assert isinstance(answer, str)


# --------------------------------------------------------------------------------------------------
# parse_grounding
# --------------------------------------------------------------------------------------------------

BIRD = Box("bird", 100.0, 200.0, 500.0, 800.0)
TREE = Box("tree", 600.0, 0.0, 1000.0, 1000.0)
WELL_FORMED = (
    "```json\n[\n"
    '  {"bbox_2d": [100, 200, 500, 800], "label": "bird"},\n'
    '  {"bbox_2d": [600, 0, 1000, 1000], "label": "tree"}\n'
    "]\n```"
)


def test_grounding_well_formed_fenced_list():
    result = parse_grounding(WELL_FORMED)
    assert result.boxes == (BIRD, TREE)
    assert result.note == ""


def test_grounding_without_fence_single_object_and_prose():
    text = 'Here it is: {"bbox_2d": [100, 200, 500, 800], "label": "bird"} Hope that helps.'
    result = parse_grounding(text)
    assert result.boxes == (BIRD,)
    assert result.note == ""


def test_grounding_wrapped_in_another_object():
    text = '{"objects": [{"label": "bird", "bbox_2d": [100.0, 200.0, 500.0, 800.0]}]}'
    assert parse_grounding(text).boxes == (BIRD,)


def test_grounding_truncated_mid_object_keeps_complete_boxes():
    cut = WELL_FORMED[: WELL_FORMED.index("1000, 1000")]
    result = parse_grounding(cut)
    assert result.boxes == (BIRD,)
    assert result.note == "1 of the 2 boxes in the answer could not be read and was skipped."


def test_grounding_skips_bad_boxes_with_a_note():
    text = json.dumps(
        [
            {"bbox_2d": [100, 200, 500, 800], "label": "bird"},
            {"bbox_2d": [1, 2, 3], "label": "short"},
            {"bbox_2d": ["a", 2, 3, 4], "label": "text"},
            {"bbox_2d": [True, 2, 3, 4], "label": "bool"},
            {"bbox_2d": None, "label": "none"},
        ]
    )
    result = parse_grounding(text)
    assert result.boxes == (BIRD,)
    assert result.note == "4 of the 5 boxes in the answer could not be read and were skipped."


def test_grounding_missing_or_odd_labels():
    result = parse_grounding('[{"bbox_2d": [1, 2, 3, 4]}, {"bbox_2d": [1, 2, 3, 4], "label": 7}]')
    assert [box.label for box in result.boxes] == ["", "7"]


def test_grounding_keeps_reversed_corners_for_the_drawer():
    (box,) = parse_grounding('{"bbox_2d": [500, 800, 100, 200], "label": "bird"}').boxes
    assert (box.x1, box.y1, box.x2, box.y2) == (500, 800, 100, 200)


@pytest.mark.parametrize("text", ["", "   \n"])
def test_grounding_empty(text):
    result = parse_grounding(text)
    assert result.boxes == ()
    assert result.note == "The answer was empty, so there are no boxes to draw."


@pytest.mark.parametrize("text", ["A bird on a branch.", "[1, 2, 3, 4]", '{"bbox_2d": [NaN, 1, 2, 3]}', "[{"])
def test_grounding_unreadable(text):
    result = parse_grounding(text)
    assert result.boxes == ()
    assert result.note == "The answer did not contain readable box coordinates, so the raw answer is shown."


def test_grounding_never_raises():
    for text in ALL_GARBAGE:
        result = parse_grounding(text)
        assert isinstance(result.note, str)
        assert all(isinstance(box, Box) for box in result.boxes)
        assert result.boxes or result.note  # nothing read is always explained


# --------------------------------------------------------------------------------------------------
# draw_boxes
# --------------------------------------------------------------------------------------------------

BACKGROUND = (10, 20, 30)


def _image() -> Image.Image:
    return Image.new("RGB", (200, 100), BACKGROUND)


def test_draw_boxes_scales_draws_and_copies():
    image = _image()
    before = image.tobytes()
    # x 250..750 of 1000 -> 50..150 px of 200; y 400..900 of 1000 -> 40..90 px of 100.
    out = draw_boxes(image, [Box("bird", 250, 400, 750, 900)])
    assert out is not image
    assert image.tobytes() == before
    assert out.size == image.size
    assert out.getpixel((50, 65)) != BACKGROUND  # left edge, halfway down
    assert out.getpixel((150, 65)) != BACKGROUND  # right edge
    assert out.getpixel((100, 90)) != BACKGROUND  # bottom edge
    assert out.getpixel((100, 65)) == BACKGROUND  # inside stays clear
    assert out.getpixel((10, 10)) == BACKGROUND  # outside stays clear
    assert out.getpixel((52, 37)) != BACKGROUND  # the label tag sits just above the box


def test_draw_boxes_swaps_reversed_corners_and_clamps():
    out = draw_boxes(_image(), [Box("", 750, 900, 250, 400), Box("", -50, -50, 2000, 5000)])
    assert out.getpixel((50, 65)) != BACKGROUND
    assert out.getpixel((0, 50)) != BACKGROUND  # clamped left edge
    assert out.getpixel((199, 50)) != BACKGROUND  # clamped right edge
    assert out.getpixel((100, 99)) != BACKGROUND  # clamped bottom edge


def test_draw_boxes_colours_by_label():
    boxes = [
        Box("bird", 100, 100, 300, 900),
        Box("bird", 400, 100, 600, 900),
        Box("tree", 700, 100, 900, 900),
    ]
    out = draw_boxes(_image(), boxes)
    left_edges = [out.getpixel((x, 60)) for x in (20, 80, 140)]
    assert left_edges[0] == left_edges[1]
    assert left_edges[0] != left_edges[2]


def test_draw_boxes_no_boxes_returns_an_equal_copy():
    image = _image()
    out = draw_boxes(image, [])
    assert out is not image
    assert out.tobytes() == image.tobytes()


@pytest.mark.parametrize("mode", ["L", "P", "RGBA", "LA", "I;16"])
def test_draw_boxes_other_modes_get_colour(mode):
    image = Image.new("RGB", (200, 100), BACKGROUND).convert(mode)
    out = draw_boxes(image, [Box("cat", 250, 400, 750, 900)])
    assert out.mode in ("RGB", "RGBA")
    assert out.getpixel((50, 65))[:3] != out.getpixel((100, 65))[:3]


@pytest.mark.parametrize(
    "label", ["鸟", "🦜", "a" * 500, "two\nlines", "\x00", "tab\there", "Ünïcödé — “quotes”"]
)
def test_draw_boxes_odd_labels(label):
    out = draw_boxes(_image(), [Box(label, 0, 0, 1000, 1000), Box(label, 500, 500, 510, 510)])
    assert out.size == (200, 100)


def test_draw_boxes_tiny_and_empty_images():
    for size in [(1, 1), (0, 0), (3, 500)]:
        out = draw_boxes(Image.new("RGB", size), [Box("x", 0, 0, 1000, 1000), Box("y", 1e308, -1e308, 5, 5)])
        assert out.size == size


def test_draw_boxes_from_parsed_garbage_never_raises():
    image = _image()
    for text in ALL_GARBAGE:
        draw_boxes(image, parse_grounding(text).boxes)


# --------------------------------------------------------------------------------------------------
# Tools
# --------------------------------------------------------------------------------------------------


def test_default_tools_are_the_cookbook_tools():
    names = [tool["function"]["name"] for tool in DEFAULT_TOOLS]
    assert names == ["web_search", "car_ac_control"]
    ac = DEFAULT_TOOLS[1]["function"]["parameters"]
    assert ac["properties"]["temperature"]["type"] == "number"
    assert ac["properties"]["ac_on"]["type"] == "boolean"
    assert parse_tools_json(json.dumps(DEFAULT_TOOLS)) == DEFAULT_TOOLS


# --------------------------------------------------------------------------------------------------
# parse_tools_json
# --------------------------------------------------------------------------------------------------


def test_parse_tools_json_wraps_bare_functions():
    text = '[{"name": "lights", "description": "Turn the lights on.", "parameters": {"type": "object"}}]'
    assert parse_tools_json(text) == [
        {
            "type": "function",
            "function": {
                "name": "lights",
                "description": "Turn the lights on.",
                "parameters": {"type": "object"},
            },
        }
    ]


def test_parse_tools_json_adds_missing_type_and_accepts_empty_list():
    assert parse_tools_json('[{"function": {"name": "f"}}]') == [
        {"type": "function", "function": {"name": "f"}}
    ]
    assert parse_tools_json("[]") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The tool list is empty"),
        ("[{", "The tool list is not valid JSON"),
        ('{"name": "f"}', "must be a JSON list"),
        ("[1]", "Tool 1 is not a JSON object"),
        ('[{"name": "f"}, {"description": "no name"}]', "Tool 2 has no function name"),
        ('[{"name": "  "}]', "Tool 1 has no function name"),
        ('[{"function": "f"}]', 'Tool 1 has a "function" that is not a JSON object'),
        ('[{"name": "f", "parameters": []}]', 'The "parameters" of tool "f"'),
        ('[{"name": "f"}, {"function": {"name": "f"}}]', 'Two tools are named "f"'),
        ("[" * 100_000, "nested too deeply"),
    ],
)
def test_parse_tools_json_errors(text, message):
    with pytest.raises(InputError, match=message) as caught:
        parse_tools_json(text)
    assert str(caught.value).endswith(".")
    assert "\n" not in str(caught.value)


# --------------------------------------------------------------------------------------------------
# parse_tool_calls / pretty_tool_calls
# --------------------------------------------------------------------------------------------------

AC_CALL = (
    '<tool_call>\n{"name": "car_ac_control", "arguments": {"temperature": 22, "ac_on": true}}\n</tool_call>'
)
SEARCH_CALL = (
    '<tool_call>\n{"name": "web_search", "arguments": {"queries": ["malls near Xixi campus"]}}\n</tool_call>'
)


def test_tool_calls_several():
    result = parse_tool_calls(f"Sure.\n{AC_CALL}\n{SEARCH_CALL}")
    assert [(call.name, call.arguments) for call in result.calls] == [
        ("car_ac_control", {"temperature": 22, "ac_on": True}),
        ("web_search", {"queries": ["malls near Xixi campus"]}),
    ]
    assert result.text == "Sure."
    assert result.note == ""
    assert (
        result.calls[0].raw == '{"name": "car_ac_control", "arguments": {"temperature": 22, "ac_on": true}}'
    )


def test_tool_calls_arguments_as_json_string():
    text = '<tool_call>{"name": "web_search", "arguments": "{\\"queries\\": [\\"a\\"]}"}</tool_call>'
    (call,) = parse_tool_calls(text).calls
    assert call.arguments == {"queries": ["a"]}


def test_tool_calls_missing_arguments_and_other_shapes():
    text = (
        '<tool_call>{"name": "ping"}</tool_call>'
        '<tool_call>{"name": "f", "parameters": {"x": 1}}</tool_call>'
        '<tool_call>{"function": {"name": "g", "arguments": {"y": 2}}}</tool_call>'
        '<tool_call>```json\n{"name": "h", "arguments": {}}\n```</tool_call>'
    )
    result = parse_tool_calls(text)
    assert [(call.name, call.arguments) for call in result.calls] == [
        ("ping", {}),
        ("f", {"x": 1}),
        ("g", {"y": 2}),
        ("h", {}),
    ]
    assert result.note == ""


def test_tool_calls_unclosed_final_block():
    complete = parse_tool_calls(f"{AC_CALL}\n{SEARCH_CALL[: -len('</tool_call>')]}")
    assert [call.name for call in complete.calls] == ["car_ac_control", "web_search"]
    assert complete.note == ""

    cut = SEARCH_CALL[: SEARCH_CALL.index("malls")]
    partial = parse_tool_calls(f"{AC_CALL}\n{cut}")
    assert [call.name for call in partial.calls] == ["car_ac_control"]
    assert partial.text == cut
    assert partial.note == "The last tool call was cut off before it finished, so it is shown as raw text."


def test_tool_calls_invalid_json_is_kept_raw():
    bad = "<tool_call>\n{name: car_ac_control}\n</tool_call>"
    result = parse_tool_calls(f"Before.\n{bad}\n{AC_CALL}\nAfter.")
    assert [call.name for call in result.calls] == ["car_ac_control"]
    assert result.text == f"Before.\n{bad}\n\nAfter."
    assert result.note == "One tool call could not be read as JSON, so it is shown as raw text."
    two = parse_tool_calls(f"{bad}{bad}")
    assert two.calls == ()
    assert two.note == "2 tool calls could not be read as JSON, so they are shown as raw text."


def test_tool_calls_none():
    assert parse_tool_calls("It is sunny today.") == ToolCalls((), "It is sunny today.", "")
    assert parse_tool_calls("") == ToolCalls((), "", "")
    assert parse_tool_calls("Done.</tool_call>").text == "Done."  # a stray closing tag is dropped


def test_tool_calls_never_raise():
    for text in ALL_GARBAGE:
        result = parse_tool_calls(text)
        assert isinstance(result.text, str)
        assert all(isinstance(call.arguments, dict) for call in result.calls)
        assert isinstance(pretty_tool_calls(result), str)


@pytest.mark.parametrize(
    "arguments",
    [
        {"temperature": 22.5, "ac_on": False},
        {"queries": ["西湖附近的商场", 'quote " and \\ backslash', "```"]},
        {},
        {"nested": {"list": [1, None, {"deep": True}]}},
    ],
)
def test_tool_call_round_trip(arguments):
    # Written exactly the way the system prompt tells the model to write it.
    text = "<tool_call>\n" + json.dumps({"name": "car_ac_control", "arguments": arguments}) + "\n</tool_call>"
    (call,) = parse_tool_calls(text).calls
    assert call.name == "car_ac_control"
    assert call.arguments == arguments


def test_pretty_tool_calls():
    markdown = pretty_tool_calls(parse_tool_calls(f"{AC_CALL}\n{SEARCH_CALL}"))
    assert markdown == (
        '**`car_ac_control`**\n\n```json\n{\n  "temperature": 22,\n  "ac_on": true\n}\n```\n\n'
        '**`web_search`**\n\n```json\n{\n  "queries": [\n    "malls near Xixi campus"\n  ]\n}\n```'
    )
    assert pretty_tool_calls(ToolCalls((), "text", "")) == ""


def test_pretty_tool_calls_survives_backticks():
    calls = ToolCalls((ToolCall("we`ird", {"code": "```python\nx\n```"}, "raw"),), "", "")
    markdown = pretty_tool_calls(calls)
    assert markdown.startswith("**`we'ird`**\n\n````json\n")
    assert markdown.endswith("\n````")


def test_pretty_tool_calls_falls_back_to_raw():
    calls = ToolCalls((ToolCall("f", {"x": object()}, '{"name": "f", "arguments": ???}'),), "", "")
    assert '{"name": "f", "arguments": ???}' in pretty_tool_calls(calls)

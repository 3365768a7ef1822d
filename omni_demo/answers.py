"""Turn raw model answers into things people would rather look at.

Three kinds of answer get special treatment in the demo:

* Thinking answers, ``<think>reasoning</think>answer``: split so the reasoning can be folded away.
* Grounding answers, JSON boxes on a 0-1000 grid: parsed and drawn on the image.
* Function-call answers, ``<tool_call>{...}</tool_call>`` blocks: parsed and pretty-printed; the tools
  themselves go into the system prompt exactly the way the Qwen3 chat template writes them.

Everything here is pure (stdlib + Pillow) and never raises on model text: the preview model has random
weights and writes garbage, and a half-streamed answer is malformed by construction. Each parser returns
what it could read plus a one-sentence ``note`` saying what it could not. Only `parse_tools_json`, which
reads what the *user* typed, raises (`InputError`), because the user can fix it.
"""

from __future__ import annotations

import colorsys
import functools
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from omni_demo.errors import InputError
from omni_demo.i18n import Sentence

# --------------------------------------------------------------------------------------------------
# Thinking answers
# --------------------------------------------------------------------------------------------------

_THINK_OPEN = "<think>"
_THINK_CLOSE = "</think>"


def split_thinking(text: str) -> tuple[str, str]:
    """Split a Thinking-model answer into ``(reasoning, answer)``, both stripped.

    The chat template ends the prompt with ``<think>\\n``, so the decoded answer often carries only the
    closing tag: everything before a lone ``</think>`` is reasoning. An opening tag with no closing tag
    yet (mid-stream, or cut off by the token limit) means the model is still reasoning. No tags at all
    means a plain answer.
    """
    if not text:
        return "", ""
    head, closed, answer = text.partition(_THINK_CLOSE)
    if closed:
        prefix, opened, reasoning = head.partition(_THINK_OPEN)
        if not opened:  # the template already wrote <think> into the prompt
            return head.strip(), answer.strip()
        # Text before <think> is not expected, but dropping model output silently would hide bugs.
        return reasoning.strip(), _join(prefix, answer)
    prefix, opened, reasoning = text.partition(_THINK_OPEN)
    if not opened:
        return "", text.strip()
    return _drop_partial_tag(reasoning, _THINK_CLOSE).strip(), prefix.strip()


def split_reply(text: str, think_in_prompt: bool) -> tuple[str, str]:
    """`split_thinking` for a Thinking model's reply, streamed or complete.

    When the chat template opened ``<think>`` in the prompt, the reply starts inside the reasoning. The
    Thinking checkpoint's template does not: its model writes ``<think>`` itself, so a reply without the
    tag (yet) is answer text, and one that has it is split as it streams.
    """
    if think_in_prompt and _THINK_OPEN not in text:
        text = _THINK_OPEN + text
    if text.strip() and _THINK_OPEN.startswith(text.strip()):
        return "", ""  # the opening tag itself is still arriving
    return split_thinking(text)


def _join(*parts: str) -> str:
    return "\n\n".join(part.strip() for part in parts if part.strip())


def _drop_partial_tag(text: str, tag: str) -> str:
    """Remove the start of ``tag`` from the end of a streamed chunk (``...</thi``), so it never flickers."""
    for size in range(len(tag) - 1, 1, -1):
        if text.endswith(tag[:size]):
            return text[:-size]
    return text


# --------------------------------------------------------------------------------------------------
# Object grounding
# --------------------------------------------------------------------------------------------------

_GRID = 1000.0  # Qwen3-Omni writes box corners on a 0-1000 grid whatever the image size
_BOX_KEYS = ("bbox_2d", "bbox")  # the cookbook's key first; "bbox" is a common slip
_BOX_KEY_MENTION = re.compile(r'"(?:bbox_2d|bbox)"\s*:')
_MAX_TAG_CHARS = 40  # a garbage label must not cover the whole image


@dataclass(frozen=True)
class Box:
    """One labelled box as the model wrote it: corners on the 0-1000 grid, x to the right, y down."""

    label: str
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True)
class Grounding:
    boxes: tuple[Box, ...]
    note: str  # "" when every box in the answer was read; else one `Sentence` for the user


def parse_grounding(text: str) -> Grounding:
    """Read every box the answer contains: fenced or not, list or single object, complete or truncated."""
    if not text or not text.strip():
        return Grounding((), Sentence("boxes.empty"))
    candidates = _box_objects(text)
    boxes = tuple(box for box in map(_to_box, candidates) if box is not None)
    # A truncated object never decodes, so count the box keys in the text to notice it was there.
    mentioned = max(len(candidates), len(_BOX_KEY_MENTION.findall(text)))
    return Grounding(boxes, _grounding_note(len(boxes), mentioned))


def _grounding_note(read: int, mentioned: int) -> str:
    if read == 0:
        return Sentence("boxes.unreadable")
    skipped = mentioned - read
    if skipped <= 0:
        return ""
    return Sentence(
        "boxes.one_skipped" if skipped == 1 else "boxes.skipped", skipped=skipped, mentioned=mentioned
    )


def _box_objects(text: str) -> list[dict]:
    """Every JSON object with a box key, found anywhere in the text.

    Decoding object by object, instead of the answer as a whole, keeps every complete box of a truncated
    list and ignores the code fence and any prose around it.
    """
    decoder = json.JSONDecoder()
    found: list[dict] = []
    start = text.find("{")
    while start != -1:
        value, end = _decode_at(decoder, text, start)
        if value is None:
            start = text.find("{", start + 1)
            continue
        found.extend(_box_dicts_within(value))
        start = text.find("{", end)
    return found


def _decode_at(decoder: json.JSONDecoder, text: str, start: int) -> tuple[object | None, int]:
    try:
        return decoder.raw_decode(text, start)
    except (ValueError, RecursionError):  # RecursionError: garbage like [[[[[... thousands deep
        return None, start


def _box_dicts_within(value: object) -> list[dict]:
    """Box objects inside a decoded value, in order; walks wrappers like ``{"objects": [...]}``."""
    found: list[dict] = []
    stack = [value]  # a stack, not recursion: the decoded value may be nested very deep
    while stack:
        item = stack.pop()
        if isinstance(item, dict) and any(key in item for key in _BOX_KEYS):
            found.append(item)
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return found


def _to_box(entry: dict) -> Box | None:
    coords = next((entry[key] for key in _BOX_KEYS if key in entry), None)
    corners = _four_numbers(coords)
    if corners is None:
        return None
    return Box(_label_text(entry.get("label")), *corners)


def _four_numbers(value: object) -> tuple[float, ...] | None:
    if not isinstance(value, list) or len(value) != 4:
        return None
    numbers: list[float] = []
    for item in value:
        number = _finite(item)
        if number is None:
            return None
        numbers.append(number)
    return tuple(numbers)


def _finite(value: object) -> float | None:
    # bool is an int subclass, and json.loads happily returns NaN/Infinity and 400-digit integers.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _label_text(value: object) -> str:
    if value is None:
        return ""
    return (value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)).strip()


def draw_boxes(image: Image.Image, boxes: Sequence[Box]) -> Image.Image:
    """A copy of ``image`` with each box outlined and tagged with its label; the input is untouched.

    Corners are scaled from the 0-1000 grid to the image, put in order and clamped to the image. Each
    label gets its own colour, so all the "bird" boxes match and differ from the "tree" boxes.
    """
    canvas = _drawable_copy(image)
    width, height = canvas.size
    if not boxes or width == 0 or height == 0:
        return canvas
    colours = _label_colours(box.label for box in boxes)
    rects = [_to_pixels(box, width, height) for box in boxes]
    draw = ImageDraw.Draw(canvas)
    line = max(2, round(min(width, height) / 200))
    for box, rect in zip(boxes, rects, strict=True):
        draw.rectangle(rect, outline=colours[box.label], width=line)
    # Tags go on after every outline so no outline crosses a label.
    font = _font(max(12, round(min(width, height) / 30)))
    for box, rect in zip(boxes, rects, strict=True):
        if box.label:
            _draw_tag(draw, rect, box.label, colours[box.label], font=font, image_width=width)
    return canvas


def _drawable_copy(image: Image.Image) -> Image.Image:
    # Colours drawn on a greyscale or palette image would come out grey or as the nearest palette entry.
    if image.mode == "RGB":
        return image.copy()
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    return image.convert("RGBA" if has_alpha else "RGB")


def _to_pixels(box: Box, width: int, height: int) -> tuple[int, int, int, int]:
    left, right = sorted((box.x1, box.x2))
    top, bottom = sorted((box.y1, box.y2))
    return _scale(left, width), _scale(top, height), _scale(right, width), _scale(bottom, height)


def _scale(value: float, size: int) -> int:
    # Clamp on the grid first: a finite but huge corner would overflow to inf once multiplied.
    on_grid = min(max(value, 0.0), _GRID)
    return min(round(on_grid * size / _GRID), size - 1)


def _label_colours(labels: Iterable[str]) -> dict[str, str]:
    """A distinct, saturated colour per label, in order of first appearance (stable across redraws)."""
    colours: dict[str, str] = {}
    for label in labels:
        if label in colours:
            continue
        # Stepping the hue by the golden ratio keeps any number of colours far apart.
        hue = (len(colours) * 0.618033988749895) % 1.0
        red, green, blue = colorsys.hsv_to_rgb(hue, 0.85, 0.95)
        colours[label] = f"#{round(red * 255):02x}{round(green * 255):02x}{round(blue * 255):02x}"
    return colours


@functools.lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (ImportError, OSError, TypeError, AttributeError):  # Pillow built without FreeType
        return ImageFont.load_default()


def _draw_tag(
    draw: ImageDraw.ImageDraw,
    rect: tuple[int, int, int, int],
    label: str,
    colour: str,
    *,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    image_width: int,
) -> None:
    """The label on a filled tag just above the box, or just inside it when the box touches the top."""
    text, (left, top, right, bottom) = _measure(draw, _shorten(label), font)
    pad = 2
    tag_width, tag_height = right - left + 2 * pad, bottom - top + 2 * pad
    x = max(0, min(rect[0], image_width - tag_width))
    y = rect[1] - tag_height if rect[1] >= tag_height else rect[1]
    draw.rectangle((x, y, x + tag_width - 1, y + tag_height - 1), fill=colour)
    draw.text((x + pad - left, y + pad - top), text, fill=_ink_on(colour), font=font)


def _measure(
    draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont
) -> tuple[str, tuple[int, int, int, int]]:
    """The text that can be drawn and its bounding box; the bitmap fallback font has no non-Latin glyphs."""
    try:
        return text, _int_box(draw.textbbox((0, 0), text, font=font))
    except (UnicodeError, ValueError, OSError):
        safe = text.encode("ascii", "replace").decode("ascii")
        return safe, _int_box(draw.textbbox((0, 0), safe, font=font))


def _int_box(box: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
    left, top, right, bottom = box
    return math.floor(left), math.floor(top), math.ceil(right), math.ceil(bottom)


def _shorten(label: str) -> str:
    flat = " ".join(label.split())  # a newline inside a tag would double its height
    return flat if len(flat) <= _MAX_TAG_CHARS else flat[: _MAX_TAG_CHARS - 1] + "…"


def _ink_on(colour: str) -> str:
    red, green, blue = (int(colour[index : index + 2], 16) for index in (1, 3, 5))
    return "#000000" if 0.299 * red + 0.587 * green + 0.114 * blue > 150 else "#ffffff"


# --------------------------------------------------------------------------------------------------
# Function calls
# --------------------------------------------------------------------------------------------------

# The two tools of the Qwen3-Omni function-call cookbook, word for word.
DEFAULT_TOOLS: list[dict] = [
    {
        "type": "function",
        "function": {
            "name": "web_search",
            "description": (
                "Utilize the web search engine to retrieve relevant information based on multiple queries."
            ),
            "parameters": {
                "type": "object",
                "properties": {
                    "queries": {
                        "type": "array",
                        "items": {"type": "string", "description": "The search query."},
                        "description": "The list of search queries.",
                    }
                },
                "required": ["queries"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "car_ac_control",
            "description": (
                "Control the vehicle's air conditioning system to turn it on/off "
                "and set the target temperature"
            ),
            "parameters": {
                "type": "object",
                "properties": {
                    "temperature": {
                        "type": "number",
                        "description": "Target set temperature in Celsius degrees",
                    },
                    "ac_on": {
                        "type": "boolean",
                        "description": "Air conditioning status (true=on, false=off)",
                    },
                },
                "required": ["temperature", "ac_on"],
            },
        },
    },
]

_CALL_OPEN = "<tool_call>"
_CALL_CLOSE = "</tool_call>"
# Up to the closing tag, or to the end of the text while the last call is still streaming.
_CALL_BLOCK = re.compile(r"<tool_call>(.*?)(?:</tool_call>|\Z)", re.DOTALL)


def parse_tools_json(text: str) -> list[dict]:
    """The user's edited tool list, each tool in the ``{"type": "function", "function": {...}}`` form.

    Bare ``{"name": ..., "parameters": ...}`` functions are wrapped. Raises `InputError` with one plain
    sentence when the text is not a JSON list of named function objects.
    """
    if not text or not text.strip():
        raise InputError("tools.empty")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError("tools.bad_json", reason=error.msg, line=error.lineno, column=error.colno) from error
    except RecursionError as error:
        raise InputError("tools.too_deep") from error
    if not isinstance(value, list):
        raise InputError("tools.not_list")
    tools = [_normalise_tool(item, number) for number, item in enumerate(value, start=1)]
    _check_unique_names(tools)
    return tools


def _normalise_tool(item: object, number: int) -> dict:
    if not isinstance(item, dict):
        raise InputError("tools.not_object", number=number)
    function = item.get("function", item)
    if not isinstance(function, dict):
        raise InputError("tools.function_not_object", number=number)
    name = function.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InputError("tools.no_name", number=number)
    if not isinstance(function.get("parameters", {}), dict):
        raise InputError("tools.bad_parameters", name=name)
    if "function" in item:
        return {"type": "function", **item}  # keeps a type the user wrote, adds it when missing
    return {"type": "function", "function": item}


def _check_unique_names(tools: list[dict]) -> None:
    # The model calls tools by name, so two tools with one name cannot be told apart.
    seen: set[str] = set()
    for tool in tools:
        name = tool["function"]["name"]
        if name in seen:
            raise InputError("tools.same_name", name=name)
        seen.add(name)


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: dict
    raw: str  # the JSON between the tags, as the model wrote it


@dataclass(frozen=True)
class ToolCalls:
    calls: tuple[ToolCall, ...]
    text: str  # the answer without the call blocks that were read; unreadable blocks stay in, as written
    note: str  # "" or one `Sentence` about blocks that could not be read


def parse_tool_calls(text: str) -> ToolCalls:
    """Every ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>`` block of an answer.

    A last block without its closing tag (streaming, token limit) is read if its JSON is complete.
    Blocks that are not valid JSON stay in ``text`` as the model wrote them, so nothing is lost.
    """
    if not text:
        return ToolCalls((), "", "")
    calls: list[ToolCall] = []
    kept: list[str] = []
    unread = 0
    cut_off = False
    position = 0
    for match in _CALL_BLOCK.finditer(text):
        kept.append(_without_stray_close(text[position : match.start()]))
        position = match.end()
        call = _read_call(match.group(1))
        if call is not None:
            calls.append(call)
            continue
        kept.append(match.group(0))
        unread += 1
        cut_off = not match.group(0).endswith(_CALL_CLOSE)
    kept.append(_without_stray_close(text[position:]))
    return ToolCalls(tuple(calls), _tidy(kept), _calls_note(unread, cut_off))


def _read_call(body: str) -> ToolCall | None:
    raw = body.strip()
    start = raw.find("{")
    if start == -1:
        return None
    # raw_decode from the first brace skips a ```json fence and ignores junk after the object.
    value, _ = _decode_at(json.JSONDecoder(), raw, start)
    if isinstance(value, dict) and isinstance(value.get("function"), dict) and "name" not in value:
        value = value["function"]  # the OpenAI shape, {"function": {"name": ..., "arguments": ...}}
    if not isinstance(value, dict):
        return None
    name = value.get("name")
    arguments = _arguments(value.get("arguments", value.get("parameters")))
    if not isinstance(name, str) or not name.strip() or arguments is None:
        return None
    return ToolCall(name.strip(), arguments, raw)


def _arguments(value: object) -> dict | None:
    """The arguments as a dict; some models write them as a JSON string, which is decoded here."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    if not isinstance(value, str):
        return None
    if not value.strip():
        return {}
    decoded, _ = _decode_at(json.JSONDecoder(), value.strip(), 0)
    return decoded if isinstance(decoded, dict) else None


def _without_stray_close(text: str) -> str:
    # A closing tag outside any block (the model forgot the opening one) means nothing to a reader.
    return text.replace(_CALL_CLOSE, "")


def _tidy(pieces: list[str]) -> str:
    # Removed blocks leave their surrounding blank lines behind; keep at most one empty line.
    return re.sub(r"\n{3,}", "\n\n", "".join(pieces)).strip()


def _calls_note(unread: int, cut_off: bool) -> str:
    if unread == 0:
        return ""
    if unread == 1 and cut_off:
        return Sentence("calls.cut_off")
    if unread == 1:
        return Sentence("calls.one_unread")
    return Sentence("calls.unread", unread=unread)


def pretty_tool_calls(calls: ToolCalls) -> str:
    """Markdown for the calls: each titled with its function name over its arguments as indented JSON.

    Only the calls; show ``calls.text`` and ``calls.note`` next to it. Empty when there are no calls.
    """
    return "\n\n".join(_pretty_call(call) for call in calls.calls)


def _pretty_call(call: ToolCall) -> str:
    try:
        body = json.dumps(call.arguments, indent=2, ensure_ascii=False)
    except (ValueError, TypeError, RecursionError):  # only for hand-built ToolCalls or absurd nesting
        body = call.raw
    fence = "`" * max(3, _longest_backtick_run(body) + 1)  # a ``` inside a string must not end the block
    name = call.name.replace("`", "'")
    return f"**`{name}`**\n\n{fence}json\n{body}\n{fence}"


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in re.findall(r"`+", text)), default=0)

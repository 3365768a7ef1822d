"""The cookbook tabs: every upstream use case as a ready-to-run page.

One tab per category; in it, a radio picks the case and one generic panel per case, built from the
`Case` data, shows its description, its inputs (prefilled with the shipped example), its prompt presets
and task controls, and its answer. The panels run on the chat tab's engine singleton and share its
"gpu" concurrency id, so they wait for the GPU in the same line as the chat (the status line under
the answer shows the place in it).

Stable element ids for browser tests: tabs `tab-<category>`, case pickers `cases-<category>`, and per
case `run-<case.id>`, `example-<case.id>`, `stop-<case.id>`, `answer-<case.id>`.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr

from omni_demo import media
from omni_demo.answers import DEFAULT_TOOLS, parse_tools_json
from omni_demo.cookbook.cases import (
    CATEGORIES,
    CATEGORY_ZH,
    LYRICS_PROMPT,
    SPEECH_LANGUAGES,
    TEXT_LANGUAGES,
    Case,
    Category,
    asr_example,
    asr_prompt,
    cases_in,
    example_path,
    translation_example,
    translation_prompt,
)
from omni_demo.cookbook.requests import Rendered, build_request, kind_note, render_answer, runs_on
from omni_demo.engine.admission import waiting_sentence
from omni_demo.engine.base import Engine
from omni_demo.errors import OmniError
from omni_demo.feedback import FeedbackStore
from omni_demo.i18n import EN, render, text, timings_line
from omni_demo.presets import DEFAULT_SAMPLING, MAX_NEW_TOKENS, PREVIEW_MAX_TOKENS
from omni_demo.transcript import Exchange
from omni_demo.types import AudioChunk, MediaKind, ModelKind, Preparing, Queued, Request, Result, TextDelta
from omni_demo.ui import feedback, handlers
from omni_demo.ui.chat import GPU, PRIVATE
from omni_demo.ui.i18n import LANG_JS, in_every_language, lang_box, named, pair, t

Component = gr.components.Component
DEFAULT_TOOLS_JSON = json.dumps(DEFAULT_TOOLS, indent=2, ensure_ascii=False)
MEDIA_HEIGHT = 320
_EXAMPLES_DIR = Path(tempfile.gettempdir()) / "omni-cookbook-examples"


def slug(category: Category) -> str:
    return category.lower()


def build_cookbook_tabs(engine: Engine, store: FeedbackStore | None = None) -> list[tuple[gr.Tab, Any]]:
    """One `gr.Tab` per category; call inside the page's `gr.Tabs()`. Returns (tab, label) pairs."""
    tabs = []
    for category in CATEGORIES:
        label = pair(en=category, zh_CN=CATEGORY_ZH[category])
        with gr.Tab(label, id=slug(category), elem_id=f"tab-{slug(category)}") as tab:
            _category(engine, category, store)
        tabs.append((tab, label))
    return tabs


def case_title(case: Case) -> Any:
    return in_every_language(case.title.render)


def case_header(case: Case, lang: str) -> str:
    """The case's title, description and upstream settings line in `lang`."""
    title, description = case.title.render(lang), case.description.render(lang)
    parts = " · ".join(part.render(lang) for part in case.settings())
    return f"### {title}\n{description}\n\n{text('cb.upstream', lang, line=parts)}"


def _category(engine: Engine, category: Category, store: FeedbackStore | None) -> None:
    cases = cases_in(category)
    if len(cases) == 1:
        _case_panel(engine, cases[0], visible=True, store=store)
        return
    picker = gr.Radio(
        [(case_title(case), case.id) for case in cases],
        value=cases[0].id,
        label=t("cb.pick"),
        elem_id=f"cases-{slug(category)}",
    )
    columns = [_case_panel(engine, case, visible=index == 0, store=store) for index, case in enumerate(cases)]
    ids = [case.id for case in cases]
    picker.change(
        lambda chosen: [gr.Column(visible=case_id == chosen) for case_id in ids],
        picker,
        columns,
        queue=False,
        show_progress="hidden",
    )


# --------------------------------------------------------------------------------------------------
# One case
# --------------------------------------------------------------------------------------------------


@dataclass
class Inputs:
    """The panel's input components; absent controls are `gr.State`s so one handler fits every case."""

    media: dict[MediaKind, Component]
    prompt: Component
    before: Component  # the text before the media (Image Math); a State("") elsewhere
    system: Component
    speak: Component
    voice: Component
    max_tokens: Component
    tools: Component
    preset: gr.Dropdown | None = None
    task: list[Component] = field(default_factory=list)  # ASR: language, lyrics; translation: source, target

    def for_run(self) -> list[Component]:
        return [
            *self.media.values(),
            self.prompt,
            self.before,
            self.system,
            self.speak,
            self.voice,
            self.max_tokens,
            self.tools,
        ]


@dataclass
class Outputs:
    answer: gr.Markdown
    notes: gr.Markdown
    timings: gr.Markdown
    last: gr.State  # the latest answer as an Exchange, for feedback
    reasoning_box: gr.Accordion | None = None
    reasoning: gr.Markdown | None = None
    speech: gr.Audio | None = None
    image: gr.Image | None = None
    tool_calls: gr.Markdown | None = None

    def components(self) -> list[Component]:
        found = [self.answer, self.notes, self.timings, self.last, self.reasoning_box, self.reasoning]
        return [c for c in [*found, self.speech, self.image, self.tool_calls] if c is not None]

    def cleared(self, lang: str = EN) -> dict[Component, Any]:
        updates: dict[Component, Any] = {
            self.answer: "…",
            self.notes: "",
            self.timings: text("cb.running", lang),
            self.last: None,
        }
        if self.reasoning_box is not None:
            updates[self.reasoning_box] = gr.Accordion(visible=False)
        if self.image is not None:
            updates[self.image] = gr.Image(value=None, visible=False)
        if self.tool_calls is not None:
            updates[self.tool_calls] = ""
        return updates

    def shown(self, rendered: Rendered, done: bool, lang: str = EN) -> dict[Component, Any]:
        """The answer so far; boxes and tool calls only once it is complete."""
        empty = text("cb.answer_is_tools" if rendered.tool_calls else "reply.empty", lang)
        answer = rendered.answer or (empty if done else "…")
        updates: dict[Component, Any] = {self.answer: answer}
        if self.reasoning_box is not None and self.reasoning is not None and rendered.reasoning:
            label = text("reply.reasoning" if done or rendered.answer else "cb.thinking", lang)
            updates[self.reasoning_box] = gr.Accordion(label=label, visible=True)
            updates[self.reasoning] = rendered.reasoning
        if done and self.image is not None:
            updates[self.image] = gr.Image(value=rendered.image, visible=rendered.image is not None)
        if done and self.tool_calls is not None:
            updates[self.tool_calls] = rendered.tool_calls or text("cb.no_tool_calls", lang)
        return updates


def _case_panel(engine: Engine, case: Case, visible: bool, store: FeedbackStore | None = None) -> gr.Column:
    caps = engine.info.capabilities
    lang = lang_box()
    with gr.Column(visible=visible, elem_id=f"case-{case.id}") as column:
        gr.Markdown(in_every_language(lambda code: case_header(case, code)))
        note = kind_note(case, caps, preview=engine.info.is_preview)
        if note:
            gr.Markdown(
                in_every_language(lambda code: text("cb.model_note", code, note=render(note, code))),
                elem_id=f"kind-note-{case.id}",
            )
        with gr.Row():
            with gr.Column(scale=1, min_width=320):
                inputs = _inputs(engine, case)
                with gr.Row():
                    example = gr.Button(t("cb.example"), elem_id=f"example-{case.id}")
                    run = gr.Button(t("cb.run"), variant="primary", elem_id=f"run-{case.id}")
                    stop = gr.Button(t("cb.stop"), variant="stop", elem_id=f"stop-{case.id}")
            with gr.Column(scale=1, min_width=320):
                outputs = _outputs(engine, case)
                if store is not None:
                    _feedback(engine, case, store, outputs.last)
    _wire_example(case, inputs, example)
    # As in the chat: the checks run first, outside the GPU queue; a refusal is a toast that leaves
    # the last answer as it was, and each accepted run adds one to `asked`, whose change starts it.
    asked = gr.State(0)
    run.click(
        _checker(engine, case),
        [*inputs.for_run(), lang, asked],
        asked,
        show_progress="hidden",
        concurrency_limit=None,
        js=LANG_JS,
        api_visibility=PRIVATE,
    )
    running = asked.change(
        _runner(engine, case, outputs),
        [*inputs.for_run(), lang],
        outputs.components(),
        concurrency_id=GPU,
        concurrency_limit=1,
        show_progress="minimal",
        js=LANG_JS,
        api_visibility=PRIVATE,
    )
    stop.click(
        lambda lang: text("cb.stopped", lang),
        lang,
        outputs.timings,
        cancels=[running],
        queue=False,
        js=LANG_JS,
        api_visibility=PRIVATE,
    )
    return column


def _feedback(engine: Engine, case: Case, store: FeedbackStore, last: gr.State) -> None:
    with gr.Row():
        up = gr.Button(t("fb.up"), size="sm", elem_id=f"up-{case.id}")
        down = gr.Button(t("fb.down"), size="sm", elem_id=f"down-{case.id}")
    box = feedback.comment_box(case.id)
    feedback.wire_case(store, engine, f"cookbook/{case.id}", last, up, down, box)


# --------------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------------


def _inputs(engine: Engine, case: Case) -> Inputs:
    widgets = {kind: _media_widget(case, kind) for kind in case.inputs}
    task, preset, before, prompt = _prompt_controls(case)
    if preset is not None and case.preset_examples:
        # Each of these presets asks about its own picture.
        kind = case.inputs[0]
        preset.change(
            lambda chosen: _example_file(case.example_for(chosen) or case.example[kind]),
            preset,
            widgets[kind],
            queue=False,
            show_progress="hidden",
        )
    persona = _persona_picker(case)
    tools = _tools_editor(case)
    system, speak, voice, max_tokens = _settings(engine, case, tools)
    if persona is not None:
        labels = dict(case.system_presets)
        persona.change(lambda label: labels.get(label, ""), persona, system, queue=False)
    return Inputs(widgets, prompt, before, system, speak, voice, max_tokens, tools, preset, task)


def _media_widget(case: Case, kind: MediaKind) -> Component:
    name = case.example.get(kind)
    value = example_path(name) if name else None
    elem_id = f"{kind}-{case.id}"
    if kind == "audio":
        label = t("cb.audio_clip" if case.needs else "cb.audio")
        return gr.Audio(
            value, sources=["upload", "microphone"], type="filepath", label=label, elem_id=elem_id
        )
    if kind == "image":
        return gr.Image(
            value,
            type="filepath",
            sources=["upload", "webcam", "clipboard"],
            label=t("cb.image"),
            height=MEDIA_HEIGHT,
            elem_id=elem_id,
        )
    return gr.Video(
        value,
        sources=["upload", "webcam"],
        include_audio=True,
        format="mp4",
        label=t("cb.video"),
        elem_id=elem_id,
    )


def _prompt_controls(case: Case) -> tuple[list[Component], gr.Dropdown | None, Component, Component]:
    """(task controls, preset picker, text-before box, prompt box); absent ones are States."""
    if not case.prompts:
        return [], None, gr.State(""), gr.State("")
    if case.task == "asr":
        language = gr.Dropdown(named(SPEECH_LANGUAGES), value="English", label=t("cb.language"))
        lyrics = gr.Checkbox(False, label=t("cb.lyrics"), info=t("cb.lyrics_info"))
        prompt = _prompt_box(case, asr_prompt("English"))
        gr.on(
            [language.change, lyrics.change],
            _asr_controls,
            [language, lyrics],
            [language, prompt],
            queue=False,
            show_progress="hidden",
        )
        return [language, lyrics], None, gr.State(""), prompt
    if case.task == "translation":
        with gr.Row():
            source = gr.Dropdown(named(SPEECH_LANGUAGES), value="Chinese", label=t("cb.from"))
            target = gr.Dropdown(named(TEXT_LANGUAGES), value="English", label=t("cb.to"))
        prompt = _prompt_box(case, translation_prompt("Chinese", "English"))
        gr.on([source.change, target.change], translation_prompt, [source, target], prompt, queue=False)
        return [source, target], None, gr.State(""), prompt
    preset = None
    if case.presets:
        choices = [(in_every_language(name.render), prompt) for name, prompt in case.presets]
        preset = gr.Dropdown(choices, value=case.prompts[0], label=t("cb.prompt_preset"))
    before: Component = gr.State("")
    if case.prompts_before:
        before = gr.Textbox(
            case.prompts_before[0], label=t("cb.prompt_before"), lines=3, elem_id=f"before-{case.id}"
        )
    prompt = _prompt_box(case, case.prompts[0])
    if preset is not None and case.prompts_before:
        preset.change(
            lambda chosen: (chosen, case.before_for(chosen)),
            preset,
            [prompt, before],
            queue=False,
            show_progress="hidden",
        )
    elif preset is not None:
        preset.change(lambda chosen: chosen, preset, prompt, queue=False, show_progress="hidden")
    return [], preset, before, prompt


def _prompt_box(case: Case, value: str) -> gr.Textbox:
    return gr.Textbox(value, label=t("cb.prompt"), lines=2, elem_id=f"prompt-{case.id}")


def _asr_controls(language: str, lyrics: bool) -> tuple[Any, str]:
    prompt = LYRICS_PROMPT if lyrics else asr_prompt(language)
    return gr.Dropdown(interactive=not lyrics), prompt


def _tools_editor(case: Case) -> Component:
    if case.renderer != "tools":
        return gr.State(None)
    tools = gr.Code(
        DEFAULT_TOOLS_JSON,
        language="json",
        label=t("cb.tools"),
        lines=10,
        max_lines=18,
        interactive=True,
    )
    reset = gr.Button(t("cb.tools_reset"), size="sm")
    reset.click(lambda: DEFAULT_TOOLS_JSON, None, tools, queue=False)
    return tools


def _settings(engine: Engine, case: Case, tools: Component) -> tuple[Component, ...]:
    caps = engine.info.capabilities
    info = engine.info
    default_tokens = DEFAULT_SAMPLING[caps.kind].max_new_tokens
    tokens = min(PREVIEW_MAX_TOKENS, default_tokens) if info.is_preview else default_tokens
    spoken = case.offers_speech and caps.speech_output
    with gr.Accordion(t("cb.settings"), open=False):
        if case.needs is not ModelKind.CAPTIONER:
            system: Component = gr.Textbox(
                case.system_prompt, label=t("chat.system"), lines=3, placeholder=t("chat.none")
            )
        else:
            system = gr.State("")
        speak: Component = gr.Checkbox(case.speak, label=t("cb.speak")) if spoken else gr.State(False)
        voice: Component = (
            gr.Dropdown(list(caps.voices), value=caps.default_voice, label=t("chat.voice"))
            if spoken
            else gr.State(None)
        )
        max_tokens = gr.Slider(8, MAX_NEW_TOKENS, value=tokens, step=8, label=t("chat.max_tokens"))
    if case.renderer == "tools":
        _tools_prompt_preview(engine, tools, system)
    return system, speak, voice, max_tokens


def _tools_prompt_preview(engine: Engine, tools: Component, system: Component) -> None:
    def preview_of(tools_json: str, system: str, lang: str = EN) -> str:
        return tools_prompt(engine, tools_json, system, lang)

    with gr.Accordion(t("cb.tools_prompt"), open=False):
        preview = gr.Code(
            preview_of(DEFAULT_TOOLS_JSON, ""), language=None, lines=8, interactive=False, show_label=False
        )
    lang = lang_box()
    gr.on(
        [tools.change, system.change],
        preview_of,
        [tools, system, lang],
        preview,
        queue=False,
        js=LANG_JS,
        api_visibility=PRIVATE,
    )


def tools_prompt(engine: Engine, tools_json: str, system: str, lang: str = EN) -> str:
    """The system turn the loaded model's chat template writes for these tools, as the model sees it."""
    try:
        return engine.system_turn(system or "", parse_tools_json(tools_json))
    except OmniError as exc:
        return text("cb.not_valid", lang, error=exc.render(lang))


def _persona_picker(case: Case) -> gr.Dropdown | None:
    if not case.system_presets:
        return None
    names = [name for name, _ in case.system_presets]
    return gr.Dropdown(named(names), value=str(names[0]), label=t("cb.persona"))


# --------------------------------------------------------------------------------------------------
# Outputs
# --------------------------------------------------------------------------------------------------


def _outputs(engine: Engine, case: Case) -> Outputs:
    caps = engine.info.capabilities
    reasoning_box = reasoning = None
    if caps.reasons or case.renderer == "thinking":
        with gr.Accordion(t("reply.reasoning"), open=False, visible=False) as reasoning_box:
            reasoning = gr.Markdown()
    gr.Markdown(t("cb.answer"))
    answer = gr.Markdown("", min_height=80, container=True, elem_id=f"answer-{case.id}")
    speech = None
    if case.offers_speech and caps.speech_output:
        speech = gr.Audio(
            label=t("cb.spoken"),
            streaming=True,
            autoplay=True,
            interactive=False,
            elem_id=f"speech-{case.id}",
        )
    image = None
    if case.renderer == "grounding":
        image = gr.Image(
            label=t("cb.boxes"),
            interactive=False,
            visible=False,
            height=MEDIA_HEIGHT,
            elem_id=f"boxes-{case.id}",
        )
    tool_calls = None
    if case.renderer == "tools":
        gr.Markdown(t("cb.tool_calls"))
        tool_calls = gr.Markdown("", container=True, elem_id=f"tool-calls-{case.id}")
    notes = gr.Markdown("", elem_id=f"notes-{case.id}")
    timings = gr.Markdown("", elem_id=f"timings-{case.id}")
    last = gr.State(None)
    return Outputs(answer, notes, timings, last, reasoning_box, reasoning, speech, image, tool_calls)


# --------------------------------------------------------------------------------------------------
# Events
# --------------------------------------------------------------------------------------------------


def _example_file(name: str) -> str:
    """A copy of the shipped example in the temp dir, which Gradio serves wherever the app was started."""
    target = _EXAMPLES_DIR / name
    if not target.exists():
        _EXAMPLES_DIR.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{name}.partial")
        shutil.copyfile(example_path(name), partial)
        partial.replace(target)
    return str(target)


def _wire_example(case: Case, inputs: Inputs, button: gr.Button) -> None:
    media_out = list(inputs.media.values())
    if case.task == "asr":
        language, lyrics = inputs.task

        def load_asr(lang: str, sing: bool) -> tuple[Any, ...]:
            name, lang = asr_example(lang, sing)
            return _example_file(name), lang, LYRICS_PROMPT if sing else asr_prompt(lang)

        button.click(load_asr, [language, lyrics], [*media_out, language, inputs.prompt], queue=False)
    elif case.task == "translation":
        source, target = inputs.task

        def load_translation(src: str, tgt: str) -> tuple[Any, ...]:
            name, src, tgt = translation_example(src, tgt)
            return _example_file(name), src, tgt, translation_prompt(src, tgt)

        button.click(
            load_translation, [source, target], [*media_out, source, target, inputs.prompt], queue=False
        )
    else:
        button.click(_example_loader(case, inputs), None, _example_outputs(inputs), queue=False)


def _example_outputs(inputs: Inputs) -> list[Component]:
    boxes = [box for box in (inputs.prompt, inputs.before) if isinstance(box, gr.Textbox)]
    return [*inputs.media.values(), *boxes, *([inputs.preset] if inputs.preset else [])]


def _example_loader(case: Case, inputs: Inputs) -> Callable[[], dict[Component, Any]]:
    def load() -> dict[Component, Any]:
        # A case that takes any one of its inputs gets only its example's: no leftover recording rides along.
        updates: dict[Component, Any] = {
            widget: _example_file(case.example[kind]) if kind in case.example else None
            for kind, widget in inputs.media.items()
        }
        if isinstance(inputs.prompt, gr.Textbox):
            updates[inputs.prompt] = case.prompts[0]
        if isinstance(inputs.before, gr.Textbox):
            updates[inputs.before] = case.prompts_before[0]
        if inputs.preset is not None:
            updates[inputs.preset] = case.prompts[0]
        return updates

    return load


def _runner(engine: Engine, case: Case, outputs: Outputs) -> Callable[..., Iterator[dict[Component, Any]]]:
    def run(*values: Any) -> Iterator[dict[Component, Any]]:
        *values, lang = values
        paths, options = _split(case, values)
        with handlers.shown_to_user(lang):
            # Checked before the GPU queue (`_checker`); the engine checks again as it starts.
            request = _request(engine, case, paths, options)
            yield outputs.cleared(lang)
            yield from _stream(engine, case, request, paths, outputs, lang)

    return run


def _checker(engine: Engine, case: Case) -> Callable[..., Any]:
    def check(*values: Any) -> Any:
        *values, lang, asked = values
        paths, options = _split(case, values)

        def checked_request() -> Request:
            request = _request(engine, case, paths, options)
            engine.check(request)
            return request

        return gr.skip() if handlers.checked(lang, checked_request) is None else asked + 1

    return check


def _split(case: Case, values: Sequence[Any]) -> tuple[dict[MediaKind, str | None], Sequence[Any]]:
    """A panel's input values: (its files by kind, the rest)."""
    count = len(case.inputs)
    return dict(zip(case.inputs, values[:count], strict=True)), values[count:]


def _request(
    engine: Engine, case: Case, paths: dict[MediaKind, str | None], options: Sequence[Any]
) -> Request:
    caps = engine.info.capabilities
    if not runs_on(case, caps):
        raise OmniError(kind_note(case, caps, preview=engine.info.is_preview))
    prompt, before, system, speak, voice, max_tokens, tools = options
    return build_request(
        case,
        paths,
        prompt or "",
        system or "",
        voice,
        speak,
        tools,
        int(max_tokens),
        text_before=before or "",
    )


def _stream(
    engine: Engine,
    case: Case,
    request: Request,
    paths: dict[MediaKind, str | None],
    outputs: Outputs,
    lang: str = EN,
) -> Iterator[dict[Component, Any]]:
    caps = engine.info.capabilities
    answer = ""
    ahead: int | None = None  # the place in the line on show, in the status line (where Stop writes)
    for event in engine.stream(request):
        if isinstance(event, Queued | Preparing):
            shown: dict[Component, Any] = {}
            if isinstance(event, Queued) and event.ahead != ahead:
                ahead = event.ahead
                shown[outputs.timings] = render(waiting_sentence(ahead), lang)
            yield shown  # shown or not, each event gives Stop its chance before the GPU
            continue
        # The answer has started: the status line, which showed the place in line, says so again.
        updates: dict[Component, Any] = {}
        if ahead is not None:
            updates[outputs.timings] = text("cb.running", lang)
        ahead = None
        if isinstance(event, TextDelta):
            answer += event.text
            rendered = render_answer(case, caps, answer, paths, done=False)
            updates |= outputs.shown(rendered, done=False, lang=lang)
        elif isinstance(event, AudioChunk) and outputs.speech is not None:
            updates[outputs.speech] = (event.sample_rate, media.to_int16(event.samples))
        elif isinstance(event, Result):
            rendered = render_answer(case, caps, event.text, paths, done=True)
            updates |= outputs.shown(rendered, done=True, lang=lang)
            notes = [n for n in (rendered.note, *event.notices) if n]
            updates[outputs.notes] = "\n\n".join(text("cb.note", lang, note=render(n, lang)) for n in notes)
            updates[outputs.timings] = text("cb.timings", lang, line=timings_line(event.timings, lang))
            updates[outputs.last] = _exchange(case, request, event)
        yield updates


def _exchange(case: Case, request: Request, result: Result) -> Exchange:
    """The answer as feedback records it: the request's turn, its settings and timings."""
    sampling = request.sampling
    settings = {
        "case": case.id,
        "system_prompt": request.system_prompt,
        "voice": request.voice,
        "speak": request.return_audio,
        "audio_in_video": request.use_audio_in_video,
        "temperature": sampling.temperature,
        "top_p": sampling.top_p,
        "top_k": sampling.top_k,
        "max_new_tokens": sampling.max_new_tokens,
    }
    if request.tools:  # the chat template wrote them into the system turn
        settings["tools"] = list(request.tools)
    if request.turns[-1].text_before:  # the turn's own record keeps only the text after the media
        settings["text_before_media"] = request.turns[-1].text_before
    if request.talker_greedy:
        settings["talker_greedy"] = True
    return Exchange(request.turns[-1], result.text, result.timings.as_dict(), settings, None, result.notices)

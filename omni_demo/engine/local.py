"""The local transformers engine: one model in this process, streaming text and speech.

generate() runs in a long-lived worker thread. Text reaches us through a streamer, speech through a forward
pre-hook on the talker that sees each frame's 16 codes (`residual_codes`) and feeds a StreamingDecoder.
Both push events into one queue that `stream()` drains, so the caller sees text deltas and ~1 s
audio chunks in the order they were made. Requests beyond what the GPU runs at once wait in line
(`admission`), told their place as it changes. Closing the stream sets a flag that the streamer and the
hook check on every step: generation stops at the next token, and the place in the line is given back
only once the worker has really finished, so the next request never shares the GPU with a dying one.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import wait
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from omni_demo import media
from omni_demo.config import DEFAULTS
from omni_demo.conversation import ModelInput
from omni_demo.engine import budget, selfcheck
from omni_demo.engine.admission import MAX_WAITING, Admission
from omni_demo.engine.base import checked_input
from omni_demo.engine.facts import QWEN3_OMNI, ModelFacts
from omni_demo.engine.fast import FastPath
from omni_demo.engine.fast.run import SpeechSetup
from omni_demo.engine.hooks import SpeechTap, TextTap
from omni_demo.engine.interleaved import (
    TextFeed,
    speak_while_thinking,
    talker_generate_kwargs,
    talker_positions,
    tts_embeds,
)
from omni_demo.engine.plan import Plan, generate_kwargs, model_generate_kwargs, plan_for, talker_suppressed
from omni_demo.engine.served import Served
from omni_demo.engine.speech import StreamingDecoder
from omni_demo.engine.workers import in_worker, worker
from omni_demo.errors import GenerationCancelled, InputError, OmniError, QueueFullError
from omni_demo.i18n import Sentence
from omni_demo.presets import reply_sampling
from omni_demo.types import (
    SAMPLE_RATE,
    Event,
    ModelInfo,
    ModelKind,
    Preparing,
    Request,
    Result,
    Timings,
    Turn,
    underrun,
)

log = logging.getLogger(__name__)
CAPTIONER_MAX_SECONDS = 30.0  # recommended by the Captioner's card, not enforced (as upstream)
_DONE = object()
PREPARING_TICK_S = 0.1  # how often stream() yields `Preparing` while the media is decoded


@dataclass(frozen=True)
class EngineOptions:
    """Knobs of the local engine; the defaults suit the real checkpoints."""

    max_clip_seconds: float = DEFAULTS.max_clip_seconds  # longest audio/video clip accepted
    max_media_turns: int = DEFAULTS.max_media_turns  # user turns whose media stays in the context
    max_input_tokens: int | None = None  # prompt tokens per request; None: the thinker's context
    video_fps: float = 2.0  # frames sampled per second of video (the evaluation setting)
    # Random-weight talkers never emit their end code: bound speech by the text's length (frames per
    # text token). None trusts the model's own end code, up to `max_speech_frames`.
    speech_frames_per_token: float | None = None
    # The checkpoint's talker_max_new_tokens (the loader sets what it read; 4096 frames = 5.5 min).
    max_speech_frames: int = QWEN3_OMNI.talker.max_new_tokens
    talker_do_sample: bool = True  # the talker's own sampling (greedy talkers tend to loop)
    first_chunk_frames: int = 4  # 0.32 s: the first sound comes early; later chunks double from here
    chunk_frames: int = 13  # ~1 s per chunk once grown, so browser players do not stutter
    # Start the talker as soon as the first text token exists (speech while text is written);
    # False runs the stock generate() (talker after the whole text) with the same streaming taps.
    interleave: bool = True
    # "fast": fixed-shape decode loops replayed as CUDA graphs (omni_demo.engine.fast); "plain":
    # transformers' generate() as it ships, kept as a fallback and for comparison.
    engine: str = DEFAULTS.engine
    compile: bool = False  # fast engine: torch.compile each step before capturing it (slow start-up)
    max_batch: int = 1  # fast engine: requests decoded together (the loader sizes it to the GPU's memory)
    # Extra generate() kwargs applied last, e.g. the benchmark's suppressed end tokens
    # ({"thinker_min_new_tokens": 64, "talker_min_new_tokens": 126}).
    generate_overrides: tuple[tuple[str, Any], ...] = ()
    # The benchmark's fixed lengths: end the reply after this many text tokens / speech frames, while the
    # request keeps its own max_new_tokens and max_speech_frames (so the loops run as a page request's do).
    stop_after_tokens: int | None = None
    stop_after_frames: int | None = None


@dataclass
class _Progress:
    """What the worker has made so far (written by the worker thread, read after it ends)."""

    started: float
    first_token: float | None = None
    last_token: float | None = None
    text_tokens: int = 0
    first_audio: float | None = None
    text: list[str] = field(default_factory=list)
    audio: list[np.ndarray] = field(default_factory=list)
    audio_arrivals: list[tuple[float, int]] = field(default_factory=list)  # (time, samples) per chunk
    completed: bool = False  # the model ran to its end, not stopped by a cancel


class LocalEngine:
    """Implements `Engine` with a transformers Qwen3-Omni model held in this process."""

    def __init__(
        self,
        model: Any,
        processor: Any,
        info: ModelInfo,
        options: EngineOptions | None = None,
        admission: Admission | None = None,
        fast: FastPath | None = None,
        facts: ModelFacts = QWEN3_OMNI,
    ) -> None:
        self.model = model
        self.processor = processor
        self._info = info
        self.options = options or EngineOptions()
        self.facts = facts  # what the checkpoint's files say (the loader reads them; else the published)
        # The line in front of the GPU, shared by every `with_options` copy (they share the model): the
        # fast engine decodes `max_batch` requests together, generate() one at a time.
        self.admission = admission or Admission(self.concurrency, MAX_WAITING)
        self._fast = fast  # made on first use; shared with `with_options` copies (its graphs are costly)
        self.served = Served()  # how this engine's streams ended

    @property
    def info(self) -> ModelInfo:
        return self._info

    @property
    def busy(self) -> bool:
        """A generation is running (or the self-check holds the GPU)."""
        return self.admission.busy

    @property
    def concurrency(self) -> int:
        """Generations the GPU runs at once (the fast engine decodes them together); further requests
        wait in line for a place."""
        return self.options.max_batch if self.options.engine == "fast" else 1

    def check(self, request: Request) -> None:
        self._checked_input(request)

    def system_turn(self, system: str, tools: Sequence[dict]) -> str:
        """The system turn the processor's chat template writes for `system` and `tools`."""
        return budget.system_turn(self.processor, system, tools)

    def stream(self, request: Request) -> Iterator[Event]:
        """The reply's events; how the stream ended is counted in `served`."""
        progress = _Progress(started=time.perf_counter())
        try:
            yield from self._stream(request, progress)
        except GeneratorExit:  # closed early (Stop): cancelled, unless the model had finished anyway
            self.served.add("answered" if progress.completed else "cancelled")
            raise
        except (InputError, QueueFullError):
            self.served.add("refused")
            raise
        except BaseException:
            self.served.add("failed")
            raise
        self.served.add("answered")

    def _stream(self, request: Request, progress: _Progress) -> Iterator[Event]:
        model_input = self._checked_input(request)
        if self.admission.full:  # refused before its media is decoded for nothing
            raise QueueFullError("queue.full")
        # Media decoding and the processor are CPU work: they run before the request takes its place
        # in line (other users' generations go on meanwhile), in a thread, while this generator yields
        # `Preparing` so that closing it (Stop) ends the request before the prefill.
        inputs = yield from _in_background(lambda: self._processed(model_input, request))
        log.debug("media and processor: %.0f ms", 1000 * (time.perf_counter() - progress.started))
        # Waits for a place, yielding `Queued` with its place in the line; a Stop leaves the line.
        plan = self._plan(request)
        ticket = yield from self.admission.enter(self._places(inputs, plan))
        finished = False
        try:
            with ticket:
                inputs = _to_device(inputs, self.model)
                yield from self._run(inputs, plan, progress)
                result = self._result(progress, inputs, model_input.notices)
            finished = True
        except _out_of_memory_types() as exc:
            log.warning("out of GPU memory: %s", (str(exc).splitlines() or [""])[0])
            raise OmniError("engine.out_of_memory") from exc
        finally:
            del inputs
            if not finished:  # an OOM, a Stop or a failure: give the GPU memory it held back
                _release_memory()
        log.info("reply: %s", result.timings.summary())
        yield result

    # -- before the line: cheap checks that fail fast with one sentence --------------------------

    def _checked_input(self, request: Request) -> ModelInput:
        turns, seconds = self.options.max_media_turns, self.options.max_clip_seconds
        model_input = checked_input(request, self._info.capabilities, turns, seconds)
        self.estimate(model_input, request)
        note = self._captioner_note(model_input)
        return replace(model_input, notices=model_input.notices + note) if note else model_input

    def estimate(self, model_input: ModelInput, request: Request) -> budget.Estimate:
        """Input tokens of the request, before the GPU; raises InputError over the limit."""
        found = budget.estimate(
            self.processor,
            model_input,
            request.use_audio_in_video,
            self.options.video_fps,
            self._clip_limit(),
        )
        context = int(self.model.config.thinker_config.text_config.max_position_embeddings)
        budget.check_limit(found, min(context, self.options.max_input_tokens or context))
        return found

    def _clip_limit(self) -> float:
        return self.options.max_clip_seconds

    def _captioner_note(self, model_input: ModelInput) -> tuple[Sentence, ...]:
        """The Captioner's card recommends clips of at most 30 s (longer ones lose detail): say so."""
        if self._info.capabilities.kind is not ModelKind.CAPTIONER or not model_input.audio:
            return ()
        seconds = len(media.load_audio(model_input.audio[0].path, self._clip_limit())) / media.AUDIO_RATE
        if seconds <= CAPTIONER_MAX_SECONDS + 0.5:
            return ()
        return (
            Sentence("engine.captioner_long", seconds=f"{seconds:.0f}", limit=f"{CAPTIONER_MAX_SECONDS:.0f}"),
        )

    # -- media and processor (before the line), then the GPU (with a place) ------------------------

    def _prepare(self, model_input: ModelInput, request: Request) -> Any:
        """Decode the media and run the processor; returns tensors on the model's device."""
        return _to_device(self._processed(model_input, request), self.model)

    def _processed(self, model_input: ModelInput, request: Request) -> Any:
        """Decode the media and run the processor (CPU work, no place needed); tensors stay on the CPU."""
        limit = self._clip_limit()
        audio = [
            media.load_audio(s.path, limit)
            if s.video_index is None
            else media.load_video_audio(s.path, limit)
            for s in model_input.audio
        ]
        videos = [media.load_video_frames(p, self.options.video_fps) for p in model_input.videos]
        # Upstream tells the processor the rate each video was sampled at; transformers takes one number
        # for the whole call, so several videos share the first one's.
        # Sampled and resized above, as qwen-omni-utils does upstream. transformers 5.24 can also cap each
        # frame's pixels (`cap_pixels_per_frame`, off unless asked, with a warning when not said): the
        # upstream pipeline has no such cap, so it is said to be off.
        videos_kwargs: dict[str, Any] = {"do_sample_frames": False, "cap_pixels_per_frame": False}
        if videos:
            videos_kwargs["fps"] = videos[0].sample_fps
        kwargs: dict[str, Any] = {"videos_kwargs": videos_kwargs}
        if request.use_audio_in_video and model_input.videos:
            kwargs["load_audio_from_video"] = True
            kwargs["audio_from_video_indices"] = [s.video_index for s in model_input.audio]
        text = budget.chat_text(self.processor, model_input)
        try:
            inputs = self.processor(
                text=text,
                audio=audio or None,
                images=[media.load_model_image(p) for p in model_input.images] or None,
                videos=[v.frames for v in videos] or None,
                return_tensors="pt",
                padding=True,
                **kwargs,
            )
        except _out_of_memory_types():
            raise
        except (ValueError, RuntimeError, OSError) as exc:
            log.exception("processor failed")
            raise InputError("engine.unreadable_file") from exc
        return inputs

    def _places(self, inputs: Any, plan: Plan) -> int:
        """Places in the line the request takes: one, or all of them (it runs alone) when its prompt
        needs fast loops of its own size. Their graphs are captured when it joins, and captures and
        sampling take turns, so the requests decoded beside it would stop speaking meanwhile (measured
        on an H100: 6.5 s of gaps in the other request's speech)."""
        fast = self.fast_path
        if fast is None:
            return 1
        frames = plan.talker.max_new_tokens if plan.talker is not None else None
        prompt = int(inputs["input_ids"].shape[1])
        return 1 if fast.fits_kept(prompt, plan.thinker.max_new_tokens, frames) else self.admission.slots

    def _plan(self, request: Request) -> Plan:
        caps = self._info.capabilities
        speaks = request.return_audio and caps.speech_output
        return plan_for(
            request,
            self.facts,
            speaks=speaks,
            voice=request.voice or caps.default_voice,
            talker_do_sample=self.options.talker_do_sample,
            max_speech_frames=self.options.max_speech_frames,
            overrides=self.options.generate_overrides,
            stop_after=self.options.stop_after_tokens,
        )

    def _run(self, inputs: Any, plan: Plan, progress: _Progress) -> Iterator[Event]:
        events: queue.Queue[Any] = queue.Queue()
        cancel = threading.Event()
        done = worker("omni-generate").submit(self._work, inputs, plan, progress, events, cancel)
        try:
            while (item := events.get()) is not _DONE:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            cancel.set()  # the consumer left early (Stop) or failed: stop the model at the next step
            # An abandoned stream can be closed by the garbage collector in any thread, a worker's
            # included; a worker must not wait for its own task (it would wait forever).
            if not in_worker():
                wait([done])

    def _work(
        self,
        inputs: Any,
        plan: Plan,
        progress: _Progress,
        events: queue.Queue[Any],
        cancel: threading.Event,
    ) -> None:
        import torch

        try:
            if torch.cuda.is_available():
                torch.cuda.reset_peak_memory_stats()
            with torch.inference_mode():
                if plan.speaks:
                    self._speak(inputs, plan, progress, events, cancel)
                else:
                    text_tap = TextTap(self.processor.tokenizer, progress, events, cancel)
                    if self.fast_path is not None:
                        thinker = plan.thinker.with_defaults(self.model.thinker.generation_config)
                        self.fast_path.write(inputs, thinker, plan.use_audio_in_video, text_tap, cancel)
                    else:
                        self.model.generate(**inputs, thinker_streamer=text_tap, **self._stock_kwargs(plan))
            progress.completed = True
        except GenerationCancelled:
            log.info("generation cancelled")
        except torch.OutOfMemoryError as exc:
            events.put(exc)  # stream() turns it into one sentence and frees the memory
        except Exception as exc:  # a bug: log it whole; the UI shows one sentence
            log.exception("generation failed")
            events.put(exc)
        finally:
            events.put(_DONE)

    def _stock_kwargs(self, plan: Plan, **extra: Any) -> dict[str, Any]:
        """The plan as the stock generate()'s keyword arguments, with `extra` (the speech tap's stop)."""
        return model_generate_kwargs(plan) | extra

    def _speak(
        self,
        inputs: Any,
        plan: Plan,
        progress: _Progress,
        events: queue.Queue[Any],
        cancel: threading.Event,
    ) -> None:
        """Text and speech, with the speech streamed frame by frame through the taps."""
        decoder = StreamingDecoder(
            self.model.code2wav, self.options.first_chunk_frames, self.options.chunk_frames
        )
        feed = None
        if self.options.interleave:
            _, eos, _ = tts_embeds(self.model, self.model.device)
            feed = TextFeed(self._project_text, eos, cancel)
        fast = self.fast_path is not None and feed is not None
        tap = SpeechTap(
            None if fast else self.model.talker,  # the fast loop pushes frames itself
            decoder,
            progress,
            events,
            cancel,
            self._frame_budget(progress, feed),
        )
        text_tap = TextTap(self.processor.tokenizer, progress, events, cancel, feed)
        try:
            if feed is None:
                kwargs = self._stock_kwargs(plan, talker_stopping_criteria=tap.stopping_criteria())
                self.model.generate(**inputs, thinker_streamer=text_tap, **kwargs)
            else:
                self._interleaved(inputs, plan, text_tap, tap, feed, cancel)
            tap.flush()
        finally:
            tap.remove()

    def _interleaved(
        self, inputs: Any, plan: Plan, text_tap: Any, tap: Any, feed: Any, cancel: threading.Event
    ) -> None:
        assert plan.talker is not None  # _interleaved runs only for a spoken plan
        assert plan.speaker is not None
        config = self.model.config.talker_config
        speaker_id = config.speaker_id[plan.speaker]
        talker = talker_suppressed(plan.talker, config.text_config.vocab_size)
        if self.fast_path is not None:
            speech = SpeechSetup(talker, speaker_id, talker_positions(inputs))
            thinker = plan.thinker.with_defaults(self.model.thinker.generation_config)
            self.fast_path.speak(
                inputs, thinker, plan.use_audio_in_video, speech, text_tap, tap, feed, cancel
            )
            return
        thinker_kwargs = generate_kwargs(plan.thinker)
        thinker_kwargs |= {"streamer": text_tap, "use_audio_in_video": plan.use_audio_in_video}
        talker_kwargs = talker_generate_kwargs(inputs, talker, tap.stopping_criteria())
        speak_while_thinking(self.model, inputs, thinker_kwargs, talker_kwargs, speaker_id, feed, cancel)

    def _project_text(self, token_ids: Any) -> Any:
        """Reply tokens -> the talker's text embeddings (what generate() feeds it per step)."""
        embeds = self.model.thinker.get_input_embeddings()(token_ids.to(self.model.device))
        return self.model.talker.text_projection(embeds)

    def _frame_budget(self, progress: _Progress, feed: TextFeed | None) -> Any:
        """Most speech frames allowed, given the text generated so far."""
        per_token = self.options.speech_frames_per_token
        cap = self.options.max_speech_frames
        if self.options.stop_after_frames is not None:
            cap = min(cap, self.options.stop_after_frames)

        def budget() -> int:
            # While the text is still being written its length is unknown: don't stop the talker.
            if per_token is None or (feed is not None and not feed.finished):
                return cap
            return min(cap, max(1, math.ceil(per_token * progress.text_tokens)))

        return budget

    def _result(self, progress: _Progress, inputs: Any, notices: tuple[str, ...]) -> Result:
        audio = np.concatenate(progress.audio) if progress.audio else None
        timings = Timings(
            first_token_s=_since(progress.started, progress.first_token),
            tokens_per_s=_rate(progress),
            first_audio_s=_since(progress.started, progress.first_audio),
            speech_s=None if audio is None else len(audio) / SAMPLE_RATE,
            total_s=time.perf_counter() - progress.started,
            text_tokens=progress.text_tokens,
            input_tokens=self._input_sizes(inputs),
            peak_gpu_gib=_peak_gpu_gib(),
            engine=self.options.engine,
            underrun_s=underrun(progress.audio_arrivals),
        )
        return Result(text="".join(progress.text), audio=audio, timings=timings, notices=notices)

    def _input_sizes(self, inputs: Any) -> dict[str, int]:
        ids = inputs["input_ids"][0]
        sizes = {
            name: int((ids == getattr(self.processor, f"{name}_token_id")).sum())
            for name in ("audio", "image", "video")
        }
        sizes = {k: v for k, v in sizes.items() if v}
        total = int(ids.numel())
        return {"text": total - sum(sizes.values()), **sizes, "total": total}

    def warm_up(self) -> None:
        """One short generation at start-up with the page's own settings (its sampling, its
        max_new_tokens, the speech limit), ended after 2 tokens and 4 frames: the first user pays
        neither the kernels' set-up nor, on the fast engine, the capture of the cache sizes a page
        request decodes over (those are kept between requests)."""
        if not self._info.capabilities.text_input:
            return  # the Captioner needs an audio clip; its first request warms it up instead
        request = Request(
            turns=(Turn("user", "Hi"),),
            return_audio=self._info.capabilities.speech_output,
            sampling=reply_sampling(self._info),
        )
        started = time.perf_counter()
        for _ in self.with_options(stop_after_tokens=2, stop_after_frames=4).stream(request):
            pass
        if self.fast_path is not None:
            self.fast_path.capture_all()  # the graphs of several requests decoded together
        log.info("warm-up (%s engine) took %.1f s", self.options.engine, time.perf_counter() - started)

    def self_check(self) -> bool:
        """The streamed speech path against stock generate(), once at start-up (see `selfcheck`);
        on a mismatch this engine falls back to the plain stock path. True when the check passed."""
        problem = selfcheck.speech_mismatch(self)
        if problem is None:
            return True
        self._fall_back()
        return False

    def start_up(self, warm: bool) -> None:
        """What the server runs once before serving: the self-check first, then (if `warm`) the
        warm-up. The fast and streamed paths rely on transformers internals, so any exception from
        them here switches to the stock `generate()` with one log line, rather than exiting or failing
        users' requests later; an exception from the stock path itself is a real fault and propagates."""
        self.self_check()
        if not warm:
            return
        try:
            self.warm_up()
        except Exception as exc:
            if self.options.engine == "plain" and not self.options.interleave:
                raise
            log.warning(
                "the %s engine failed its warm-up (%s: %s); using the plain engine",
                self.options.engine,
                type(exc).__name__,
                str(exc).splitlines()[0][:300] if str(exc) else "",
            )
            self._fall_back()
            self.warm_up()

    def _fall_back(self) -> None:
        self.options = replace(self.options, engine="plain", interleave=False)
        if self._fast is not None:
            self._fast.close()  # its loops' caches and graphs hold GPU memory the plain engine never uses
        self._fast = None
        # Start-up, before any request: the plain engine's line has one place.
        self.admission = Admission(self.concurrency, MAX_WAITING)

    @property
    def fast_path(self) -> FastPath | None:
        """The fast loops, or None when this engine runs the plain generate()."""
        if self.options.engine != "fast":
            return None
        if self._fast is None:
            self._fast = FastPath(self.model, compile=self.options.compile, max_batch=self.options.max_batch)
        return self._fast

    def with_options(self, **changes: Any) -> LocalEngine:
        """A second engine over the same model with other options (tests and the benchmark use it)."""
        options = replace(self.options, **changes)
        if options.engine == "fast" and self._fast is None:
            self._fast = FastPath(  # every copy shares its loops and graphs
                self.model, compile=options.compile, max_batch=options.max_batch
            )
        return LocalEngine(
            self.model, self.processor, self._info, options, self.admission, self._fast, self.facts
        )


def _in_background(work: Any) -> Any:
    """Run `work()` in a thread, yielding `Preparing` until it is done; returns its result.

    If the caller closes the generator meanwhile, the thread still finishes (its decoded media stays
    in the media cache for the next request) but nothing waits for it.
    """
    box: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            box["value"] = work()
        except BaseException as exc:  # handed to the caller below
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name="omni-prepare", daemon=True).start()
    while not done.wait(PREPARING_TICK_S):
        yield Preparing()
    if "error" in box:
        raise box["error"]
    return box["value"]


def _to_device(inputs: Any, model: Any) -> Any:
    return inputs.to(model.device).to(model.dtype)


def _out_of_memory_types() -> tuple[type[BaseException], ...]:
    import torch

    return (torch.OutOfMemoryError,)


def _release_memory() -> None:
    """Give cached GPU blocks back after a request (an OOM or a Stop leaves large ones behind)."""
    import gc

    import torch

    if torch.cuda.is_available():
        gc.collect()
        torch.cuda.empty_cache()


def _since(start: float, moment: float | None) -> float | None:
    return None if moment is None else moment - start


def _rate(progress: _Progress) -> float | None:
    if progress.first_token is None or progress.last_token is None or progress.text_tokens < 2:
        return None
    elapsed = progress.last_token - progress.first_token
    return (progress.text_tokens - 1) / elapsed if elapsed > 0 else None


def _peak_gpu_gib() -> float | None:
    import torch

    if not torch.cuda.is_available():
        return None
    return torch.cuda.max_memory_allocated() / 2**30

"""How one request is decoded, decided once: the thinker's `Decoding` and, when it speaks, the talker's.

The fast loops read the plan as it is. transformers' `generate()` takes keyword arguments instead
(`thinker_*`, `talker_*`, or the bare names for `thinker.generate()` / `talker.generate()`); those are
written from the plan here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from omni_demo.engine.fast.sampling import Decoding
from omni_demo.types import Request

# generate()'s names -> the Decoding fields they set (what the overrides below may name).
_FIELDS = {"eos_token_id": "eos_token_ids", "suppress_tokens": "suppress_tokens"}


@dataclass(frozen=True)
class Plan:
    thinker: Decoding
    use_audio_in_video: bool
    talker: Decoding | None = None  # None: a text answer
    speaker: str | None = None  # the voice, as the checkpoint's speaker_id names it (lower case)

    @property
    def speaks(self) -> bool:
        return self.talker is not None


def plan_for(
    request: Request,
    facts: Any,
    speaks: bool,
    voice: str | None,
    talker_do_sample: bool,
    max_speech_frames: int,
    overrides: tuple[tuple[str, Any], ...] = (),
    stop_after: int | None = None,
) -> Plan:
    """The request's decoding (what it leaves out stays None: the checkpoint's generation config, merged
    where the model is); `overrides` are generate()-style `thinker_*` / `talker_*` names (the
    benchmark's and the GPU suite's fixed lengths)."""
    s = request.sampling
    sampled = not s.greedy
    thinker = Decoding(
        do_sample=sampled,
        temperature=s.temperature if sampled else None,
        top_k=s.top_k if sampled else None,
        top_p=s.top_p if sampled else None,
        max_new_tokens=s.max_new_tokens,
        eos_token_ids=(facts.im_end_token_id,),
        stop_after=stop_after,
    )
    talker = None
    if speaks:
        talker = Decoding(
            do_sample=talker_do_sample and not request.talker_greedy,
            temperature=facts.talker.temperature,
            top_k=facts.talker.top_k,
            top_p=facts.talker.top_p,
            repetition_penalty=facts.talker.repetition_penalty,
            max_new_tokens=max_speech_frames,
            eos_token_ids=(facts.codec_eos_token_id,),
        )
    plan = Plan(thinker, request.use_audio_in_video, talker, voice.lower() if speaks and voice else None)
    return _overridden(plan, overrides)


def _overridden(plan: Plan, overrides: tuple[tuple[str, Any], ...]) -> Plan:
    stages: dict[str, dict[str, Any]] = {"thinker": {}, "talker": {}}
    for key, value in overrides:
        stage, _, name = key.partition("_")
        field = _FIELDS.get(name, name)
        stages[stage][field] = _as_field(field, value)
    thinker = replace(plan.thinker, **stages["thinker"])
    talker = replace(plan.talker, **stages["talker"]) if plan.talker is not None else None
    return replace(plan, thinker=thinker, talker=talker)


def talker_suppressed(talker: Decoding, vocab: int) -> Decoding:
    """generate()'s talker never picks the codec's last 1,024 codes (control codes), its end code aside;
    the talker's own generate() (and the fast loop) must be told."""
    eos = talker.eos_token_ids
    return replace(talker, suppress_tokens=tuple(i for i in range(vocab - 1024, vocab) if i not in eos))


def _as_field(field: str, value: Any) -> Any:
    if field in ("eos_token_ids", "suppress_tokens"):  # generate() takes one id or a list
        return tuple(value) if isinstance(value, (list, tuple)) else (value,)
    return value


def generate_kwargs(decoding: Decoding, sampling: bool | None = None) -> dict[str, Any]:
    """One stage's decoding as that stage's `generate()` keyword arguments; the sampling settings
    only when it samples, unless `sampling` says otherwise (the talker always gets its own, as
    generate() hands them to it)."""
    out: dict[str, Any] = {
        "do_sample": decoding.do_sample,
        "max_new_tokens": decoding.max_new_tokens,
        "min_new_tokens": decoding.min_new_tokens or None,
        "repetition_penalty": decoding.repetition_penalty,
        "eos_token_id": list(decoding.eos_token_ids) or None,
    }
    if decoding.do_sample if sampling is None else sampling:
        out |= {"temperature": decoding.temperature, "top_k": decoding.top_k, "top_p": decoding.top_p}
    if decoding.suppress_tokens:
        out["suppress_tokens"] = list(decoding.suppress_tokens)
    if decoding.stop_after is not None:  # the benchmark's fixed end; the fast loops read the field
        from omni_demo.engine.hooks import StopAfter  # transformers: only where generate() runs

        out["stopping_criteria"] = StopAfter(decoding.stop_after).as_list()
    return {k: v for k, v in out.items() if v is not None}


def model_generate_kwargs(plan: Plan) -> dict[str, Any]:
    """The plan as `Qwen3OmniMoeForConditionalGeneration.generate()`'s keyword arguments."""
    out: dict[str, Any] = {"use_audio_in_video": plan.use_audio_in_video, "return_audio": plan.speaks}
    out |= {f"thinker_{k}": v for k, v in generate_kwargs(plan.thinker).items()}
    if plan.talker is not None:
        talker = generate_kwargs(plan.talker, sampling=True)
        talker.pop("suppress_tokens", None)  # generate() suppresses the control codes itself
        talker.pop("eos_token_id", None)  # and ends at the codec's end code itself
        out |= {"speaker": plan.speaker, **{f"talker_{k}": v for k, v in talker.items()}}
    return out

"""`python -m omni_demo.bench.fidelity`: the fast engine's scores against the plain model's, teacher-forced.

Both paths are fed the same tokens for `--steps` decode steps (random prompt, random continuation),
so every step compares like with like, with no drift from a different choice earlier:
- thinker: the fast decode steps vs one plain forward over prompt + continuation;
- talker and code predictor: the fast frame step (greedy) vs the plain modules fed the fast path's
  own codes: the talker's next-code scores, and the predictor's 15 residual-code scores per frame.
For each: max |Δ| of the float32 scores, top-1 agreement, and agreement where the plain path's top-1
leads its runner-up by more than 0.1 (there they must agree; closer calls may flip in bf16). With
`--batch N` the same holds for N different sequences decoded together (one cache row each).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

MARGIN = 0.1


def compare(fast: Any, plain: Any) -> dict[str, float | int]:
    """fast, plain: [steps, vocab] float32 scores."""
    import torch

    fast, plain = fast.float().cpu(), plain.float().cpu()
    top2 = plain.topk(2, dim=-1).values
    clear = (top2[:, 0] - top2[:, 1]) > MARGIN
    same = fast.argmax(-1) == plain.argmax(-1)
    return {
        "steps": int(plain.shape[0]),
        "max_abs_diff": float((fast - plain).abs().max()),
        "top1_agreement": float(same.float().mean()),
        "clear_steps": int(clear.sum()),
        "clear_agreement": float(same[clear].float().mean()) if bool(clear.any()) else 1.0,
        "plain_scale": float(plain.abs().max()),
        "all_finite": bool(torch.isfinite(fast).all()),
    }


def thinker(model: Any, steps: int, rows: int = 1, prompt_length: int = 54) -> dict[str, Any]:
    """`rows` different random sequences decoded together (one row each), each against its own plain
    forward; the scores of every row are compared together."""
    import torch

    from omni_demo.engine.fast.thinker import ThinkerDecoder, cache_length

    device = model.thinker.lm_head.weight.device
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 150_000, (rows, prompt_length + steps), generator=generator).to(device)
    plain = [
        model.thinker(input_ids=ids[r : r + 1], attention_mask=torch.ones_like(ids[r : r + 1])).logits[
            0, prompt_length - 1 : -1
        ]
        for r in range(rows)
    ]
    decoder = ThinkerDecoder(model.thinker, cache_length(prompt_length + steps + 1), rows=rows)
    decoder.capture()
    fast: list[list[Any]] = []
    for r in range(rows):
        prompt = ids[r : r + 1, :prompt_length]
        prefilled = decoder.prefill(
            {"input_ids": prompt, "attention_mask": torch.ones_like(prompt)}, False, False
        )
        decoder.load(prefilled, r)
        fast.append([prefilled.logits[0].clone()])
    for index in range(prompt_length, prompt_length + steps - 1):
        logits = decoder.decode(ids[:, index : index + 1])
        for r in range(rows):
            fast[r].append(logits[r].clone())
    return compare(torch.cat([torch.stack(f) for f in fast]), torch.cat(plain).float())


def talker(model: Any, steps: int, rows: int = 1, prompt_length: int = 60) -> dict[str, Any]:
    """Teacher-forced frames: the same first codes and text embeddings on both paths; `rows` different
    random prompts decoded together, each against its own plain run."""
    import torch
    from transformers import DynamicCache

    from omni_demo.engine.fast.talker import FrameStep

    t = model.talker
    device, dtype = t.codec_head.weight.device, t.codec_head.weight.dtype
    hidden = t.config.text_config.hidden_size
    generator = torch.Generator().manual_seed(1)
    embeds = (torch.randn(rows, 1, prompt_length, hidden, generator=generator) * 0.05).to(device, dtype)
    tokens = torch.randint(0, 2048, (steps, rows, 1), generator=generator).to(device)
    texts = (torch.randn(steps, rows, 1, hidden, generator=generator) * 0.05).to(device, dtype)

    step = FrameStep(t, 4096, do_sample=False, rows=rows)
    step.capture()
    caches, pasts, deltas = [], [], []
    for r in range(rows):
        cache = DynamicCache(config=t.config.text_config)
        out = t(inputs_embeds=embeds[r], cache=cache, use_cache=True, output_hidden_states=True)
        delta = t.rope_deltas.reshape(-1)[:1].clone()
        fast_cache = DynamicCache(config=t.config.text_config)
        fast_out = t(inputs_embeds=embeds[r], cache=fast_cache, use_cache=True, output_hidden_states=True)
        step.start(fast_cache, prompt_length, delta, fast_out.hidden_states[0][-1][:, -1:], row=r)
        caches.append(cache)
        pasts.append(out.hidden_states[0][-1][:, -1:])
        deltas.append(delta)
    fast_talker, plain_talker, fast_predictor, plain_predictor = [], [], [], []
    for index in range(steps):
        codes, logits = step.frame(tokens[index], texts[index])
        fast_talker.append(logits.clone())
        fast_predictor.append(step.predictor_logits.clone())  # row 0's
        for r in range(rows):
            token, row_codes = tokens[index, r : r + 1], codes[r : r + 1]
            if r == 0:
                plain_predictor.append(_predictor_scores(t, pasts[r], token, row_codes))
            first = t.get_input_embeddings()(token)
            residual = sum(
                t.code_predictor.model.codec_embedding[g](row_codes[:, g : g + 1])
                for g in range(row_codes.shape[1])
            )
            position = torch.full((3, 1, 1), prompt_length + index, device=device) + deltas[r].reshape(
                1, 1, 1
            )
            o = t.model(
                inputs_embeds=first + residual + texts[index, r : r + 1],
                position_ids=position,
                cache=caches[r],
                use_cache=True,
            )
            pasts[r] = o.last_hidden_state[:, -1:]
            plain_talker.append(t.codec_head(pasts[r])[0, -1].float())
    fast_rows = torch.stack(fast_talker).transpose(0, 1).reshape(-1, fast_talker[0].shape[-1])
    plain_rows = (
        torch.stack(plain_talker).reshape(steps, rows, -1).transpose(0, 1).reshape(-1, fast_rows.shape[-1])
    )
    return {
        "talker": compare(fast_rows, plain_rows),
        "code_predictor": compare(torch.cat(fast_predictor), torch.cat(plain_predictor)),
    }


def _predictor_scores(talker: Any, past: Any, token: Any, codes: Any) -> Any:
    """The plain predictor over [past hidden, first code, residual codes 1..14] at once: 15 rows of scores."""
    import torch

    predictor = talker.code_predictor
    tables = predictor.model.codec_embedding
    parts = [past, talker.get_input_embeddings()(token)]
    parts += [tables[g](codes[:, g : g + 1]) for g in range(codes.shape[1] - 1)]
    hidden = predictor.model(inputs_embeds=torch.cat(parts, dim=1)).last_hidden_state
    return torch.stack([predictor.lm_head[g](hidden[0, g + 1]).float() for g in range(codes.shape[1])])


def main(argv: list[str] | None = None) -> int:
    import torch

    from omni_demo.bench.models import build_full_model

    p = argparse.ArgumentParser(prog="python -m omni_demo.bench.fidelity")
    p.add_argument("--steps", type=int, default=64)
    p.add_argument("--out", type=Path, default=Path("."))
    p.add_argument("--batch", type=int, default=4, help="also check this many rows decoded together")
    args = p.parse_args(argv)
    model = build_full_model()
    with torch.inference_mode():
        result = {"gpu": torch.cuda.get_device_name(), "steps": args.steps, "margin": MARGIN}
        result["thinker"] = thinker(model, args.steps)
        result |= talker(model, args.steps)
        if args.batch > 1:
            result[f"thinker_batch_{args.batch}"] = thinker(model, args.steps, args.batch)
            together = talker(model, args.steps, args.batch)
            result[f"talker_batch_{args.batch}"] = together["talker"]
    text = json.dumps(result, indent=1)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "fidelity.json").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

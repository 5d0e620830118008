"""Stage ``bank``: the description bank and the generation parameters the engine needs.

The bank is every training caption once (the sentences the training windows were given, plus the plainest
sentence of each content/style pair), each with the plain content and style words and the dataset of the
windows it was written for (the most common, when the same sentence was used for several). Motion-to-text
ranks these sentences by cosine similarity in the shared space; the best content and style words make the
composed sentence.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from engine.motion import DEFAULT_FPS

from ..artifacts import read_json, save_run
from ..captioning import canonical_caption
from .context import Context
from .data import plain_label
from .embedded import embedded

NAME = "bank"


def build_bank(ctx: Context) -> list[dict]:
    items = embedded(ctx, "train")
    windows = ctx.data.train
    uses: dict[str, Counter] = defaultdict(Counter)
    for i, rows in enumerate(items.captions):
        w = items.window[i]
        # Labels of the item (mirrored copies carry mirrored labels), dataset of its window.
        content = ctx.data.labels["content"][items.content_ids[i]] if items.content_ids[i] >= 0 else ""
        style = ctx.data.labels["style"][items.style_ids[i]] if items.style_ids[i] >= 0 else ""
        key = (plain_label(content), plain_label(style), str(windows.dataset[w]))
        for r in rows:
            uses[items.texts[r]][key] += 1
    for text, counter in list(uses.items()):
        for (content, style, dataset), _ in counter.items():
            if content:
                uses[canonical_caption(content, style or "none")][(content, style, dataset)] += 1
    bank = []
    for text in sorted(uses):
        (content, style, dataset), _ = uses[text].most_common(1)[0]
        bank.append({"text": text, "content": content, "style": style, "dataset": dataset})
    return bank


def generation_params(ctx: Context) -> dict:
    d, t = ctx.config["data"], ctx.config["t2m"]
    return {
        "window": d["window"],
        "min_frames": t["min_frames"],
        "fps": DEFAULT_FPS,
        "noise_scale": read_json(ctx.stage_dir("t2m") / "metrics.json")["noise_scale"],
        "latent_dim": ctx.config["model"]["latent_dim"],
        "shared_dim": ctx.config["model"]["shared_dim"],
    }


def run(ctx: Context) -> dict:
    bank = build_bank(ctx)
    if ctx.world.is_main:
        save_run(ctx.run_dir, bank=bank, generation=generation_params(ctx))
    return {"bank_size": len(bank), "contents": len({b["content"] for b in bank})}


def main(argv: list[str] | None = None) -> int:
    from ..pipeline import stage_main

    return stage_main(NAME, argv)

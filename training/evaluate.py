"""Evaluation of a trained run, per dataset (bandai-1, bandai-2, cmu-dance, ...; never only pooled).

On each dataset's test windows (its validation windows when its test split is empty; the report says which),
captions written with the held-out templates:

* motion -> text: the description bank ranked by cosine in the shared space. Content top-1 / top-3: the
  window's content word is that of the best / one of the three best entries; style top-1: the style word of
  the best entry that has one (styles compared as caption words: masculinity = masculine).
* text -> motion: each caption ranks the windows; a hit is a window that means the same (same content and
  style words). R@1/5/10 over the whole set, and R@1 within random batches of 32 pairs.
* generation: two samples per caption (z = text_latent + noise_scale * eps), cleaned of foot sliding as the
  engine cleans them (``engine.features.remove_foot_sliding``). A content classifier trained
  on real training windows only (logistic regression on per-window feature statistics) scores them (and,
  as its own check, the real test windows); diversity (mean distance between samples of one caption vs
  between real windows of one label), jitter (mean joint acceleration, m/s^2) and foot sliding (mean
  horizontal speed of feet marked in contact, m/s), generated vs real.
* baseline: K-means labels: a test window takes the majority content of its nearest training cluster
  (clusters of the ``cluster`` stage), which motion -> text content top-1 should beat.

Writes ``evaluation/metrics.json``, ``evaluation/report.md`` and pictures in the run folder: per dataset a PCA map
of the shared space (motion windows and their captions, coloured by content) and stick figures of generated
clips next to the real windows their prompts describe.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import torch

from engine.features import FOOT_CONTACTS, features_to_motion, remove_foot_sliding
from engine.skeleton import FEET

from .artifacts import load_torch, read_json, write_json, write_text
from .captioning import style_word
from .models import time_grid
from .plots import save_embedding_map, save_grid
from .stages.context import Context
from .stages.data import plain_label
from .stages.embedded import encode_windows

NAME = "evaluate"


def _style(label: str) -> str:
    return style_word(plain_label(label)) if label else ""


def window_summary(features: np.ndarray) -> np.ndarray:
    """Per-window statistics a simple classifier can read: mean, std and mean |velocity| of each feature."""
    velocity = np.abs(np.diff(features, axis=1)).mean(axis=1)
    return np.concatenate([features.mean(axis=1), features.std(axis=1), velocity], axis=1)


def train_classifier(features: np.ndarray, labels: np.ndarray, seed: int, max_rows: int = 8000):
    from sklearn.linear_model import LogisticRegression

    keep = np.flatnonzero(labels != "")
    if len(keep) > max_rows:
        keep = np.random.default_rng(seed).choice(keep, max_rows, replace=False)
    classifier = LogisticRegression(max_iter=600, C=1.0)
    classifier.fit(window_summary(features[keep]), labels[keep])
    return classifier


def motion_to_text(motion_shared: torch.Tensor, bank: list[dict], bank_shared: torch.Tensor,
                   content: list[str], style: list[str]) -> dict:  # fmt: skip
    scores = motion_shared @ bank_shared.T
    order = scores.argsort(dim=1, descending=True)[:, :3].numpy()
    bank_content = np.array([b["content"] for b in bank], dtype=object)
    bank_style = np.array([_style(b["style"]) for b in bank], dtype=object)
    styled = torch.from_numpy(bank_style != "")
    best_styled = scores.masked_fill(~styled, -2.0).argmax(dim=1).numpy() if styled.any() else None
    top1 = top3 = style_hits = style_count = 0
    for i, (c, s) in enumerate(zip(content, style)):
        top1 += bank_content[order[i, 0]] == c
        top3 += c in set(bank_content[order[i]])
        if s and best_styled is not None:
            style_count += 1
            style_hits += bank_style[best_styled[i]] == s
    n = max(len(content), 1)
    return {"content_top1": top1 / n, "content_top3": top3 / n,
            "style_top1": style_hits / style_count if style_count else None}  # fmt: skip


def text_to_motion(text_shared: torch.Tensor, motion_shared: torch.Tensor, meaning: np.ndarray,
                   rng: np.random.Generator, batch: int) -> dict:  # fmt: skip
    scores = text_shared @ motion_shared.T
    ranked = scores.argsort(dim=1, descending=True).numpy()
    relevant = meaning[:, None] == meaning[None, :]
    out = {}
    for k in (1, 5, 10):
        hits = relevant[np.arange(len(meaning))[:, None], ranked[:, :k]].any(axis=1)
        out[f"r{k}"] = float(hits.mean())
    hits, count = 0, 0
    order = rng.permutation(len(meaning))
    for start in range(0, len(order) - batch + 1, batch):
        idx = order[start : start + batch]
        best = scores[idx][:, idx].argmax(dim=1).numpy()
        hits += int(relevant[idx, idx[best]].sum())
        count += len(idx)
    out[f"r1_batch{batch}"] = hits / count if count else None
    return out


def motion_quality(features: np.ndarray, norm) -> dict:
    """Jitter (mean joint acceleration, m/s^2) and foot sliding (m/s) of windows of normalised features."""
    jitter, sliding = [], []
    for f in features:
        raw = norm.denormalize(f)
        p = features_to_motion(raw).positions.astype(np.float64)
        fps = 30.0
        jitter.append(np.linalg.norm(np.diff(p, n=2, axis=0), axis=-1).mean() * fps * fps)
        contact = raw[:-1, FOOT_CONTACTS] > 0.5
        speed = np.linalg.norm(np.diff(p[:, list(FEET)][..., [0, 2]], axis=0), axis=-1) * fps
        if contact.any():
            sliding.append(speed[contact].mean())
    return {"jitter": float(np.mean(jitter)), "foot_sliding": float(np.mean(sliding)) if sliding else None}


def mean_pairwise(x: np.ndarray) -> float:
    flat = x.reshape(len(x), -1)
    d = np.sqrt(((flat[:, None] - flat[None]) ** 2).mean(-1))
    return float(d[np.triu_indices(len(x), 1)].mean()) if len(x) > 1 else 0.0


@torch.no_grad()
def generate(decoder, text_shared: torch.Tensor, text_latent: torch.Tensor, frames: int, noise: float,
             samples: int, seed: int) -> torch.Tensor:  # fmt: skip
    """[N, samples, frames, F] generated windows for N prompts."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for s in range(samples):
        z = text_latent + noise * torch.randn(text_latent.shape, generator=g)
        out.append(decoder(z, text_shared, time_grid(len(z), frames)))
    return torch.stack(out, dim=1)


def evaluate_dataset(ctx: Context, name: str, windows, split: str, classifier, kmeans: dict | None,
                     bank: list[dict], bank_shared: torch.Tensor, pictures: Path | None = None) -> dict:  # fmt: skip
    models, cfg = ctx.models, ctx.config["evaluate"]
    rows = np.flatnonzero(windows.dataset == name)
    rng = ctx.rng(f"evaluate-{name}")
    captions = windows.captions(rows, rng)
    keep = np.array([bool(c) for c in captions])
    rows, captions = rows[keep], [c for c, k in zip(captions, keep) if k]
    if len(rows) == 0:
        return {"split": split, "windows": 0}
    features = torch.from_numpy(windows.features[rows])
    pooled, mu, _ = encode_windows(models.motion_encoder, features)
    motion_shared = models.motion_encoder.embed(pooled, models.motion_encoder.summary(features))
    text_shared, text_latent = models.text_heads(torch.from_numpy(ctx.sentence_embeddings(captions)))
    content = [plain_label(c) for c in windows.content[rows]]
    style = [_style(s) for s in windows.style[rows]]
    meaning = np.array([f"{c}|{s}" for c, s in zip(content, style)], dtype=object)
    result = {"split": split, "windows": int(len(rows)), "clips": int(len(set(windows.clip_index[rows])))}
    result["motion_to_text"] = motion_to_text(motion_shared, bank, bank_shared, content, style)
    result["text_to_motion"] = text_to_motion(text_shared, motion_shared, meaning, rng, cfg["batch"])
    if kmeans is not None:
        nearest = ((mu.numpy()[:, None] - kmeans["centroids"][None]) ** 2).sum(-1).argmin(1)
        guess = [plain_label(kmeans["majority"].get(int(c), "")) for c in nearest]
        result["kmeans_baseline_content_top1"] = float(np.mean([g == c for g, c in zip(guess, content)]))
    # Generation: prompts = one caption per window, at most ``max_prompts`` of them.
    pick = rng.permutation(len(rows))[: cfg["max_prompts"]]
    gen = generate(models.decoder, text_shared[pick], text_latent[pick], windows.length,
                   read_json(ctx.run_dir / "generation.json")["noise_scale"], cfg["generated_per_caption"],
                   ctx.config["seed"]).numpy()  # fmt: skip
    # Scored as the engine delivers them: with the root's drift over planted feet removed.
    flat = np.stack([windows.norm.normalize(remove_foot_sliding(windows.norm.denormalize(g)))
                     for g in gen.reshape(-1, *gen.shape[2:])])  # fmt: skip
    gen = flat.reshape(gen.shape)
    target = np.repeat(windows.content[rows][pick].astype(str), gen.shape[1])
    real_pred = classifier.predict(window_summary(windows.features[rows]))
    by_label = [windows.features[rows][windows.content[rows] == label] for label in set(windows.content[rows])]
    real_diversity = np.mean([mean_pairwise(x[:16]) for x in by_label if len(x) > 1] or [0.0])
    if pictures is not None:
        save_embedding_map(motion_shared.numpy(), text_shared.numpy(), content, pictures / f"map-{name}.png",
                           f"{name} {split}: shared space, PCA (dots: motion windows, crosses: captions)")
        shown = range(min(3, len(pick)))
        motions = [features_to_motion(windows.norm.denormalize(x)) for i in shown
                   for x in (gen[i, 0], windows.features[rows[pick[i]]])]  # fmt: skip
        titles = [f"{kind}: {captions[pick[i]]}"[:36] for i in shown for kind in ("generated", "real")]
        save_grid(motions, pictures / f"generated-vs-real-{name}.png", titles=titles)
    result["generation"] = {
        "prompts": int(len(pick)),
        "content_accuracy": float((classifier.predict(window_summary(flat)) == target).mean()),
        "classifier_accuracy_on_real": float((real_pred == windows.content[rows].astype(str)).mean()),
        "diversity": float(np.mean([mean_pairwise(g) for g in gen])),
        "diversity_real_same_label": float(real_diversity),
        "generated": motion_quality(flat[:64], windows.norm),
        "real": motion_quality(windows.features[rows][:64], windows.norm),
    }
    return result


def kmeans_labels(ctx: Context) -> dict | None:
    """Centroids of the cluster stage and each cluster's majority content among training windows."""
    folder = ctx.stage_dir("cluster")
    if not (folder / "train_assignments.pt").exists():
        return None
    assignment = load_torch(folder / "train_assignments.pt").numpy()
    centroids = np.load(folder / "centroids.npy")
    majority = {}
    for c in range(len(centroids)):
        known = [x for x in ctx.data.train.content[assignment == c] if x]
        if known:
            majority[c] = Counter(known).most_common(1)[0][0]
    return {"centroids": centroids, "majority": majority}


def report_markdown(results: dict) -> str:
    def pct(x):
        return "-" if x is None else f"{100 * x:.1f}%"

    def num(x):
        return "-" if x is None else f"{x:.3f}"

    lines = ["# Evaluation", "", "Per dataset, on held-out takes with held-out caption templates.", "",
             "| dataset | split | windows | content top-1 | content top-3 | style top-1 | K-means baseline | "
             "t->m R@1 | R@5 | R@10 | R@1 (batch 32) | gen. content acc. | classifier on real |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]  # fmt: skip
    for name, r in results["datasets"].items():
        if not r.get("windows"):
            lines.append(f"| {name} | {r['split']} | 0 | | | | | | | | | | |")
            continue
        m, t, g = r["motion_to_text"], r["text_to_motion"], r["generation"]
        lines.append(
            f"| {name} | {r['split']} | {r['windows']} | {pct(m['content_top1'])} | {pct(m['content_top3'])} | "
            f"{pct(m['style_top1'])} | {pct(r.get('kmeans_baseline_content_top1'))} | {pct(t['r1'])} | "
            f"{pct(t['r5'])} | {pct(t['r10'])} | {pct(t['r1_batch32'])} | {pct(g['content_accuracy'])} | "
            f"{pct(g['classifier_accuracy_on_real'])} |"
        )
    lines += ["", "| dataset | diversity gen. / real | jitter gen. / real (m/s²) | foot sliding gen. / real (m/s) |",
              "| --- | --- | --- | --- |"]  # fmt: skip
    for name, r in results["datasets"].items():
        if r.get("windows"):
            g = r["generation"]
            lines.append(
                f"| {name} | {num(g['diversity'])} / {num(g['diversity_real_same_label'])} | "
                f"{num(g['generated']['jitter'])} / {num(g['real']['jitter'])} | "
                f"{num(g['generated']['foot_sliding'])} / {num(g['real']['foot_sliding'])} |"
            )
    return "\n".join(lines) + "\n"


@torch.no_grad()
def run(ctx: Context) -> dict:
    models = ctx.models.eval()
    data = ctx.data
    bank = read_json(ctx.run_dir / "bank.json")
    bank_shared, _ = models.text_heads(torch.from_numpy(ctx.sentence_embeddings([b["text"] for b in bank])))
    classifier = train_classifier(data.train.features, data.train.content.astype(str), ctx.config["seed"])
    kmeans = kmeans_labels(ctx)
    results = {"datasets": {}}
    for name in sorted(set(data.train.dataset)):
        split = "test" if (data.test.dataset == name).any() else "val"
        windows = data.splits[split]
        pictures = ctx.run_dir / "evaluation" if ctx.world.is_main else None
        results["datasets"][name] = evaluate_dataset(ctx, name, windows, split, classifier, kmeans, bank, bank_shared,
                                                     pictures)  # fmt: skip
    if ctx.world.is_main:
        out = ctx.run_dir / "evaluation"
        write_json(out / "metrics.json", results)
        write_text(out / "report.md", report_markdown(results))
    return results


def main(argv: list[str] | None = None) -> int:
    from .pipeline import stage_main

    return stage_main(NAME, argv)

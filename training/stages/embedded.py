"""Windows as the stages after the VAE see them: the motion encoder's LSTM is frozen from then on, so each
window (and each augmented copy of a training window) is run through it once (with the window's summary
statistics), and each caption through the
frozen MiniLM once; the alignment, text and text-to-motion stages then train small heads on those numbers.

An ``Embedded`` set holds, per item (a window, or an augmented copy of one): its normalised features, the
pooled encoder state, the VAE posterior (mu, logvar), labels (namespaced ids for classifiers, plain words for
"same meaning"), its dataset and its captions as rows of a table of MiniLM sentence embeddings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..augment import AugmentConfig
from ..captioning import style_word
from .context import Context
from .data import plain_label


@dataclass
class Embedded:
    features: torch.Tensor  # [M, T, F]
    window: np.ndarray  # [M] index of the window in its WindowSet
    copy: np.ndarray  # [M] 0 = the window itself, k > 0 = k-th augmented copy
    dataset: np.ndarray  # [M] str
    content_ids: torch.Tensor  # [M] int64, -1 unknown
    style_ids: torch.Tensor
    meaning: np.ndarray  # [M] str "content|style" in plain words ("" unknown): equal = same meaning
    captions: list[list[int]]  # [M] rows of sentence_table
    texts: list[str]  # sentence_table's texts
    sentence_table: torch.Tensor  # [U, 384] MiniLM embeddings
    pooled: torch.Tensor  # [M, 4H] MotionEncoder.pool
    summary: torch.Tensor  # [M, 3F] MotionEncoder.summary
    mu: torch.Tensor  # [M, Z]
    logvar: torch.Tensor

    def __len__(self) -> int:
        return len(self.window)

    def captioned(self) -> np.ndarray:
        """Items that have at least one caption (unlabelled windows have none)."""
        return np.array([i for i, rows in enumerate(self.captions) if rows], dtype=np.int64)


def meaning_key(content: str, style: str) -> str:
    if not content:
        return ""
    return f"{plain_label(content)}|{style_word(plain_label(style)) if style else ''}"


@torch.no_grad()
def encode_windows(encoder, features: torch.Tensor, batch_size: int = 256) -> tuple[torch.Tensor, ...]:
    encoder.eval()
    pooled = torch.cat([encoder.pool(features[i : i + batch_size]) for i in range(0, len(features), batch_size)])
    mu, logvar = encoder.posterior(pooled)
    return pooled, mu, logvar


def build_embedded(ctx: Context, split: str, copies: int, captions_per_item: int) -> Embedded:
    windows = ctx.data.splits[split]
    n = len(windows)
    feats, window, copy, content, style, content_ids, style_ids, texts = [], [], [], [], [], [], [], []
    base = np.arange(n)
    for c in range(copies + 1):
        rng = ctx.rng(f"embedded-{split}-{c}")
        if c == 0 or not ctx.config["data"]["augment"]:
            f, cont, sty = windows.features, windows.content, windows.style
            cid, sid, mirrored = windows.content_ids, windows.style_ids, np.zeros(n, dtype=bool)
        else:
            batch = windows.augmented(base, rng, AugmentConfig())
            f, cont, sty, cid, sid, mirrored = (batch.features, batch.content, batch.style, batch.content_ids,
                                                batch.style_ids, batch.mirrored)  # fmt: skip
        feats.append(f)
        window.append(base)
        copy.append(np.full(n, c))
        content += list(cont)
        style += list(sty)
        content_ids.append(cid)
        style_ids.append(sid)
        per_window = [windows.captions(base, rng, mirrored) for _ in range(captions_per_item)]
        texts += [[t[i] for t in per_window if t[i]] for i in range(n)]
    unique = sorted({t for item in texts for t in item})
    row = {t: i for i, t in enumerate(unique)}
    features = torch.from_numpy(np.concatenate(feats)) if feats else torch.zeros(0)
    pooled, mu, logvar = encode_windows(ctx.models.motion_encoder, features)
    dataset = np.concatenate([windows.dataset] * (copies + 1)).astype(str)
    return Embedded(
        features=features,
        window=np.concatenate(window),
        copy=np.concatenate(copy),
        dataset=dataset,
        content_ids=torch.from_numpy(np.concatenate(content_ids)),
        style_ids=torch.from_numpy(np.concatenate(style_ids)),
        meaning=np.array([meaning_key(c, s) for c, s in zip(content, style)], dtype=object),
        captions=[sorted({row[t] for t in item}) for item in texts],
        texts=unique,
        sentence_table=torch.from_numpy(ctx.sentence_embeddings(unique)),
        pooled=pooled,
        summary=ctx.models.motion_encoder.summary(features),
        mu=mu,
        logvar=logvar,
    )


def embedded(ctx: Context, split: str) -> Embedded:
    """The split's embedded set (training windows with augmented copies), built once per process."""
    key = f"embedded-{split}"
    if key not in ctx.cache:
        copies = ctx.config["align"]["augment_copies"] if split == "train" else 0
        per_item = ctx.config["data"]["captions_per_window"] if split == "train" else 1
        ctx.cache[key] = build_embedded(ctx, split, copies, per_item)
    return ctx.cache[key]

"""Stage ``align``: the shared motion-text space (the motion encoder's shared head and the text shared head).

Loss ``infonce`` (default): symmetric InfoNCE over a batch of (motion, caption) pairs with a temperature
that is learned (or fixed); pairs whose captions mean the same (same plain content and style words, or
MiniLM similarity above ``same_meaning_threshold``) are removed from each other's negatives.
Loss ``triplet``: the seed's cluster-aware hardest-triplet loss: for each pair, the hardest negative among
items of another K-means cluster (stage ``cluster``) that do not mean the same, with a margin.
Optionally (``label_weight``) a linear content/style classifier on the shared space, applied to both sides,
pulls each label's motions and texts together. The LSTM is frozen: heads train on ``embedded`` items.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import distributed
from ..artifacts import load_torch
from ..models import MotionEncoder, TextHeads
from .context import Context
from .data import balanced_indices, batched
from .embedded import Embedded, embedded
from .loop import Fit, train_stage

NAME = "align"


def same_meaning(meaning: np.ndarray, sentences: torch.Tensor, threshold: float) -> torch.Tensor:
    """[B, B] bool: captions i and j mean the same (equal known labels, or cosine above threshold)."""
    known = torch.from_numpy(np.array([m != "" for m in meaning]))
    codes = torch.from_numpy(np.unique(meaning.astype(str), return_inverse=True)[1].reshape(-1))
    labels = (codes[:, None] == codes[None, :]) & known[:, None] & known[None, :]
    return labels | (sentences @ sentences.T > threshold)


def infonce(motion: torch.Tensor, text: torch.Tensor, scale: torch.Tensor, same: torch.Tensor) -> torch.Tensor:
    logits = scale * motion @ text.T
    eye = torch.eye(len(motion), dtype=torch.bool)
    logits = logits.masked_fill(same & ~eye, float("-inf"))
    target = torch.arange(len(motion))
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))


def hardest_triplet(motion: torch.Tensor, text: torch.Tensor, clusters: torch.Tensor, same: torch.Tensor,
                    margin: float) -> torch.Tensor:  # fmt: skip
    """Margin loss against the most similar item of another cluster, in both directions."""
    sim = motion @ text.T
    allowed = (clusters[:, None] != clusters[None, :]) & ~same
    negatives = sim.masked_fill(~allowed, float("-inf"))
    positive = sim.diag()
    m2t = F.relu(margin - positive + negatives.max(dim=1).values)
    t2m = F.relu(margin - positive + negatives.max(dim=0).values)
    has = allowed.any(dim=1).float()
    return ((m2t + t2m) * has).sum() / has.sum().clamp(min=1.0) / 2


class AlignObjective(nn.Module):
    def __init__(self, encoder: MotionEncoder, heads: TextHeads, labels: dict, cfg: dict, shared_dim: int):
        super().__init__()
        self.motion_head = encoder.shared
        self.text_head = heads.shared
        self.cfg = cfg
        self.log_scale = nn.Parameter(torch.tensor(math.log(1.0 / cfg["temperature"])),
                                      requires_grad=bool(cfg["learn_temperature"]))  # fmt: skip
        self.content = nn.Linear(shared_dim, max(1, len(labels["content"])))
        self.style = nn.Linear(shared_dim, max(1, len(labels["style"])))

    def embed(self, motion: torch.Tensor, sentences: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Shared-space vectors of motion (pooled state and summary, concatenated) and of sentences."""
        return F.normalize(self.motion_head(motion), dim=-1), F.normalize(self.text_head(sentences), dim=-1)

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        motion, text = self.embed(batch["motion"], batch["sentences"])
        same = batch["same"]
        if self.cfg["loss"] == "triplet":
            contrast = hardest_triplet(motion, text, batch["clusters"], same, self.cfg["triplet_margin"])
        else:
            contrast = infonce(motion, text, self.log_scale.exp().clamp(max=100.0), same)
        terms = {"contrast": contrast}
        loss = contrast
        if self.cfg["label_weight"] > 0:
            labels = 0.0
            for head, ids in ((self.content, batch["content_ids"]), (self.style, batch["style_ids"])):
                if (ids >= 0).any():
                    for side in (motion, text):
                        labels = labels + F.cross_entropy(head(side), ids, ignore_index=-1) / 4
            terms["labels"] = torch.as_tensor(labels)
            loss = loss + self.cfg["label_weight"] * labels
        terms["loss"] = loss
        return terms


def make_batch(items: Embedded, idx: np.ndarray, rng: np.random.Generator, threshold: float,
               clusters: torch.Tensor | None) -> dict:  # fmt: skip
    rows = [items.captions[i][rng.integers(len(items.captions[i]))] for i in idx]
    sentences = items.sentence_table[rows]
    batch = {
        "motion": torch.cat([items.pooled[idx], items.summary[idx]], dim=-1),
        "sentences": sentences,
        "same": same_meaning(items.meaning[idx], sentences, threshold),
        "content_ids": items.content_ids[idx],
        "style_ids": items.style_ids[idx],
    }
    if clusters is not None:
        batch["clusters"] = clusters[idx]
    return batch


def train_clusters(ctx: Context, items: Embedded) -> torch.Tensor:
    """The K-means cluster of each training item's window (from the cluster stage)."""
    path = ctx.stage_dir("cluster") / "train_assignments.pt"
    if not path.exists():
        raise RuntimeError("align.loss = 'triplet' needs the cluster stage first (no train_assignments.pt)")
    return load_torch(path)[torch.from_numpy(items.window)]


def validate(objective: AlignObjective, items: Embedded, threshold: float, chunk: int = 128) -> dict[str, float]:
    """Contrastive loss over fixed chunks of the validation items and text->motion R@1 within them."""
    idx = items.captioned()
    rng = np.random.default_rng(0)
    losses, hits, count = [], 0, 0
    for start in range(0, len(idx) - 1, chunk):
        part = idx[start : start + chunk]
        if len(part) < 2:
            break
        batch = make_batch(items, part, rng, threshold, None)
        motion, text = objective.embed(batch["motion"], batch["sentences"])
        losses.append(float(infonce(motion, text, objective.log_scale.exp(), batch["same"])) * len(part))
        best = (text @ motion.T).argmax(dim=1)
        hits += int(batch["same"][torch.arange(len(part)), best].sum())
        count += len(part)
    return {"loss": sum(losses) / max(count, 1), "r1_same_meaning": hits / max(count, 1)}


def run(ctx: Context) -> dict:
    cfg = ctx.config["align"]
    models = ctx.models
    train, val = embedded(ctx, "train"), embedded(ctx, "val")
    objective = AlignObjective(models.motion_encoder, models.text_heads, ctx.data.labels, cfg,
                               ctx.config["model"]["shared_dim"])  # fmt: skip
    clusters = train_clusters(ctx, train) if cfg["loss"] == "triplet" else None
    pool = train.captioned()
    steps = max(1, cfg["items_per_epoch"] // ctx.world.size // cfg["batch_size"])
    params = [p for p in objective.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg["lr"], weight_decay=cfg["weight_decay"])

    def batches(epoch: int):
        rng = ctx.rng(f"align-{epoch}")
        order = pool[balanced_indices(train.dataset[pool], ctx.config["data"]["dataset_shares"],
                                      steps * cfg["batch_size"] * ctx.world.size, rng)]  # fmt: skip
        mine = distributed.shard(torch.from_numpy(order), ctx.world).numpy()
        for idx in batched(mine, cfg["batch_size"]):
            yield make_batch(train, idx, rng, cfg["same_meaning_threshold"], clusters)

    fit = Fit(NAME, objective, batches, steps, lambda o: validate(o, val, cfg["same_meaning_threshold"]),
              optimizer, cfg["epochs"], cfg["grad_clip"], cfg["patience"])  # fmt: skip
    metrics = train_stage(ctx, fit, f"alignment ({cfg['loss']})")
    return {"temperature": float(1 / objective.log_scale.detach().exp()), **metrics}


def main(argv: list[str] | None = None) -> int:
    from ..pipeline import stage_main

    return stage_main(NAME, argv)

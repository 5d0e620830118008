"""Model-ready data: per-split sets of fixed windows (and variable-length crops) of normalized features.

``prepare(clips, ...)`` splits the clips by take, computes features (``engine.features`` layout v1) per clip,
fits ``NormStats`` on every frame of the training split, and returns ``Prepared`` with one ``WindowSet``
per split. Everything is numpy; training wraps it in torch tensors.

A ``WindowSet`` holds, for N windows of ``length`` frames taken every ``stride`` frames of each clip:

* ``features``: float32 [N, length, F], normalized with the train split's statistics (not augmented);
* ``clip_index``, ``start``: which clip of ``clips`` and which frame each window starts at;
* ``dataset``, ``content``, ``style``: per-window label strings, namespaced (``bandai-1/walk``, "" unknown);
* ``content_ids``, ``style_ids``: int64 indices into ``labels["content"]`` / ``labels["style"]`` (-1 unknown).

On the fly: ``augmented(indices, rng)`` gives a ``Batch`` of the same windows re-cut from augmented clips
(mirrored ones with mirrored labels), ``captions(indices, rng)`` one sentence per window (training templates
in the train split, held-out templates elsewhere; ``Batch.captions`` likewise after augmentation), and
``crops(rng, ...)`` a ``Batch`` of variable-length crops of whole clips for dynamic-length generation,
stacked by ``pad``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.features import NormStats, motion_to_features

from .augment import AugmentConfig, augment, mirror_labels
from .captioning import caption, mirror_text
from .corpus import SPLITS, Clip, split_by_take

DEFAULT_LENGTH = 50
DEFAULT_STRIDE = 20


def label_vocabulary(clips: list[Clip]) -> dict[str, list[str]]:
    """Sorted namespaced content and style labels of the clips, with their mirror images (walk-left and
    walk-right both exist even if only one was recorded)."""
    content = {c.content_label for c in clips if c.content_label}
    style = {c.style_label for c in clips if c.style_label}
    return {"content": sorted(content | {mirror_text(x) for x in content}),
            "style": sorted(style | {mirror_text(x) for x in style})}  # fmt: skip


def _ids(values: list[str], vocabulary: list[str]) -> np.ndarray:
    index = {label: i for i, label in enumerate(vocabulary)}
    return np.array([index.get(v, -1) for v in values], dtype=np.int64)


def _window_starts(frames: int, length: int, stride: int) -> np.ndarray:
    return np.arange(0, frames - length + 1, stride) if frames >= length else np.zeros(0, dtype=int)


@dataclass
class WindowSet:
    split: str
    clips: list[Clip]
    norm: NormStats
    labels: dict[str, list[str]]
    length: int = DEFAULT_LENGTH
    stride: int = DEFAULT_STRIDE
    # Raw (unnormalized) features of each clip, computed once; filled in by __post_init__ when not given.
    clip_features: list[np.ndarray] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        if not self.clip_features:
            self.clip_features = [motion_to_features(c.motion) for c in self.clips]
        starts = [_window_starts(len(f), self.length, self.stride) for f in self.clip_features]
        self.clip_index = np.concatenate([np.full(len(s), i) for i, s in enumerate(starts)] + [np.zeros(0, int)])
        self.start = np.concatenate(starts + [np.zeros(0, int)]).astype(np.int64)
        self.features = np.zeros((len(self.start), self.length, self.norm.mean.shape[0]), dtype=np.float32)
        for i, clip_features in enumerate(self.clip_features):
            rows = np.flatnonzero(self.clip_index == i)
            if len(rows):
                normalized = self.norm.normalize(clip_features)
                self.features[rows] = normalized[self.start[rows, None] + np.arange(self.length)]
        self.dataset = np.array([self.clips[i].dataset for i in self.clip_index], dtype=object)
        self.content = np.array([self.clips[i].content_label for i in self.clip_index], dtype=object)
        self.style = np.array([self.clips[i].style_label for i in self.clip_index], dtype=object)
        self.content_ids = _ids(list(self.content), self.labels["content"])
        self.style_ids = _ids(list(self.style), self.labels["style"])

    def __len__(self) -> int:
        return len(self.start)

    @property
    def frames(self) -> int:
        return int(sum(len(f) for f in self.clip_features))

    def captions(self, indices: np.ndarray, rng: np.random.Generator, mirrored: np.ndarray | None = None) -> list[str]:
        """One sentence per window (from the split's templates); "" for a clip with no labels or words.

        ``mirrored`` flags (as in ``Batch.mirrored``) caption those windows from their mirrored labels.
        """
        out = []
        for k, i in enumerate(np.asarray(indices)):
            clip = self.clips[self.clip_index[i]]
            out.append(_caption(mirror_labels(clip) if mirrored is not None and mirrored[k] else clip, self.split, rng))
        return out

    def augmented(
        self, indices: np.ndarray, rng: np.random.Generator, config: AugmentConfig = AugmentConfig()
    ) -> "Batch":
        """The windows ``indices`` cut from freshly augmented clips (each clip augmented once per call).

        A window keeps its relative place in its clip (time warp changes the clip's length).
        """
        indices = np.asarray(indices)
        features = np.empty((len(indices), self.length, self.norm.mean.shape[0]), dtype=np.float32)
        clips: list[Clip | None] = [None] * len(indices)
        for clip_i in np.unique(self.clip_index[indices]):
            rows = np.flatnonzero(self.clip_index[indices] == clip_i)
            clip = augment(self.clips[clip_i], rng, config)
            raw = self.norm.normalize(motion_to_features(clip.motion))
            if len(raw) < self.length:  # a time warp made a just-long-enough clip too short: pad its end
                raw = np.concatenate([raw, np.repeat(raw[-1:], self.length - len(raw), axis=0)])
            scale = len(raw) / len(self.clip_features[clip_i])
            starts = np.minimum(np.round(self.start[indices[rows]] * scale).astype(int), len(raw) - self.length)
            features[rows] = raw[starts[:, None] + np.arange(self.length)]
            for row in rows:
                clips[row] = clip
        return Batch(self.split, features, self.clip_index[indices], clips, self.labels)

    def crops(
        self,
        rng: np.random.Generator,
        min_frames: int = 30,
        max_frames: int = 120,
        count: int | None = None,
        config: AugmentConfig | None = None,
    ) -> "Batch":
        """Variable-length crops of ``count`` random clips (every clip once if None), augmented with
        ``config`` if given. Each crop's length is uniform in [min_frames, max_frames], limited by its clip;
        ``Batch.features`` is then a list of [T_i, F] arrays (see ``pad``).
        """
        clip_ids = np.arange(len(self.clips)) if count is None else rng.integers(len(self.clips), size=count)
        features, clips = [], []
        for i in clip_ids:
            clip = self.clips[i] if config is None else augment(self.clips[i], rng, config)
            raw = self.clip_features[i] if config is None else motion_to_features(clip.motion)
            length = min(len(raw), int(rng.integers(min_frames, max_frames + 1)))
            start = int(rng.integers(len(raw) - length + 1))
            features.append(self.norm.normalize(raw[start : start + length]))
            clips.append(clip)
        return Batch(self.split, features, clip_ids, clips, self.labels)


def _caption(clip: Clip, split: str, rng: np.random.Generator) -> str:
    if not clip.content and not clip.description:
        return ""
    return caption(clip.content, clip.style, clip.description, split, rng)


class Batch:
    """Windows or crops after augmentation: features and the labels of the (possibly mirrored) clips.

    ``features``: float32 [B, T, F] for windows, a list of [T_i, F] for crops (normalized);
    ``clip_index`` [B]: source clip in the set; ``content``/``style``: namespaced labels as seen after
    augmentation (a mirrored walk-left is a walk-right); ``content_ids``/``style_ids`` index the vocabulary
    (-1 unknown); ``mirrored`` [B] bool.
    """

    def __init__(self, split: str, features, clip_index: np.ndarray, clips: list[Clip], labels: dict) -> None:
        self.split = split
        self.features = features
        self.clip_index = np.asarray(clip_index)
        self.clips = clips
        self.content = np.array([c.content_label for c in clips], dtype=object)
        self.style = np.array([c.style_label for c in clips], dtype=object)
        self.content_ids = _ids(list(self.content), labels["content"])
        self.style_ids = _ids(list(self.style), labels["style"])
        self.mirrored = np.array([bool(c.motion.meta.get("mirrored", False)) for c in clips], dtype=bool)

    def __len__(self) -> int:
        return len(self.clips)

    def captions(self, rng: np.random.Generator) -> list[str]:
        """One sentence per item from its (mirrored) labels, with the split's templates."""
        return [_caption(c, self.split, rng) for c in self.clips]


def pad(sequences: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Stack variable-length [T_i, F] arrays into [B, T_max, F] (zero padded) and a bool mask [B, T_max]."""
    longest = max(len(s) for s in sequences)
    out = np.zeros((len(sequences), longest, sequences[0].shape[-1]), dtype=np.float32)
    mask = np.zeros((len(sequences), longest), dtype=bool)
    for i, s in enumerate(sequences):
        out[i, : len(s)] = s
        mask[i, : len(s)] = True
    return out, mask


@dataclass
class Prepared:
    splits: dict[str, WindowSet]
    norm: NormStats
    labels: dict[str, list[str]]

    @property
    def train(self) -> WindowSet:
        return self.splits["train"]

    @property
    def val(self) -> WindowSet:
        return self.splits["val"]

    @property
    def test(self) -> WindowSet:
        return self.splits["test"]


def prepare(
    clips: list[Clip],
    length: int = DEFAULT_LENGTH,
    stride: int = DEFAULT_STRIDE,
    ratios: tuple[float, float, float] = (0.7, 0.15, 0.15),
    seed: int = 0,
) -> Prepared:
    """Split by take, fit normalization on the train split's frames, cut every split into windows."""
    split = split_by_take(clips, ratios, seed)
    labels = label_vocabulary(clips)
    features = {name: [motion_to_features(c.motion) for c in split[name]] for name in SPLITS}
    if not features["train"]:
        raise ValueError("the train split is empty: no clips to fit normalization on")
    norm = NormStats.fit(features["train"])
    sets = {
        name: WindowSet(name, split[name], norm, labels, length, stride, features[name]) for name in SPLITS
    }
    return Prepared(sets, norm, labels)

"""Describe every clip of a motion library in words, as a caption file a user can review, correct and train on.

Each clip gets one row for the whole clip; a long clip (more than ``LONG_CLIP_WINDOWS`` model windows) also
gets rows for consecutive segments of one window length (the span the model was trained to describe), so a
dance that changes along the way is described piece by piece; neighbouring segments with the same sentence
are merged into one row. Rows are ``engine.captions.CaptionRow`` with the clip's path relative to the
caption file's folder, which is how ``read_captions`` and the training corpus resolve it.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from .captions import CaptionRow, write_captions
from .errors import ChoreolingoError
from .library import ClipSource, Failure, Progress, engine_window, folder_sources

# A clip longer than this many windows is also described segment by segment.
LONG_CLIP_WINDOWS = 4


@dataclass
class AnnotationReport:
    rows: list[CaptionRow] = field(default_factory=list)
    labels: Counter = field(default_factory=Counter)
    clips: int = 0
    failed: list[Failure] = field(default_factory=list)


def segments(frames: int, length: int) -> list[tuple[int, int]]:
    """Consecutive spans of ``length`` frames covering the clip; a remainder under half a span joins the last."""
    bounds = list(range(0, frames, length)) + [frames]
    if len(bounds) > 2 and frames - bounds[-2] < length / 2:
        del bounds[-2]
    return list(zip(bounds[:-1], bounds[1:]))


def merge_repeats(spans: list[tuple[int, int, object]]) -> list[tuple[int, int, object]]:
    """Join neighbouring (start, end, description) spans whose sentences are the same."""
    merged = spans[:1]
    for start, end, description in spans[1:]:
        if description.sentence == merged[-1][2].sentence:
            merged[-1] = (merged[-1][0], end, merged[-1][2])
        else:
            merged.append((start, end, description))
    return merged


def description_labels(description) -> list[str]:
    """``content: walk``, ``style: proud``: the labels a description settled on, for the summary counts."""
    return [f"{kind}: {pair[0]}" for kind, pair in (("content", description.content), ("style", description.style))
            if pair is not None]


def annotate_sources(engine, sources: Iterable[ClipSource], clip_name=lambda key: key,
                     progress: Progress | None = None) -> AnnotationReport:
    """Caption rows for every source; unreadable sources are listed in ``report.failed``."""
    length = engine_window(engine)["length"]
    sources = list(sources)
    report = AnnotationReport()
    for n, source in enumerate(sources):
        if progress:
            progress(n, len(sources), source.key)
        try:
            motion = source.load()
            spans = [(0, motion.frames, engine.describe(motion))]
            if motion.frames > LONG_CLIP_WINDOWS * length:
                pieces = merge_repeats([(s, e, engine.describe(motion.slice(s, e)))
                                        for s, e in segments(motion.frames, length)])
                if len(pieces) > 1:  # one piece is the whole clip again
                    spans += pieces
        except (ChoreolingoError, OSError) as exc:
            report.failed.append(Failure(source.key, list(source.stamp), str(exc)))
            continue
        report.clips += 1
        clip = clip_name(source.key)
        for start, end, description in spans:
            whole = start == 0 and end == motion.frames
            report.rows.append(CaptionRow(clip, round(start / motion.fps, 3),
                                          None if whole else round(end / motion.fps, 3), description.sentence))
            report.labels.update(description_labels(description))
    if progress:
        progress(len(sources), len(sources), "")
    return report


def annotate_folder(engine, folder: str | os.PathLike, out: str | os.PathLike,
                    progress: Progress | None = None) -> AnnotationReport:
    """Describe every .bvh/.npy under ``folder`` and write the caption file ``out`` (.jsonl or .csv)."""
    folder = Path(folder).resolve()
    out = Path(out).resolve()
    base = out.parent

    def clip_name(key: str) -> str:
        return Path(os.path.relpath(folder / key, base)).as_posix()

    report = annotate_sources(engine, folder_sources(folder), clip_name, progress)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_captions(report.rows, out)
    return report

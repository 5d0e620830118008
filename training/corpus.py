"""The training corpus: labelled clips of canonical motion, loaded once and cached.

A ``Clip`` is one take (or one captioned span of a take) with its labels. Sources:

* Bandai Namco archives (``dataset-N.tar.xz``, read without unpacking): content and style from the file name
  ``dataset-N_{content}_{style}_{id}``; the JSON beside each BVH (label indices into ``cfg/``) must agree.
  Dataset ``bandai-N``; each file is its own take.
* CMU dance folders (``captions.tsv`` + ``NN_MM.bvh``): the T-pose first frame is dropped; content derived
  from the database's words (ballet / leap / cartwheel / balance / dance-pose / salsa, else dance); the words
  themselves are the description; style ``none``. Dataset named after the folder (``cmu-dance``).
* A caption file (``.csv``/``.jsonl``, see ``engine.captions``): one Clip per described span, texts of the
  same span joined one per line in ``description``; content "" and style ``none``. The take is the file.
* Any other folder: a caption file inside it (``captions.csv``/``captions.jsonl``) if there is one, else
  every ``.bvh``/``.npy`` (e.g. Pettee marker arrays) as an unlabelled clip.

Parsed sources are cached as ``.npz`` under ``.cache/corpus/``, keyed by the source's path, size and
modification time and by the source code of the readers, so the pipeline and the tests load fast.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.archive import iter_archive
from engine.bvh import read_bvh
from engine.captions import read_captions
from engine.errors import MotionFormatError
from engine.io import load_motion
from engine.motion import DEFAULT_FPS, Motion

REPO = Path(__file__).resolve().parents[1]
DATA_ROOT = REPO / "training" / "mocap"
CACHE_DIR = REPO / ".cache" / "corpus"
NO_STYLE = "none"
SPLITS = ("train", "val", "test")
_BATCH = 64  # BVH files handed to the parsing processes at a time

# Bumped when what a loader produces changes in a way the readers' source hash does not show.
LOADER_VERSION = 1
# The code each kind of source is read with: editing it invalidates that kind's cached corpora.
_BVH_CODE = ("engine/bvh.py", "engine/rotations.py", "engine/skeleton.py", "engine/motion.py", "training/corpus.py")
_READER_CODE = {
    "bandai": _BVH_CODE + ("engine/archive.py",),
    "cmu": _BVH_CODE,
    "captions": _BVH_CODE + ("engine/io.py", "engine/pettee.py", "engine/captions.py"),
    "folder": _BVH_CODE + ("engine/io.py", "engine/pettee.py", "engine/captions.py"),
}


@dataclass(frozen=True)
class Clip:
    """One take (or one captioned span of it) on the canonical skeleton at 30 fps, with its labels.

    ``take`` identifies the recording (splits never separate clips of one take); ``dataset`` is
    ``bandai-1``, ``bandai-2``, ``cmu-dance`` or a user's name; ``content`` is the dataset's own word
    ("" if unknown), ``style`` likewise (``none`` if not annotated); ``description`` holds the clip's own
    words, one sentence per line ("" if none).
    """

    take: str
    dataset: str
    motion: Motion = field(repr=False)
    content: str = ""
    style: str = NO_STYLE
    description: str = ""

    @property
    def content_label(self) -> str:
        """Namespaced per dataset: ``bandai-1/walk`` and ``bandai-2/walk`` are different actors and takes."""
        return f"{self.dataset}/{self.content}" if self.content else ""

    @property
    def style_label(self) -> str:
        return f"{self.dataset}/{self.style}" if self.style != NO_STYLE else ""


def default_sources(data_root: Path = DATA_ROOT) -> list[Path]:
    """The data Choreolingo trains on by default: both Bandai Namco archives and the CMU dance trials."""
    return [data_root / "bandai-namco" / "dataset-1.tar.xz", data_root / "bandai-namco" / "dataset-2.tar.xz",
            data_root / "cmu-dance"]  # fmt: skip


# ---------------------------------------------------------------------------------------------------------
# Loaders (uncached): each returns a list of Clips at 30 fps.
# ---------------------------------------------------------------------------------------------------------
def _read_bandai_bvh(job: tuple[str, bytes]) -> Motion:
    source, data = job
    return read_bvh(data, fps=DEFAULT_FPS, source=source)


def load_bandai(archive: Path, dataset: str | None = None, limit: int | None = None, workers: int = 2) -> list[Clip]:
    """Clips of a Bandai Namco archive; ``limit`` keeps the first clips in archive order (for tests).

    The archive is decompressed in this process while ``workers`` processes parse the BVH text (the slow
    part: about 14 ms per dataset-2 file), in batches so only a few files are held in memory at once.
    """
    archive = Path(archive)
    number = archive.name.split(".")[0].split("-")[-1]
    dataset = dataset or f"bandai-{number}"
    label_files: dict[str, list[str]] = {}
    indices: dict[str, dict] = {}
    clips: list[Clip] = []
    batch: list[tuple[str, bytes]] = []
    # Spawned, not forked: the training pipeline has torch (and its thread pools) loaded by now.
    use_pool = workers > 1 and limit is None
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) if use_pool else None
    parse = pool.map if pool else map

    def flush() -> None:
        for (source, _), motion in zip(batch, parse(_read_bandai_bvh, batch)):
            stem = Path(source.split(":", 1)[1]).stem
            parts = stem.split("_")
            if len(parts) != 4:
                raise MotionFormatError("expected dataset-N_{content}_{style}_{id}.bvh", source)
            motion.name = stem
            clips.append(Clip(stem, dataset, motion, parts[1], parts[2]))
        batch.clear()

    try:
        for member, data in iter_archive(archive, (".bvh", ".json", ".txt")):
            stem = Path(member).stem
            if member.endswith(".txt") and "/cfg/" in member:
                label_files[stem] = data.decode().split()
            elif member.endswith(".json"):
                indices[stem] = json.loads(data)
            elif member.endswith(".bvh"):
                batch.append((f"{archive.name}:{member}", data))
                if len(batch) >= _BATCH:
                    flush()
                if limit is not None and len(clips) + len(batch) >= limit:
                    break
        flush()
    finally:
        if pool:
            pool.shutdown(cancel_futures=True)
    _check_bandai_json(clips, indices, label_files, archive)
    return clips


def _check_bandai_json(clips: list[Clip], indices: dict, label_files: dict, archive: Path) -> None:
    """The JSON label indices must name the same content and style as the file name."""
    if "content_label" not in label_files or "style_label" not in label_files:
        return  # cfg/ comes after data/ in the archive: a limited read stops before it
    contents = [c.split("_", 1)[1] for c in label_files["content_label"]]
    styles = [s.split("_", 1)[1] for s in label_files["style_label"]]
    for clip in clips:
        index = indices.get(clip.take)
        if index is None:
            continue
        if (contents[index["content"]], styles[index["style"]]) != (clip.content, clip.style):
            raise MotionFormatError(
                f"JSON labels {contents[index['content']]}/{styles[index['style']]} disagree with the file name",
                f"{archive.name}:{clip.take}",
            )


# CMU words -> content, first match wins (a leap is danced, so leap comes before the ballet terms).
_CMU_CONTENT_RULES = (
    ("salsa", ("salsa",)),
    ("cartwheel", ("cartwheel",)),
    ("leap", ("leap",)),
    ("balance", ("balance",)),
    ("dance-pose", ("dance pose",)),
    ("ballet", ("pirouette", "arabesque", "jete", "retire", "attitude", "plie", "cou-de-pied")),
)


def cmu_content(description: str) -> str:
    words = description.lower()
    return next((content for content, keys in _CMU_CONTENT_RULES if any(k in words for k in keys)), "dance")


def load_cmu(folder: Path, dataset: str | None = None, limit: int | None = None) -> list[Clip]:
    """Trials listed in ``captions.tsv`` (trial<TAB>description), T-pose first frame dropped."""
    folder = Path(folder)
    dataset = dataset or folder.name
    rows = [line.split("\t", 1) for line in (folder / "captions.tsv").read_text().splitlines()[1:] if line.strip()]
    clips = []
    for trial, description in rows[:limit]:
        motion = read_bvh(folder / f"{trial}.bvh", fps=DEFAULT_FPS, skip_frames=1)
        description = description.strip()
        clips.append(Clip(trial, dataset, motion, cmu_content(description), NO_STYLE, description))
    return clips


def load_captioned(path: Path, dataset: str | None = None, limit: int | None = None) -> list[Clip]:
    """One Clip per described span of a caption file (the first ``limit`` spans); clips are paths relative
    to the file's folder."""
    path = Path(path)
    dataset = dataset or path.stem
    spans: dict[tuple, list[str]] = defaultdict(list)
    for row in read_captions(path):
        spans[(row.clip, row.start, row.end)].append(row.text)
    motions: dict[str, Motion] = {}
    clips = []
    for (name, start, end), texts in list(spans.items())[:limit]:
        if name not in motions:
            motions[name] = load_motion(path.parent / name, fps=DEFAULT_FPS)
        motion = motions[name]
        first = int(round(start * motion.fps))
        last = motion.frames if end is None else min(motion.frames, int(round(end * motion.fps)))
        if last - first < 2:
            raise MotionFormatError(f"span {start}..{end} s holds fewer than 2 frames of {name}", str(path))
        span = motion.slice(first, last)
        span.name = Path(name).stem
        clips.append(Clip(name, dataset, span, "", NO_STYLE, "\n".join(texts)))
    return clips


def load_folder(folder: Path, dataset: str | None = None, limit: int | None = None) -> list[Clip]:
    """A folder's caption file if it has one, else each ``.bvh``/``.npy`` in it (the first ``limit`` by name)
    as an unlabelled clip."""
    folder = Path(folder)
    for name in ("captions.csv", "captions.jsonl"):
        if (folder / name).exists():
            return load_captioned(folder / name, dataset or folder.name, limit)
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".bvh", ".npy"))[:limit]
    if not files:
        raise MotionFormatError("no captions.csv/.jsonl and no .bvh or .npy files", str(folder))
    clips = []
    for file in files:
        motion = load_motion(file, fps=DEFAULT_FPS)
        motion.name = file.stem
        clips.append(Clip(file.name, dataset or folder.name, motion))
    return clips


def source_kind(source: Path) -> str:
    """``bandai`` (a .tar.xz), ``captions`` (.csv/.jsonl), ``cmu`` (folder with captions.tsv) or ``folder``."""
    if source.name.endswith(".tar.xz"):
        return "bandai"
    if source.suffix.lower() in (".csv", ".jsonl"):
        return "captions"
    if (source / "captions.tsv").exists():
        return "cmu"
    if source.is_dir():
        return "folder"
    raise MotionFormatError("not a Bandai archive, CMU folder, caption file or motion folder", str(source))


_LOADERS = {"bandai": load_bandai, "cmu": load_cmu, "captions": load_captioned, "folder": load_folder}


# ---------------------------------------------------------------------------------------------------------
# Cache: one .npz per source, all positions concatenated.
# ---------------------------------------------------------------------------------------------------------
def _cache_key(source: Path, kind: str, dataset: str | None, limit: int | None) -> str:
    digest = hashlib.sha256(f"{LOADER_VERSION}|{kind}|{source.resolve()}|{dataset}|{limit}".encode())
    # A folder's files, or an archive; a caption file's motions are its neighbours (one level deep).
    folder = source.parent if kind == "captions" else source
    files = [source] if kind == "bandai" else sorted(p for p in folder.iterdir() if p.is_file())
    for file in files:
        stat = file.stat()
        digest.update(f"|{file.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    for name in _READER_CODE[kind]:
        code = REPO / name
        digest.update(code.read_bytes() if code.exists() else b"-")
    return digest.hexdigest()[:20]


def _save(clips: list[Clip], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fields = {k: np.array([getattr(c, k) for c in clips], dtype=str) for k in ("take", "dataset", "content",
                                                                              "style", "description")}  # fmt: skip
    tmp = path.with_suffix(".tmp.npz")
    np.savez(
        tmp,
        positions=np.concatenate([c.motion.positions for c in clips]),
        frames=np.array([c.motion.frames for c in clips]),
        names=np.array([c.motion.name for c in clips], dtype=str),
        **fields,
    )
    tmp.replace(path)


def _load(path: Path) -> list[Clip]:
    data = np.load(path)
    ends = np.cumsum(data["frames"])
    positions = np.split(data["positions"], ends[:-1])
    return [
        Clip(str(take), str(dataset), Motion(p, DEFAULT_FPS, str(name)), str(content), str(style), str(text))
        for p, name, take, dataset, content, style, text in zip(
            positions, data["names"], data["take"], data["dataset"], data["content"], data["style"],
            data["description"],
        )
    ]  # fmt: skip


def load_source(
    source: Path | str, dataset: str | None = None, limit: int | None = None, cache_dir: Path | None = CACHE_DIR
) -> list[Clip]:
    """Clips of one source (kind detected from the path), through the cache unless ``cache_dir`` is None."""
    source = Path(source)
    if not source.exists():
        raise MotionFormatError("no such file or folder", str(source))
    kind = source_kind(source)
    if cache_dir is None:
        return _LOADERS[kind](source, dataset, limit)
    prefix = f"{source.name.split('.')[0]}-{limit or 'all'}-"
    cached = Path(cache_dir) / f"{prefix}{_cache_key(source, kind, dataset, limit)}.npz"
    if cached.exists():
        return _load(cached)
    clips = _LOADERS[kind](source, dataset, limit)
    if not clips:
        raise MotionFormatError("no clips found", str(source))
    for stale in Path(cache_dir).glob(f"{prefix}*.npz"):  # older readers' or older files' parses
        stale.unlink(missing_ok=True)
    _save(clips, cached)
    return clips


def load_corpus(
    sources: list | None = None, limit: int | None = None, cache_dir: Path | None = CACHE_DIR, progress: bool = True
) -> list[Clip]:
    """Clips of every source, in order. A source is a path or ``(dataset name, path)``; default: ours.

    ``limit`` keeps at most that many clips per source (small test corpora). Progress goes to stderr.
    """
    clips: list[Clip] = []
    for source in default_sources() if sources is None else sources:
        dataset, path = source if isinstance(source, tuple) else (None, source)
        started = time.perf_counter()
        loaded = load_source(path, dataset, limit, cache_dir)
        if progress:
            frames = sum(c.motion.frames for c in loaded)
            print(f"loaded {Path(path).name}: {len(loaded)} clips, {frames} frames in "
                  f"{time.perf_counter() - started:.1f} s", file=sys.stderr)  # fmt: skip
        clips += loaded
    return clips


# ---------------------------------------------------------------------------------------------------------
# Splits
# ---------------------------------------------------------------------------------------------------------
def _split_counts(n: int, ratios: tuple[float, ...], rng: np.random.Generator) -> list[int]:
    """Largest-remainder rounding of n * ratios (ties broken at random), with train getting at least one."""
    exact = np.asarray(ratios, dtype=float) / sum(ratios) * n
    counts = np.floor(exact).astype(int)
    order = np.lexsort((rng.random(len(ratios)), -(exact - counts)))
    counts[order[: n - counts.sum()]] += 1
    if n > 0 and counts[0] == 0:
        counts[int(np.argmax(counts))] -= 1
        counts[0] += 1
    return counts.tolist()


def split_by_take(
    clips: list[Clip], ratios: tuple[float, float, float] = (0.7, 0.15, 0.15), seed: int = 0
) -> dict[str, list[Clip]]:
    """Train/val/test by take (never by window), stratified by (dataset, content), seeded.

    Within each (dataset, content) group the takes are shuffled and divided by the ratios with
    largest-remainder rounding, train first: a group of one or two takes goes wholly to train, so every
    content is trained on. The held-out takes of a group are picked one by one from the style with the
    smallest share of its takes (in its dataset) already in that split, so styles spread over val and test
    in proportion too (first of the shuffled takes on ties).
    A dataset that non-zero test ratios leave without any test take (too few takes per content) then gives one
    training take of each group that has two or more to test, so its held-out figures can be reported and
    every group keeps at least one training take.
    With the CMU trials (seed 0) this means ballet (4 trials) gives 2 to train, 1 to val and 1 to test; leap
    and cartwheel (2 each) give 1 to train and 1 to test; balance, dance pose and salsa (1 each) are train
    only.
    """
    groups: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)  # (dataset, content) -> {take: style}
    for clip in clips:
        groups[(clip.dataset, clip.content)].setdefault(clip.take, clip.style)
    rng = np.random.default_rng(seed)
    totals = Counter((dataset, style) for (dataset, _), styles in groups.items() for style in styles.values())
    held_styles = {name: Counter() for name in SPLITS[1:]}  # (dataset, style) counts per held-out split
    split_of: dict[tuple[str, str], str] = {}
    left_in_train: dict[tuple[str, str], list[str]] = {}  # (dataset, content) -> its shuffled training takes
    for (dataset, content), styles in sorted(groups.items()):
        takes = list(styles)
        takes = [takes[i] for i in rng.permutation(len(takes))]
        counts = dict(zip(SPLITS, _split_counts(len(takes), ratios, rng)))
        for name in SPLITS[1:]:
            for _ in range(counts[name]):
                share = {t: held_styles[name][(dataset, styles[t])] / totals[(dataset, styles[t])] for t in takes}
                take = min(takes, key=share.__getitem__)
                takes.remove(take)
                held_styles[name][(dataset, styles[take])] += 1
                split_of.setdefault((dataset, take), name)
        for take in takes:
            split_of.setdefault((dataset, take), "train")
        left_in_train[(dataset, content)] = takes
    tested = {dataset for (dataset, _), name in split_of.items() if name == "test"}
    for (dataset, _), takes in sorted(left_in_train.items()):
        train = [t for t in takes if split_of[(dataset, t)] == "train"]
        # Only when a test split is asked for at all: ratios such as (1, 0, 0) keep everything in train.
        if ratios[2] > 0 and dataset not in tested and len(train) >= 2:
            split_of[(dataset, train[-1])] = "test"
    out: dict[str, list[Clip]] = {name: [] for name in SPLITS}
    for clip in clips:
        out[split_of[(clip.dataset, clip.take)]].append(clip)
    return out

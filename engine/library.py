"""A motion library searchable by words: an on-disk index of clip and window embeddings.

Index format (``INDEX_FORMAT``, version ``INDEX_VERSION``): a directory holding

* ``index.json``: ``format``, ``version``, ``bundle`` (identity of the model bundle that computed the
  embeddings, see ``bundle_identity``), ``bundle_path`` (where that bundle was: the default for searching),
  ``root`` (absolute folder the keys are relative to; empty for sources such as a .blend's actions),
  ``window`` (length and stride in model frames), ``dim`` (embedding size), ``entries`` and ``failed``.

  An entry is one clip: ``key`` (path relative to ``root`` with ``/`` separators, or a source's own name),
  ``stamp`` (``[mtime_ns, size]`` for files, a content fingerprint for a .blend's actions: an equal stamp
  means unchanged, so re-indexing skips the clip), ``name``, ``frames`` and ``fps`` (of the motion
  resampled to the model's fps, as the encoder sees it) and ``windows`` (``[start, end)`` frame ranges: the
  engine's windows, every ``stride`` frames plus one flush with the end). A failure is ``key``, ``stamp``
  and ``error``: an unchanged unreadable file is not parsed again, and is listed after every run.
* ``clips.npy``: float32 ``[entries, dim]``, one L2-normalised embedding per clip (the whole clip).
* ``windows.npy``: float32 ``[sum of windows, dim]``, one embedding per window, entry after entry in the
  order of ``entries``.

Any change to this layout increments ``INDEX_VERSION``; an index of another version is refused with a
message (re-index, or update Choreolingo), as is one built with another bundle.

A query is one matrix product per array: cosine similarity of the query's text embedding with every clip
and every window. A clip's score is its best candidate (the whole clip or one of its windows); the matched
range is that candidate, widened over neighbouring windows that score almost as well.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from .errors import BundleError, ChoreolingoError, EngineInputError
from .motion import Motion

INDEX_FORMAT = "choreolingo-motion-library"
INDEX_VERSION = 1
INDEX_JSON = "index.json"
CLIP_EMBEDDINGS = "clips.npy"
WINDOW_EMBEDDINGS = "windows.npy"
MOTION_SUFFIXES = (".bvh", ".npy")
# Where `index DIR` writes without --out: inside the library, hidden so the folder scan skips it.
DEFAULT_INDEX_NAME = ".choreolingo-index"
# Neighbouring windows scoring within this much of the best one join the matched range, so a hit covers the
# whole stretch of matching movement rather than one fixed-length window.
RANGE_MARGIN = 0.03

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class ClipSource:
    """Something to index: a stable key, a stamp that changes when the content changes, and a loader."""

    key: str
    stamp: list
    load: Callable[[], Motion]


@dataclass
class Entry:
    key: str
    stamp: list
    name: str
    frames: int
    fps: float
    windows: list[tuple[int, int]]

    def to_dict(self) -> dict:
        return {
            "key": self.key,
            "stamp": list(self.stamp),
            "name": self.name,
            "frames": self.frames,
            "fps": self.fps,
            "windows": [list(w) for w in self.windows],
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Entry":
        return cls(d["key"], list(d["stamp"]), d["name"], int(d["frames"]), float(d["fps"]),
                   [(int(s), int(e)) for s, e in d["windows"]])


@dataclass
class Failure:
    key: str
    stamp: list
    error: str


@dataclass
class SearchHit:
    key: str
    name: str
    score: float
    start: int  # first frame of the matched range (model fps)
    end: int  # one past its last frame
    fps: float
    path: str  # absolute file path, or the key for in-memory sources

    @property
    def start_seconds(self) -> float:
        return self.start / self.fps

    @property
    def end_seconds(self) -> float:
        return self.end / self.fps

    def to_dict(self) -> dict:
        return {"key": self.key, "name": self.name, "path": self.path, "score": round(self.score, 4),
                "start": self.start, "end": self.end, "fps": self.fps,
                "start_seconds": round(self.start_seconds, 3), "end_seconds": round(self.end_seconds, 3)}


@dataclass
class IndexReport:
    """What an indexing run did: keys (re)read, reused unchanged, dropped (gone) and unreadable."""

    read: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)


def bundle_identity(engine) -> dict:
    """What makes embeddings comparable: a hash of the model files (their sha256 in the manifest), the
    normalisation and the windows; the model version is kept for messages."""
    manifest = engine.manifest
    facts = {key: manifest[key] for key in ("files", "norm", "window")}
    digest = hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:16]
    return {"model_version": str(manifest["model_version"]), "hash": digest}


class LibraryIndex:
    """Clip and window embeddings of a library plus the facts needed to find and refresh each clip."""

    def __init__(self, bundle: dict, window: dict, root: str = "", dim: int = 0, bundle_path: str = ""):
        self.bundle = dict(bundle)
        self.bundle_path = bundle_path
        self.window = dict(window)
        self.root = root
        self.dim = dim
        self.entries: list[Entry] = []
        self.failed: list[Failure] = []
        self.clip_embeddings = np.zeros((0, dim), np.float32)
        self.window_embeddings = np.zeros((0, dim), np.float32)
        self._offsets = np.zeros(1, np.int64)

    def attach(self, entries: list[Entry], clip_embeddings: np.ndarray, window_embeddings: np.ndarray) -> None:
        """Set the entries and their embeddings (rows in entry order; windows entry after entry)."""
        offsets = np.concatenate([[0], np.cumsum([len(e.windows) for e in entries])]).astype(np.int64)
        if clip_embeddings.shape != (len(entries), self.dim) or window_embeddings.shape != (offsets[-1], self.dim):
            raise EngineInputError(
                f"index arrays {clip_embeddings.shape} and {window_embeddings.shape} do not match "
                f"{len(entries)} entries with {offsets[-1]} windows of dimension {self.dim}; re-index the library"
            )
        self.entries = entries
        self.clip_embeddings = clip_embeddings
        self.window_embeddings = window_embeddings
        self._offsets = offsets

    def entry_windows(self, i: int) -> np.ndarray:
        return self.window_embeddings[self._offsets[i]:self._offsets[i + 1]]

    def path_of(self, entry: Entry) -> str:
        return str(Path(self.root) / entry.key) if self.root else entry.key

    # -- disk ------------------------------------------------------------------------------------------------
    def save(self, directory: str | os.PathLike) -> Path:
        """Write the index; the JSON goes last (and atomically) so a reader never sees mismatched arrays."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for name, array in ((CLIP_EMBEDDINGS, self.clip_embeddings), (WINDOW_EMBEDDINGS, self.window_embeddings)):
            tmp = directory / (name + ".tmp")
            with open(tmp, "wb") as f:
                np.save(f, array)
            os.replace(tmp, directory / name)
        doc = {
            "format": INDEX_FORMAT,
            "version": INDEX_VERSION,
            "bundle": self.bundle,
            "bundle_path": self.bundle_path,
            "root": self.root,
            "window": self.window,
            "dim": self.dim,
            "entries": [e.to_dict() for e in self.entries],
            "failed": [vars(f) for f in self.failed],
        }
        tmp = directory / (INDEX_JSON + ".tmp")
        tmp.write_text(json.dumps(doc, separators=(",", ":")))
        os.replace(tmp, directory / INDEX_JSON)
        return directory

    @classmethod
    def load(cls, directory: str | os.PathLike) -> "LibraryIndex":
        directory = Path(directory)
        path = directory / INDEX_JSON
        if not path.is_file():
            raise EngineInputError(f"{directory}: not a motion library index (no {INDEX_JSON}); "
                                   f"build one with `python -m engine index DIR --bundle B --out {directory}`")
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise EngineInputError(f"{path}: unreadable index ({exc}); re-index the library") from exc
        if doc.get("format") != INDEX_FORMAT:
            raise EngineInputError(f"{path}: not a motion library index (format {doc.get('format')!r})")
        version = doc.get("version")
        if version != INDEX_VERSION:
            newer = isinstance(version, int) and version > INDEX_VERSION
            raise EngineInputError(
                f"{path}: index format version {version}, this engine reads version {INDEX_VERSION}; "
                + ("update Choreolingo" if newer else "re-index the library")
            )
        try:
            index = cls(doc["bundle"], doc["window"], doc["root"], int(doc["dim"]), doc["bundle_path"])
            index.failed = [Failure(f["key"], list(f["stamp"]), f["error"]) for f in doc["failed"]]
            entries = [Entry.from_dict(e) for e in doc["entries"]]
            index.attach(entries, np.load(directory / CLIP_EMBEDDINGS), np.load(directory / WINDOW_EMBEDDINGS))
        except (KeyError, TypeError, ValueError, OSError) as exc:
            raise EngineInputError(f"{directory}: damaged index ({exc!r}); re-index the library") from exc
        return index

    def check_bundle(self, identity: dict, where: str = "") -> None:
        """Refuse to compare embeddings from two different models (the same model re-exported is fine)."""
        if identity["hash"] != self.bundle["hash"]:
            raise BundleError(
                f"{where or 'the index'} was built with model bundle {_describe_identity(self.bundle)}, "
                f"but the engine uses {_describe_identity(identity)}; embeddings of different models cannot "
                "be compared: re-index the library with this bundle (`python -m engine index DIR --bundle B "
                "--rebuild`) or use the bundle the index was built with"
            )

    # -- search ----------------------------------------------------------------------------------------------
    def search_embedding(self, query: np.ndarray, top_k: int = 10) -> list[SearchHit]:
        """Best ``top_k`` clips for a (normalised) query embedding, each with its best-matching range."""
        if not self.entries:
            return []
        query = np.asarray(query, np.float32).reshape(-1)
        if query.shape[0] != self.dim:
            raise EngineInputError(f"query embedding has {query.shape[0]} values, the index {self.dim}")
        clip_scores = self.clip_embeddings @ query
        window_scores = self.window_embeddings @ query
        best_window = np.maximum.reduceat(window_scores, self._offsets[:-1])
        scores = np.maximum(clip_scores, best_window)
        k = min(top_k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [self._hit(int(i), float(clip_scores[i]), window_scores) for i in top]

    def _hit(self, i: int, clip_score: float, window_scores: np.ndarray) -> SearchHit:
        entry = self.entries[i]
        scores = window_scores[self._offsets[i]:self._offsets[i + 1]]
        best = int(np.argmax(scores))
        if clip_score >= scores[best]:
            score, start, end = clip_score, 0, entry.frames
        else:
            lo = hi = best
            while lo > 0 and scores[lo - 1] >= scores[best] - RANGE_MARGIN:
                lo -= 1
            while hi < len(scores) - 1 and scores[hi + 1] >= scores[best] - RANGE_MARGIN:
                hi += 1
            score, start, end = float(scores[best]), entry.windows[lo][0], entry.windows[hi][1]
        return SearchHit(entry.key, entry.name, score, start, end, entry.fps, self.path_of(entry))


def _describe_identity(identity: dict) -> str:
    return f"'{identity.get('model_version', '?')}' (hash {identity.get('hash', '?')})"


# ---------------------------------------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------------------------------------
def file_stamp(path: Path) -> list:
    st = path.stat()
    return [st.st_mtime_ns, st.st_size]


def folder_sources(root: str | os.PathLike, exclude: Iterable[str | os.PathLike] = ()) -> Iterator[ClipSource]:
    """Every .bvh/.npy under ``root`` (recursively, hidden folders and ``exclude`` skipped), sorted by key."""
    from .io import load_motion

    root = Path(root).resolve()
    skip = {Path(p).resolve() for p in exclude}
    found = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and (here / d).resolve() not in skip)
        found += [here / f for f in files if f.lower().endswith(MOTION_SUFFIXES)]
    for path in sorted(found):
        try:
            stamp = file_stamp(path)
        except OSError:  # a dangling link: listed (its load fails and says why) unless it is gone too
            try:
                stamp = [path.lstat().st_mtime_ns, 0]
            except OSError:
                continue
        yield ClipSource(path.relative_to(root).as_posix(), stamp, lambda p=path: load_motion(p))


# ---------------------------------------------------------------------------------------------------------
# Indexing
# ---------------------------------------------------------------------------------------------------------
def engine_window(engine) -> dict:
    """Window length and stride (model frames) from the bundle: the windows the model was trained on."""
    window = engine.manifest["window"]
    return {"length": int(window["length"]), "stride": int(window["stride"])}


class IndexBuilder:
    """Builds an index source by source (so a caller such as the add-on can report progress between clips),
    reusing every entry of ``previous`` whose key and stamp are unchanged.

    Sources that fail to load (a ``ChoreolingoError`` or ``OSError``) are recorded as failures, not raised.
    """

    def __init__(self, engine, previous: LibraryIndex | None = None, root: str = ""):
        self.identity = bundle_identity(engine)
        self.window = engine_window(engine)
        if previous is not None:
            previous.check_bundle(self.identity, "the existing index")
            if previous.window != self.window:
                previous = None  # same model, other windows: nothing to reuse
        self.engine = engine
        self.previous = previous
        self.root = root
        self._old = {e.key: (i, e) for i, e in enumerate(previous.entries)} if previous else {}
        self._old_failed = {f.key: f for f in previous.failed} if previous else {}
        self.report = IndexReport()
        self._entries: list[Entry] = []
        self._clips: list[np.ndarray] = []
        self._windows: list[np.ndarray] = []
        self._dim = previous.dim if previous else 0

    def add(self, source: ClipSource) -> None:
        stamp = list(source.stamp)
        known = self._old.get(source.key)
        if known and known[1].stamp == stamp:
            i, entry = known
            self._keep(entry, self.previous.clip_embeddings[i], self.previous.entry_windows(i))
            self.report.reused.append(source.key)
            return
        failed = self._old_failed.get(source.key)
        if failed and failed.stamp == stamp:
            self.report.failed.append(failed)
            return
        self.report.read.append(source.key)
        try:
            motion = source.load().resample(self.engine.fps)
            windows, ranges = self.engine.embed_windows(motion)
        except (ChoreolingoError, OSError) as exc:  # OSError: unreadable or vanished since the scan
            self.report.failed.append(Failure(source.key, stamp, str(exc)))
            return
        from .runtime import mean_embedding

        clip = mean_embedding(windows)  # the whole clip's embedding, exactly ``Engine.embed_motion``
        self._dim = clip.shape[0]
        name = motion.name or Path(source.key).stem
        self._keep(Entry(source.key, stamp, name, motion.frames, float(motion.fps), ranges), clip, windows)

    def _keep(self, entry: Entry, clip: np.ndarray, windows: np.ndarray) -> None:
        self._entries.append(entry)
        self._clips.append(clip)
        self._windows.append(windows)

    def run(self, sources: list[ClipSource], progress: Progress | None = None) -> tuple[LibraryIndex, IndexReport]:
        """Add every source (calling ``progress(done, total, key)`` before each) and finish."""
        for n, source in enumerate(sources):
            if progress:
                progress(n, len(sources), source.key)
            self.add(source)
        if progress:
            progress(len(sources), len(sources), "")
        return self.finish()

    def finish(self) -> tuple[LibraryIndex, IndexReport]:
        """The index of every source added; entries of ``previous`` not added again are reported dropped."""
        added = {e.key for e in self._entries} | {f.key for f in self.report.failed}
        self.report.dropped = sorted(k for k in [*self._old, *self._old_failed] if k not in added)
        index = LibraryIndex(self.identity, self.window, self.root, self._dim,
                             str(Path(self.engine.bundle.root).resolve()))
        empty = np.zeros((0, self._dim), np.float32)
        index.attach(self._entries, np.stack(self._clips) if self._clips else empty,
                     np.concatenate(self._windows) if self._windows else empty)
        index.failed = list(self.report.failed)
        return index, self.report


def index_folder(engine, folder: str | os.PathLike, out: str | os.PathLike | None = None,
                 rebuild: bool = False, progress: Progress | None = None) -> tuple[LibraryIndex, IndexReport, Path]:
    """Index (or refresh) the .bvh/.npy files of ``folder`` into ``out`` (default: inside the folder);
    returns the index, the report and where it was saved.

    The existing index at ``out`` is reused unless ``rebuild``; one built with another bundle is refused.
    """
    folder = Path(folder).resolve()
    if not folder.is_dir():
        raise EngineInputError(f"{folder}: not a folder")
    out = Path(out).resolve() if out else folder / DEFAULT_INDEX_NAME
    # Keys are relative and stamps survive a move, so an index moved along with its folder stays valid.
    previous = LibraryIndex.load(out) if not rebuild and (out / INDEX_JSON).exists() else None
    builder = IndexBuilder(engine, previous, str(folder))
    index, report = builder.run(list(folder_sources(folder, exclude=[out])), progress)
    index.save(out)
    return index, report, out


def search(engine, index: LibraryIndex, text: str, top_k: int = 10) -> list[SearchHit]:
    """The ``top_k`` clips of ``index`` that best match ``text``."""
    if not text or not text.strip():
        raise EngineInputError("empty search query: describe a movement, e.g. 'a fast spin'")
    if top_k < 1:
        raise EngineInputError(f"top-k must be at least 1, got {top_k}")
    index.check_bundle(bundle_identity(engine))
    query = np.asarray(engine.embed_text([text.strip()]), np.float32)[0]
    return index.search_embedding(query, top_k)

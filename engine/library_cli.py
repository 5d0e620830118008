"""``python -m engine index|search|annotate``: the motion library on the command line.

    python -m engine index DIR --bundle B [--out INDEX] [--rebuild]
    python -m engine search "a fast spin" --index INDEX [--bundle B] [--top-k K] [--json]
    python -m engine annotate DIR --bundle B --out captions.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter

from .cli import run_reported
from .library import DEFAULT_INDEX_NAME, Failure, LibraryIndex


class ProgressBar:
    """``bar(done, total, label)`` on stderr: redrawn in place on a terminal, one line per tenth in a log."""

    def __init__(self, title: str, stream=None, width: int = 30):
        self.title = title
        self.stream = stream or sys.stderr
        self.width = width
        self.started = time.perf_counter()
        self._last_draw = 0.0
        self._last_tenth = -1

    def __call__(self, done: int, total: int, label: str = "") -> None:
        now = time.perf_counter()
        finished = done >= total
        if self.stream.isatty():
            if not finished and now - self._last_draw < 0.1:
                return
            self._last_draw = now
            filled = self.width * done // total if total else self.width
            self.stream.write(f"\r{self.title} [{'#' * filled}{'.' * (self.width - filled)}] {done}/{total} "
                              f"{now - self.started:5.1f}s {label[-40:]:<40}" + ("\n" if finished else ""))
        else:
            tenth = 10 * done // total if total else 10
            if tenth == self._last_tenth:
                return
            self._last_tenth = tenth
            self.stream.write(f"{self.title}: {done}/{total} ({now - self.started:.1f}s)\n")
        self.stream.flush()


def _print_failures(failed: list[Failure]) -> None:
    if failed:
        print(f"{len(failed)} file(s) could not be read, left out:")
        for failure in failed:
            print(f"  {failure.key}: {failure.error}")


def _engine(bundle: str, threads: int | None = None):
    from .runtime import DEFAULT_THREADS, Engine

    return Engine(bundle, threads=threads or DEFAULT_THREADS)


def _threads_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--threads", type=int, help="onnxruntime threads (default 1; more for a big library)")


def index_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine index",
                                     description="Index a folder of .bvh/.npy clips (recursively) for text search.")
    parser.add_argument("folder")
    parser.add_argument("--bundle", required=True, help="model bundle folder")
    parser.add_argument("--out", help=f"index folder (default: FOLDER/{DEFAULT_INDEX_NAME})")
    parser.add_argument("--rebuild", action="store_true",
                        help="ignore an existing index (needed to switch an index to another bundle)")
    _threads_option(parser)
    args = parser.parse_args(argv)
    from .library import index_folder

    started = time.perf_counter()
    index, report, out = index_folder(_engine(args.bundle, args.threads), args.folder, args.out, args.rebuild,
                                      ProgressBar("indexing"))
    print(f"{out}: {len(index.entries)} clips, {len(index.window_embeddings)} windows "
          f"({len(report.read)} read, {len(report.reused)} unchanged, {len(report.dropped)} dropped) "
          f"in {time.perf_counter() - started:.1f} s")
    for key in report.dropped:
        print(f"  dropped (deleted or moved): {key}")
    _print_failures(report.failed)
    return 0


def search_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine search",
                                     description="Find the clips (and frame ranges) of an index matching a text.")
    parser.add_argument("query")
    parser.add_argument("--index", required=True, help="index folder made by `python -m engine index`")
    parser.add_argument("--bundle", help="model bundle folder (default: the one the index was built with)")
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--json", action="store_true", help="print the hits as JSON")
    args = parser.parse_args(argv)
    from .library import search

    index = LibraryIndex.load(args.index)
    hits = search(_engine(args.bundle or index.bundle_path), index, args.query, args.top_k)
    if args.json:
        print(json.dumps([hit.to_dict() for hit in hits], indent=2))
        return 0
    if not hits:
        print("the index is empty")
    for rank, hit in enumerate(hits, 1):
        print(f"{rank:3d}. {hit.score:6.3f}  {hit.name:<40} frames {hit.start}-{hit.end} "
              f"({hit.start_seconds:.2f}-{hit.end_seconds:.2f} s)  {hit.path}")
    return 0


def annotate_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine annotate",
                                     description="Describe every clip of a folder; write a caption file.")
    parser.add_argument("folder")
    parser.add_argument("--bundle", required=True, help="model bundle folder")
    parser.add_argument("--out", required=True, help="caption file to write (.jsonl or .csv)")
    _threads_option(parser)
    args = parser.parse_args(argv)
    from .annotate import annotate_folder

    report = annotate_folder(_engine(args.bundle, args.threads), args.folder, args.out, ProgressBar("describing"))
    print(f"{args.out}: {len(report.rows)} captions for {report.clips} clips")
    if report.labels:
        print(f"labels over the {len(report.rows)} captions:")
        for label, count in _sorted_counts(report.labels):
            print(f"  {count:6d}  {label}")
    _print_failures(report.failed)
    return 0


def _sorted_counts(counts: Counter) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


# command -> (function taking argv, one-line help), for the engine's command dispatcher
COMMANDS = {
    "index": (index_command, "index a folder of clips for text search"),
    "search": (search_command, "find clips and frame ranges matching a text in an index"),
    "annotate": (annotate_command, "describe every clip of a folder into a caption file"),
}


def main(argv: list[str]) -> int:
    """Run one library command (``argv[0]`` is its name) as ``python -m engine`` runs its others
    (``cli.run_reported``)."""
    return run_reported(lambda: COMMANDS[argv[0]][0](argv[1:]))

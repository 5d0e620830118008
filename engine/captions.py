"""Caption files: how users describe their own motion clips, for training on their data.

One row per described span: ``clip`` (a motion file, relative to the caption file's folder, or a name),
``start`` and ``end`` in seconds (``end`` empty or null = to the end of the clip), ``text``. Two spellings:

* CSV (``.csv``) with the header ``clip,start,end,text``;
* JSON Lines (``.jsonl``), one object per line: ``{"clip": "a.bvh", "start": 0, "end": 4.5, "text": "..."}``.

A clip may have many rows (several spans, or several sentences for one span).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from .errors import MotionFormatError

FIELDS = ("clip", "start", "end", "text")


@dataclass(frozen=True)
class CaptionRow:
    clip: str
    start: float
    end: float | None
    text: str


def _row(raw: dict, source: str, location: str) -> CaptionRow:
    missing = [k for k in ("clip", "text") if not str(raw.get(k) or "").strip()]
    if missing:
        raise MotionFormatError(f"caption row needs {' and '.join(missing)}", source, location)
    try:
        start = float(raw.get("start") or 0.0)
        end_raw = raw.get("end")
        end = None if end_raw in (None, "") else float(end_raw)
    except (TypeError, ValueError) as exc:
        raise MotionFormatError(f"start/end must be seconds: {exc}", source, location) from None
    if start < 0 or (end is not None and end <= start):
        raise MotionFormatError(f"span {start}..{end} s is empty or negative", source, location)
    return CaptionRow(str(raw["clip"]).strip(), start, end, str(raw["text"]).strip())


def read_captions(path: str | Path) -> list[CaptionRow]:
    """Rows of a ``.csv`` or ``.jsonl`` caption file; ``MotionFormatError`` names the bad line."""
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise MotionFormatError(f"cannot read caption file: {exc.strerror}", source) from None
    rows = []
    if path.suffix.lower() == ".jsonl":
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as exc:
                raise MotionFormatError(f"not JSON: {exc.msg}", source, f"line {number}") from None
            if not isinstance(raw, dict):
                raise MotionFormatError("each line must be a JSON object", source, f"line {number}")
            rows.append(_row(raw, source, f"line {number}"))
    elif path.suffix.lower() == ".csv":
        reader = csv.DictReader(text.splitlines())
        if reader.fieldnames is None or not {"clip", "text"} <= set(reader.fieldnames):
            raise MotionFormatError(f"CSV header must be {','.join(FIELDS)}", source, "line 1")
        for raw in reader:
            rows.append(_row(raw, source, f"line {reader.line_num}"))
    else:
        raise MotionFormatError("caption files are .csv or .jsonl", source)
    if not rows:
        raise MotionFormatError("caption file has no rows", source)
    return rows


def write_captions(rows: list[CaptionRow], path: str | Path) -> None:
    """Write rows as CSV or JSON Lines, chosen by the file's suffix."""
    path = Path(path)
    plain = [{"clip": r.clip, "start": r.start, "end": r.end, "text": r.text} for r in rows]
    if path.suffix.lower() == ".jsonl":
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in plain), encoding="utf-8")
    elif path.suffix.lower() == ".csv":
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=FIELDS)
            writer.writeheader()
            writer.writerows({**r, "end": "" if r["end"] is None else r["end"]} for r in plain)
    else:
        raise MotionFormatError("caption files are .csv or .jsonl", str(path))

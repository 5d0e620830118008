"""Caption files (engine.captions) and generated captions (training.captioning)."""

import re

import numpy as np
import pytest

from engine.captions import CaptionRow, read_captions, write_captions
from engine.errors import MotionFormatError
from training.captioning import (
    CONTENT_PHRASES,
    HELD_OUT_TEMPLATES,
    STYLE_WORDS,
    TRAIN_TEMPLATES,
    canonical_caption,
    caption,
    mirror_text,
    style_word,
)

ROWS = [
    CaptionRow("take1.bvh", 0.0, 4.5, "a dancer spins, then bows"),
    CaptionRow("take1.bvh", 4.5, None, 'she jumps, "high"'),
    CaptionRow("sub/take2.npy", 1.0, 2.0, "walks left"),
]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_caption_files_round_trip(tmp_path, suffix):
    path = tmp_path / f"captions{suffix}"
    write_captions(ROWS, path)
    assert read_captions(path) == ROWS


def test_caption_csv_written_by_hand(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("clip,start,end,text\nmy.bvh,,,the whole clip\nmy.bvh,2,3.5,a turn\n")
    rows = read_captions(path)
    assert rows[0] == CaptionRow("my.bvh", 0.0, None, "the whole clip")
    assert rows[1].end == 3.5


@pytest.mark.parametrize(
    "name, text, where",
    [
        ("c.csv", "clip,start,end,text\na.bvh,0,1,ok\na.bvh,3,2,backwards\n", "line 3"),
        ("c.csv", "clip,begin,stop\na.bvh,0,1\n", "line 1"),
        ("c.csv", "clip,start,end,text\na.bvh,zero,1,x\n", "line 2"),
        ("c.jsonl", '{"clip": "a.bvh", "text": "fine"}\n{"clip": "a.bvh"}\n', "line 2"),
        ("c.jsonl", '{"clip": "a.bvh", "text": "fine"}\nnot json\n', "line 2"),
    ],
)
def test_bad_caption_files_name_the_line(tmp_path, name, text, where):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(MotionFormatError) as error:
        read_captions(path)
    assert error.value.location == where and error.value.source == str(path)


def test_caption_files_need_a_known_suffix_and_rows(tmp_path):
    (tmp_path / "c.txt").write_text("x")
    (tmp_path / "e.jsonl").write_text("\n")
    for name in ("c.txt", "e.jsonl", "missing.csv"):
        with pytest.raises(MotionFormatError):
            read_captions(tmp_path / name)


BANDAI_CONTENT = ["walk", "run", "dash", "walk-back", "walk-left", "walk-right", "bow", "bye", "guide", "byebye",
                  "respond", "call", "punch", "kick", "slash", "dance-long", "dance-short", "walk-turn-left",
                  "walk-turn-right", "wave-both-hands", "wave-left-hand", "wave-right-hand", "raise-up-both-hands",
                  "raise-up-left-hand", "raise-up-right-hand"]  # fmt: skip
BANDAI_STYLES = ["normal", "happy", "sad", "angry", "proud", "not-confident", "masculinity", "feminine", "childish",
                 "old", "tired", "active", "musical", "giant", "chimpira", "elderly", "exhausted", "masculine",
                 "youthful"]  # fmt: skip


def test_every_dataset_label_has_phrases():
    for content in BANDAI_CONTENT + ["ballet", "leap", "cartwheel", "balance", "dance-pose", "salsa"]:
        assert content in CONTENT_PHRASES
    for style in BANDAI_STYLES:
        assert style_word(style) in STYLE_WORDS
    assert style_word("chimpira") == "thug" and style_word("masculinity") == style_word("masculine")


def test_captions_vary_and_use_the_words():
    rng = np.random.default_rng(0)
    sentences = {caption("walk-turn-left", "chimpira", "", "train", rng) for _ in range(200)}
    assert len(sentences) > 30
    assert all("left" in s for s in sentences)
    thug = STYLE_WORDS["thug"][0] + STYLE_WORDS["thug"][1]
    with_style = [s for s in sentences if any(w in s for w in thug)]
    assert 0 < len(with_style) < len(sentences)  # with and without the style
    assert all(s[0].isupper() for s in sentences)
    assert "chimpira" not in " ".join(sentences)


def _matcher(templates: dict) -> re.Pattern:
    shapes = [re.sub(r"\\{\w+\\}", ".+", re.escape(t)) for ts in templates.values() for t in ts]
    return re.compile("|".join(f"(?:{s})" for s in shapes), re.IGNORECASE)


def test_held_out_templates_only_in_validation():
    rng = np.random.default_rng(1)
    held_out, train = _matcher(HELD_OUT_TEMPLATES), _matcher(TRAIN_TEMPLATES)
    for split in ("val", "test"):
        assert all(held_out.fullmatch(caption("bow", "happy", "", split, rng)) for _ in range(200)), split
    train_sentences = [caption("bow", "happy", "", "train", rng) for _ in range(200)]
    assert all(train.fullmatch(s) for s in train_sentences)
    assert not any(held_out.fullmatch(s) for s in train_sentences)


def test_descriptions_are_kept_and_unknown_labels_still_read():
    rng = np.random.default_rng(2)
    text = "dance - retire derriere, attitude/arabesque"
    sentences = [caption("ballet", "none", text, "train", rng) for _ in range(100)]
    assert text in sentences and any("ballet" in s for s in sentences)
    assert caption("", "none", "my own words", "val", rng) == "my own words"
    assert {caption("", "none", "one\ntwo\n", "train", rng) for _ in range(30)} == {"one", "two"}
    assert "jumping jacks" in caption("jumping-jacks", "none", "", "train", rng)
    with pytest.raises(ValueError):
        caption("", "none", "", "train", rng)


def test_canonical_caption_and_mirror_words():
    assert canonical_caption("walk-left", "happy") == "A happy person walks to the left"
    assert canonical_caption("bow", "normal") == "A person bows"
    assert canonical_caption("run", "old") == "An old person runs"
    assert mirror_text("bandai-2/wave-left-hand") == "bandai-2/wave-right-hand"
    assert mirror_text("Raises the right hand, then the left") == "Raises the left hand, then the right"
    assert mirror_text("walk-turn-right") == "walk-turn-left" and mirror_text("bright") == "bright"

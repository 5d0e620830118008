"""What ``Engine.describe`` returns: the nearest bank texts and one sentence composed from labels.

Every bank entry carries the content and style labels of the clip its caption was written for. A label's
score is the best cosine similarity among the bank entries that carry it; the sentence is made from the best
content label and the best style label ("A person walks proudly."). Labels without a phrase below (a user's
own data) still read as English: "A person performs spin-jump in a dreamy way." Labels may carry their
dataset ("bandai-1/walk"): labels are scored as they are, phrased by the word after the slash.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CONTENT_PHRASES = {
    # Bandai Namco dataset 1
    "walk": "walks", "run": "runs", "dash": "dashes", "walk-back": "walks backwards",
    "walk-left": "walks to the left", "walk-right": "walks to the right", "bow": "bows",
    "bye": "waves goodbye", "byebye": "waves goodbye with both hands", "guide": "shows the way",
    "respond": "responds with a gesture", "call": "calls someone over", "punch": "punches", "kick": "kicks",
    "slash": "slashes with a sword", "dance-long": "dances", "dance-short": "dances",
    # Bandai Namco dataset 2
    "walk-turn-left": "walks and turns left", "walk-turn-right": "walks and turns right",
    "wave-both-hands": "waves both hands", "wave-left-hand": "waves the left hand",
    "wave-right-hand": "waves the right hand", "raise-up-both-hands": "raises both hands",
    "raise-up-left-hand": "raises the left hand", "raise-up-right-hand": "raises the right hand",
    # CMU dance
    "ballet": "dances ballet", "leap": "leaps", "cartwheel": "does a cartwheel",
    "balance": "balances on one leg", "dance-pose": "holds a dance pose", "salsa": "dances salsa",
}  # fmt: skip
STYLE_PHRASES = {
    "normal": "", "none": "", "happy": "happily", "sad": "sadly", "angry": "angrily", "proud": "proudly",
    "not-confident": "without confidence", "masculinity": "in a masculine way", "masculine": "in a masculine way",
    "feminine": "in a feminine way", "childish": "like a child", "old": "like an old person",
    "elderly": "like an elderly person", "tired": "wearily", "exhausted": "with exhaustion",
    "active": "energetically", "musical": "rhythmically", "giant": "like a giant", "chimpira": "like a thug",
    "youthful": "youthfully",
}  # fmt: skip


def _word(label: str) -> str:
    """Labels may be namespaced by dataset ("bandai-1/walk"); the phrase depends on the word only."""
    return label.rsplit("/", 1)[-1]


def content_phrase(label: str) -> str:
    return CONTENT_PHRASES.get(_word(label), f"performs {_word(label)}")


def style_phrase(label: str) -> str:
    return STYLE_PHRASES.get(_word(label), f"in a {_word(label)} way")


def compose_sentence(content: str | None, style: str | None) -> str:
    verb = content_phrase(content) if content else "moves"
    manner = style_phrase(style) if style else ""
    return f"A person {verb}{' ' + manner if manner else ''}."


@dataclass(frozen=True)
class Description:
    """Top-k bank texts with cosine scores (iterable as ``(text, score)`` pairs) and the composed sentence."""

    matches: list[tuple[str, float]]
    sentence: str
    content: tuple[str, float] | None
    style: tuple[str, float] | None

    def __iter__(self):
        return iter(self.matches)

    def __len__(self) -> int:
        return len(self.matches)

    def __getitem__(self, index):
        return self.matches[index]

    def to_dict(self) -> dict:
        return {
            "sentence": self.sentence,
            "matches": [{"text": t, "score": s} for t, s in self.matches],
            "content": _label_dict(self.content),
            "style": _label_dict(self.style),
        }


def _label_dict(pair: tuple[str, float] | None) -> dict | None:
    return None if pair is None else {"label": pair[0], "score": pair[1]}


def best_label(similarities: np.ndarray, labels: list[str | None]) -> tuple[str, float] | None:
    """The label whose best bank entry is most similar, with that similarity (None if no entry has one)."""
    best: dict[str, float] = {}
    for label, score in zip(labels, similarities.tolist()):
        if label and score > best.get(label, -np.inf):
            best[label] = score
    if not best:
        return None
    label = max(best, key=best.get)
    return label, best[label]


def describe_from_similarities(similarities: np.ndarray, bank: list[dict], top_k: int) -> Description:
    """``similarities``: cosine of the motion with every bank entry (float[N]); ``bank``: its entries."""
    order = np.argsort(-similarities, kind="stable")[:top_k]
    matches = [(bank[i]["text"], float(similarities[i])) for i in order]
    content = best_label(similarities, [entry.get("content") for entry in bank])
    style = best_label(similarities, [entry.get("style") for entry in bank])
    sentence = compose_sentence(content and content[0], style and style[0])
    return Description(matches, sentence, content, style)

"""Sentences from labels: varied natural captions for (content, style, description).

Labels are namespaced per dataset in the corpus (``bandai-1/walk``), but captions use shared words: walking
is walking in every dataset, and ``masculinity`` (dataset-1) and ``masculine`` (dataset-2) read the same.
Each content has several verb phrases (third person and gerund), each style several adjectives and adverbs,
and sentences come from templates, some with the style and some without.

Templates are split: ``TRAIN_TEMPLATES`` are the only ones training sees, ``HELD_OUT_TEMPLATES`` only appear
in validation and test captions, so retrieval from unseen sentence shapes measures text generalisation.
A clip's own description (the CMU database's words, a user's caption) is kept as a caption too.
"""

from __future__ import annotations

import re

import numpy as np

# content word -> (third person, gerund) phrases
CONTENT_PHRASES: dict[str, list[tuple[str, str]]] = {
    "walk": [("walks forward", "walking forward"), ("walks", "walking"), ("strolls ahead", "strolling ahead"),
             ("takes a walk", "taking a walk")],
    "run": [("runs", "running"), ("jogs forward", "jogging forward"), ("runs ahead", "running ahead")],
    "dash": [("sprints", "sprinting"), ("dashes forward", "dashing forward"), ("runs at full speed",
             "running at full speed")],
    "walk-back": [("walks backwards", "walking backwards"), ("steps backwards", "stepping backwards"),
                  ("walks in reverse", "walking in reverse")],
    "walk-left": [("walks to the left", "walking to the left"), ("moves to the left", "moving to the left"),
                  ("walks sideways to the left", "walking sideways to the left")],
    "walk-right": [("walks to the right", "walking to the right"), ("moves to the right", "moving to the right"),
                   ("walks sideways to the right", "walking sideways to the right")],
    "walk-turn-left": [("walks and turns left", "walking and turning left"),
                       ("walks, turning to the left", "walking, turning to the left"),
                       ("makes a left turn while walking", "making a left turn while walking")],
    "walk-turn-right": [("walks and turns right", "walking and turning right"),
                        ("walks, turning to the right", "walking, turning to the right"),
                        ("makes a right turn while walking", "making a right turn while walking")],
    "bow": [("bows", "bowing"), ("takes a bow", "taking a bow"),
            ("bends forward in a bow", "bending forward in a bow")],
    "bye": [("waves goodbye", "waving goodbye"), ("says goodbye with a wave", "saying goodbye with a wave")],
    "byebye": [("waves bye-bye with big gestures", "waving bye-bye with big gestures"),
               ("waves a big goodbye", "waving a big goodbye")],
    "guide": [("gestures to show the way", "gesturing to show the way"),
              ("points the way", "pointing the way"),
              ("guides someone with a gesture", "guiding someone with a gesture")],
    "respond": [("responds with a gesture", "responding with a gesture"), ("answers a call", "answering a call"),
                ("reacts to someone", "reacting to someone")],
    "call": [("calls someone over", "calling someone over"), ("beckons someone", "beckoning someone"),
             ("calls out to someone", "calling out to someone")],
    "punch": [("punches", "punching"), ("throws a punch", "throwing a punch"), ("strikes with a fist",
              "striking with a fist")],
    "kick": [("kicks", "kicking"), ("throws a kick", "throwing a kick"),
             ("kicks with one leg", "kicking with one leg")],
    "slash": [("slashes with a sword", "slashing with a sword"), ("swings a blade", "swinging a blade"),
              ("makes a sword slash", "making a sword slash")],
    "dance-long": [("dances", "dancing"), ("performs a dance", "performing a dance"),
                   ("dances a long routine", "dancing a long routine")],
    "dance-short": [("dances", "dancing"), ("performs a short dance", "performing a short dance"),
                    ("does a dance routine", "doing a dance routine")],
    "wave-both-hands": [("waves both hands", "waving both hands"), ("waves with both arms", "waving with both arms")],
    "wave-left-hand": [("waves the left hand", "waving the left hand"), ("waves with the left arm",
                       "waving with the left arm")],
    "wave-right-hand": [("waves the right hand", "waving the right hand"), ("waves with the right arm",
                        "waving with the right arm")],
    "raise-up-both-hands": [("raises both hands", "raising both hands"), ("lifts both arms up", "lifting both arms up"),
                            ("puts both hands up", "putting both hands up")],
    "raise-up-left-hand": [("raises the left hand", "raising the left hand"), ("lifts the left arm up",
                           "lifting the left arm up"), ("puts the left hand up", "putting the left hand up")],
    "raise-up-right-hand": [("raises the right hand", "raising the right hand"), ("lifts the right arm up",
                            "lifting the right arm up"), ("puts the right hand up", "putting the right hand up")],
    "ballet": [("dances ballet", "dancing ballet"), ("performs ballet steps", "performing ballet steps"),
               ("does a ballet routine", "doing a ballet routine")],
    "leap": [("runs and leaps", "running and leaping"), ("takes a running leap", "taking a running leap"),
             ("leaps through the air", "leaping through the air")],
    "cartwheel": [("does a cartwheel", "doing a cartwheel"), ("turns a cartwheel", "turning a cartwheel"),
                  ("cartwheels", "cartwheeling")],
    "balance": [("balances on one leg", "balancing on one leg"), ("stands on one leg with arms outstretched",
                "standing on one leg with arms outstretched")],
    "dance-pose": [("holds a dance pose", "holding a dance pose"), ("strikes a still dance pose",
                   "striking a still dance pose"), ("stays folded in a dance pose", "staying folded in a dance pose")],
    "salsa": [("dances salsa", "dancing salsa"), ("does salsa steps", "doing salsa steps"),
              ("moves to a salsa rhythm", "moving to a salsa rhythm")],
    "dance": [("dances", "dancing"), ("performs a dance", "performing a dance")],
}  # fmt: skip

# style word -> (adjectives, adverbial phrases); "none" (no annotation) has no words
STYLE_WORDS: dict[str, tuple[list[str], list[str]]] = {
    "normal": (["ordinary", "calm"], ["normally", "in an ordinary way", "in a neutral manner"]),
    "happy": (["happy", "cheerful", "joyful"], ["happily", "cheerfully", "in a good mood"]),
    "sad": (["sad", "unhappy", "gloomy"], ["sadly", "with a heavy heart", "in a gloomy way"]),
    "angry": (["angry", "furious", "irritated"], ["angrily", "furiously", "in a rage"]),
    "proud": (["proud", "self-assured", "haughty"], ["proudly", "with pride", "with the chest held high"]),
    "not-confident": (["timid", "insecure", "unsure"], ["timidly", "hesitantly", "without confidence"]),
    "masculine": (["masculine", "manly", "macho"], ["in a masculine way", "in a manly way", "with a macho swagger"]),
    "feminine": (["feminine", "graceful", "ladylike"], ["in a feminine way", "gracefully", "in a ladylike manner"]),
    "childish": (["childish", "childlike", "playful"], ["like a child", "in a childish way", "playfully"]),
    "old": (["old", "elderly", "aged"], ["like an old person", "like an elderly person", "stiffly with age"]),
    "tired": (["tired", "exhausted", "weary"], ["wearily", "tiredly", "as if exhausted"]),
    "active": (["energetic", "lively", "active"], ["energetically", "with lots of energy", "in a lively way"]),
    "musical": (["theatrical", "musical", "showy"], ["like in a musical", "theatrically", "with musical flair"]),
    "giant": (["giant", "huge", "lumbering"], ["like a giant", "with heavy giant steps", "in a lumbering way"]),
    "thug": (["thuggish", "delinquent", "swaggering"], ["like a thug", "like a street punk",
             "with a delinquent's swagger"]),
    "youthful": (["youthful", "young", "sprightly"], ["youthfully", "like a young person", "with youthful energy"]),
    "none": ([], []),
}  # fmt: skip

# Dataset label -> shared caption word, where the datasets spell the same idea differently.
STYLE_SYNONYMS = {"masculinity": "masculine", "elderly": "old", "exhausted": "tired", "chimpira": "thug"}

# Fields: {a_adj} "a happy"/"an angry", {adj}, {adv}, {present}, {gerund}.
TRAIN_TEMPLATES = {
    "styled": [
        "{a_adj} person {present}",
        "a person {present} {adv}",
        "someone {present} {adv}",
        "{adv}, someone {present}",
        "the {adj} character {present}",
        "{gerund} {adv}",
        "{a_adj} figure {gerund}",
    ],
    "plain": ["a person {present}", "someone {present}", "{gerund}", "the character {present}"],
}
HELD_OUT_TEMPLATES = {
    "styled": [
        "this motion shows someone {gerund} {adv}",
        "in this clip, {a_adj} individual {present}",
        "here, an actor {present} {adv}",
    ],
    "plain": ["this motion shows someone {gerund}", "in this clip, somebody {present}"],
}

STYLE_PROBABILITY = 0.7  # how often a styled template is chosen when the style has words
DESCRIPTION_PROBABILITY = 0.3  # how often a clip's own description is the caption when it has one


def style_word(style: str) -> str:
    return STYLE_SYNONYMS.get(style, style)


def _words(label: str) -> str:
    return label.replace("-", " ").replace("_", " ")


def content_phrases(content: str) -> list[tuple[str, str]]:
    """(third person, gerund) phrases; an unknown label reads as "does <label words>"."""
    if content in CONTENT_PHRASES:
        return CONTENT_PHRASES[content]
    return [(f"does {_words(content)}", f"doing {_words(content)}")]


def style_phrases(style: str) -> tuple[list[str], list[str]]:
    """(adjectives, adverbs) of a style; an unknown label is used as it is ("in a <label> way")."""
    word = style_word(style)
    if word in STYLE_WORDS:
        return STYLE_WORDS[word]
    return [_words(word)], [f"in a {_words(word)} way"]


def _article(word: str) -> str:
    return ("an " if word[:1].lower() in "aeiou" else "a ") + word


def templates(split: str) -> dict[str, list[str]]:
    """Training templates for ``"train"``, the held-out ones for every other split."""
    return TRAIN_TEMPLATES if split == "train" else HELD_OUT_TEMPLATES


def caption(content: str, style: str, description: str, split: str, rng: np.random.Generator) -> str:
    """One sentence for the labels; ``content`` "" means only the description (one sentence per line,
    one of them chosen) is known."""
    sentences = [line.strip() for line in description.splitlines() if line.strip()]
    if sentences and (not content or rng.random() < DESCRIPTION_PROBABILITY):
        return sentences[rng.integers(len(sentences))]
    if not content:
        raise ValueError("a caption needs a content label or a description")
    present, gerund = content_phrases(content)[rng.integers(len(content_phrases(content)))]
    adjectives, adverbs = style_phrases(style)
    styled = bool(adjectives) and rng.random() < STYLE_PROBABILITY
    choices = templates(split)["styled" if styled else "plain"]
    template = choices[rng.integers(len(choices))]
    adj = adjectives[rng.integers(len(adjectives))] if styled else ""
    adv = adverbs[rng.integers(len(adverbs))] if styled else ""
    sentence = template.format(a_adj=_article(adj), adj=adj, adv=adv, present=present, gerund=gerund)
    return sentence[0].upper() + sentence[1:]


def captions_for(clip, split: str, rng: np.random.Generator, count: int = 1) -> list[str]:
    """``count`` sentences for anything with ``content``, ``style`` and ``description`` (a Clip, a Window)."""
    return [caption(clip.content, clip.style, clip.description, split, rng) for _ in range(count)]


def canonical_caption(content: str, style: str) -> str:
    """The plainest sentence for the labels (first phrase, first words), e.g. for a description bank."""
    present = content_phrases(content)[0][0]
    adjectives, _ = style_phrases(style)
    if adjectives and style_word(style) != "normal":
        return f"{_article(adjectives[0]).capitalize()} person {present}"
    return f"A person {present}"


_SIDES = {"left": "right", "right": "left", "Left": "Right", "Right": "Left"}


def mirror_text(text: str) -> str:
    """Swap the words left and right (in labels such as ``walk-turn-left`` and in sentences)."""
    return re.sub(r"\b(left|right|Left|Right)\b", lambda m: _SIDES[m.group(1)], text)

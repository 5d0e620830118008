"""Prompts to the shared space: ``tokenizers`` tokenization and the text encoder's ONNX session.

What happens to unusual prompts (the engine's documented behaviour):

* not a string, empty or only whitespace: refused (``EngineInputError``);
* longer than the text encoder's token limit (``manifest["text"]["max_tokens"]``, the limit training used):
  cut to the limit, and a note says so;
* words outside MiniLM's English vocabulary: non-English text is encoded as word pieces like any text (the
  model was trained on English, so expect weaker matches); a prompt with no known token at all (only emoji,
  say) is refused, and one whose word pieces are mostly unknown gets a note.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from tokenizers import Tokenizer

from .errors import EngineInputError

UNKNOWN_TOKEN = "[UNK]"
PAD_TOKEN = "[PAD]"


@dataclass
class Tokens:
    input_ids: np.ndarray  # int64 [N, L], padded to the longest prompt
    attention_mask: np.ndarray  # int64 [N, L]
    notes: list[str] = field(default_factory=list)


@dataclass
class TextEncoding:
    shared: np.ndarray  # float32 [N, Ds], L2-normalised
    latent: np.ndarray  # float32 [N, Z]
    notes: list[str] = field(default_factory=list)


def check_prompts(texts) -> list[str]:
    if isinstance(texts, str) or not isinstance(texts, (list, tuple)):
        raise EngineInputError(f"prompts must be a list of strings, got {type(texts).__name__}")
    if not texts:
        raise EngineInputError("no prompt given")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise EngineInputError(f"prompt {i + 1} is a {type(text).__name__}, not text")
        if not text.strip():
            raise EngineInputError(f"prompt {i + 1} is empty: describe a movement, e.g. 'a person walks happily'")
    return [text.strip() for text in texts]


class TextTokenizer:
    def __init__(self, tokenizer_path, max_tokens: int):
        self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self.max_tokens = int(max_tokens)
        self.tokenizer.enable_truncation(self.max_tokens)
        pad_id = self.tokenizer.token_to_id(PAD_TOKEN)
        self.tokenizer.enable_padding(pad_id=pad_id, pad_token=PAD_TOKEN)
        self.special_ids = {self.tokenizer.token_to_id(t) for t in ("[CLS]", "[SEP]", PAD_TOKEN)}
        self.unknown_id = self.tokenizer.token_to_id(UNKNOWN_TOKEN)

    def __call__(self, texts) -> Tokens:
        texts = check_prompts(texts)
        encodings = self.tokenizer.encode_batch(texts)
        notes = []
        for i, (text, encoding) in enumerate(zip(texts, encodings)):
            words = [t for t, m in zip(encoding.ids, encoding.attention_mask) if m and t not in self.special_ids]
            unknown = sum(t == self.unknown_id for t in words)
            if not words or unknown == len(words):
                raise EngineInputError(
                    f"prompt {i + 1} ({_quote(text)}) has no word the text encoder knows; write it in English words"
                )
            if unknown * 2 > len(words):
                notes.append(
                    f"prompt {i + 1}: {unknown} of {len(words)} word pieces are unknown to the English text "
                    "encoder; the result may not follow the prompt"
                )
            if encoding.overflowing:
                kept = self.tokenizer.decode([t for t in encoding.ids if t not in self.special_ids])
                notes.append(
                    f"prompt {i + 1} is longer than the text encoder's limit of {self.max_tokens} tokens; "
                    f"only its start is used: {_quote(kept)}"
                )
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        return Tokens(ids, mask, notes)


def _quote(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


class TextEncoder:
    """Tokenizer + text encoder session: prompts to (text_shared, text_latent)."""

    def __init__(self, tokenizer: TextTokenizer, session):
        self.tokenizer = tokenizer
        self.session = session

    def __call__(self, texts) -> TextEncoding:
        tokens = self.tokenizer(texts)
        shared, latent = self.session.run(
            ["text_shared", "text_latent"],
            {"input_ids": tokens.input_ids, "attention_mask": tokens.attention_mask},
        )
        return TextEncoding(shared.astype(np.float32), latent.astype(np.float32), tokens.notes)

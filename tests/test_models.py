"""The torch modules behind the ONNX contract: shapes, normalisation, frozen MiniLM, traceability."""

import pytest
import torch

from training.config import load_config
from training.models import TextEncoder, build_models, time_grid
from training.text import SentenceEncoder, load_backbone, load_tokenizer

FEATURES = 70


@pytest.fixture(scope="module")
def models():
    return build_models(load_config("tiny"), FEATURES).eval()


@pytest.fixture(scope="module")
def text_encoder(models):
    return TextEncoder(load_backbone(), models.text_heads).eval()


def test_motion_encoder_gives_unit_shared_vectors_and_latent_means(models):
    cfg = load_config("tiny")["model"]
    shared, mu = models.motion_encoder(torch.randn(3, 50, FEATURES))
    assert shared.shape == (3, cfg["shared_dim"]) and mu.shape == (3, cfg["latent_dim"])
    assert torch.allclose(shared.norm(dim=-1), torch.ones(3), atol=1e-5)
    # Any length works (the LSTM and the attention pool do not depend on T).
    shared_long, _ = models.motion_encoder(torch.randn(2, 137, FEATURES))
    assert shared_long.shape == (2, cfg["shared_dim"])


def test_decoder_length_follows_the_time_input(models):
    cfg = load_config("tiny")["model"]
    z, cond = torch.randn(2, cfg["latent_dim"]), torch.randn(2, cfg["shared_dim"])
    for frames in (1, 30, 121):
        assert models.decoder(z, cond, time_grid(2, frames)).shape == (2, frames, FEATURES)
    assert time_grid(1, 5)[0, :, 0].tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_decoder_depends_on_latent_and_condition(models):
    cfg = load_config("tiny")["model"]
    z, cond, t = torch.randn(1, cfg["latent_dim"]), torch.randn(1, cfg["shared_dim"]), time_grid(1, 20)
    base = models.decoder(z, cond, t)
    assert not torch.allclose(base, models.decoder(z + 1.0, cond, t))
    assert not torch.allclose(base, models.decoder(z, -cond, t))


def test_traced_decoder_and_encoder_generalise_to_other_shapes(models):
    """Tracing records no Python branches on data: a trace at one (B, T) is right at another."""
    cfg = load_config("tiny")["model"]
    z, cond = torch.randn(2, cfg["latent_dim"]), torch.randn(2, cfg["shared_dim"])
    traced = torch.jit.trace(models.decoder, (z, cond, time_grid(2, 50)))
    z3, c3, t3 = torch.randn(3, cfg["latent_dim"]), torch.randn(3, cfg["shared_dim"]), time_grid(3, 83)
    assert torch.allclose(traced(z3, c3, t3), models.decoder(z3, c3, t3), atol=1e-5)
    encoder = torch.jit.trace(models.motion_encoder, (torch.randn(2, 50, FEATURES),))
    x = torch.randn(4, 71, FEATURES)
    for got, want in zip(encoder(x), models.motion_encoder(x)):
        assert torch.allclose(got, want, atol=1e-5)


def test_text_encoder_matches_cached_sentence_embeddings_through_the_heads(models, text_encoder):
    """Training feeds the heads cached MiniLM embeddings; the exported module must compute the same."""
    texts = ["A person walks happily", "Someone waves the left hand while walking in a circle slowly"]
    tokens = load_tokenizer()(texts, padding=True, return_tensors="pt")
    shared, latent = text_encoder(tokens["input_ids"], tokens["attention_mask"])
    cached = torch.from_numpy(SentenceEncoder().encode(texts))
    want_shared, want_latent = models.text_heads(cached)
    assert torch.allclose(shared, want_shared, atol=1e-4) and torch.allclose(latent, want_latent, atol=1e-4)
    assert torch.allclose(shared.norm(dim=-1), torch.ones(2), atol=1e-5)
    # Padding does not change a sentence's embedding.
    alone = load_tokenizer()(texts[:1], return_tensors="pt")
    assert torch.allclose(text_encoder(alone["input_ids"], alone["attention_mask"])[0], shared[:1], atol=1e-4)


def test_minilm_is_frozen_and_outside_the_trained_state(models, text_encoder):
    assert not any(p.requires_grad for p in text_encoder.backbone.parameters())
    assert not any(k.startswith("backbone") for k in models.state_dict())
    sentences = SentenceEncoder().encode(["a person bows", "a person bows", "a person kicks"])
    assert sentences.shape == (3, 384)
    assert (sentences[0] == sentences[1]).all() and not (sentences[0] == sentences[2]).all()


def test_build_models_is_seeded():
    config = load_config("tiny")
    a, b = build_models(config, FEATURES), build_models(config, FEATURES)
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(x, y), name
    c = build_models(load_config("tiny", ["seed=1"]), FEATURES)
    assert not torch.equal(c.decoder.output.weight, a.decoder.output.weight)


def test_summary_statistics_handle_any_length():
    x = torch.arange(12.0).view(1, 4, 3)
    summary = build_models(load_config("tiny"), 3).motion_encoder.summary(x)
    assert summary.shape == (1, 9)
    assert summary[0, :3].tolist() == [4.5, 5.5, 6.5]  # mean over time
    assert summary[0, 6:].tolist() == [3.0, 3.0, 3.0]  # mean absolute change per frame
    one = build_models(load_config("tiny"), 3).motion_encoder.summary(x[:, :1])
    assert torch.isfinite(one).all() and one[0, 6:].tolist() == [0.0, 0.0, 0.0]

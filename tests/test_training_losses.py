"""The losses and schedules of the training stages, on small tensors with known answers."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from training.config import load_config
from training.stages.align import hardest_triplet, infonce, same_meaning
from training.stages.data import balanced_indices
from training.stages.text import latent_loss
from training.stages.vae import beta_at, kl_divergence, reconstruction_terms


def test_beta_is_annealed_over_the_first_forty_percent_then_held():
    cfg = load_config()["vae"] | {"epochs": 10}
    betas = [beta_at(e, cfg) for e in range(10)]
    assert betas[0] == pytest.approx(0.01)
    assert betas[4] == pytest.approx(0.2) and betas[9] == pytest.approx(0.2)
    assert all(a < b for a, b in zip(betas[:4], betas[1:5]))


def test_reconstruction_weights_and_velocity_term():
    cfg = {"weight_mse": 0.7, "weight_l1": 0.3, "weight_velocity": 0.5}
    target = torch.zeros(1, 4, 2)
    shifted = target + 1.0  # constant offset: no velocity error
    terms = reconstruction_terms(shifted, target, cfg)
    assert terms["velocity"] == 0 and terms["reconstruction"] == pytest.approx(0.7 + 0.3)
    ramp = torch.arange(4.0).view(1, 4, 1).expand(1, 4, 2)
    # Velocity error relative to the target's own change: a still pose scores 1 whatever the speed.
    assert reconstruction_terms(target, ramp, cfg)["velocity"] == pytest.approx(1.0)
    assert reconstruction_terms(target, 3 * ramp, cfg)["velocity"] == pytest.approx(1.0)
    assert reconstruction_terms(2 * ramp, ramp, cfg)["velocity"] == pytest.approx(1.0)
    assert reconstruction_terms(ramp + 5.0, ramp, cfg)["velocity"] == 0


def test_kl_is_zero_for_the_prior_and_positive_elsewhere():
    zeros = torch.zeros(2, 8)
    assert kl_divergence(zeros, zeros, values=10) == 0
    # 0.5 nats per latent dimension, 8 dimensions, spread over a window of 10 values.
    assert kl_divergence(torch.ones(2, 8), zeros, values=10) == pytest.approx(0.4)


def test_same_meaning_negatives_do_not_count():
    """With item 1 meaning the same as item 0, the loss equals the loss of a batch without that negative."""
    torch.manual_seed(0)
    motion, text = F.normalize(torch.randn(3, 8), dim=-1), F.normalize(torch.randn(3, 8), dim=-1)
    sentences = F.normalize(torch.randn(3, 4), dim=-1) * 0.1
    same = same_meaning(np.array(["walk|happy", "walk|happy", "run|sad"], dtype=object), sentences, 0.9)
    assert same.tolist() == [[True, True, False], [True, True, False], [False, False, True]]
    scale = torch.tensor(10.0)
    masked = infonce(motion, text, scale, same)
    logits = scale * motion @ text.T
    rows = [F.cross_entropy(logits[i, [j for j in range(3) if j == i or not same[i, j]]].unsqueeze(0),
                            torch.tensor([[j for j in range(3) if j == i or not same[i, j]].index(i)]))
            for i in range(3)]  # fmt: skip
    cols = [F.cross_entropy(logits[[j for j in range(3) if j == i or not same[j, i]], i].unsqueeze(0),
                            torch.tensor([[j for j in range(3) if j == i or not same[j, i]].index(i)]))
            for i in range(3)]  # fmt: skip
    assert masked == pytest.approx(float(0.5 * (sum(rows) / 3 + sum(cols) / 3)), rel=1e-5)
    assert masked != pytest.approx(float(infonce(motion, text, scale, torch.eye(3, dtype=torch.bool))))


def test_similar_sentences_mean_the_same_without_labels():
    sentences = F.normalize(torch.tensor([[1.0, 0.0], [0.99, 0.05], [0.0, 1.0]]), dim=-1)
    same = same_meaning(np.array(["", "", ""], dtype=object), sentences, 0.9)
    assert same[0, 1] and not same[0, 2]


def test_hardest_triplet_uses_other_clusters_only():
    motion = F.normalize(torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.7, 0.7]]), dim=-1)
    text = motion.clone()
    no_same = torch.zeros(3, 3, dtype=torch.bool)
    # Items 0 and 2 share a cluster: 2 (the most similar) is not a negative of 0, so 0 only sees 1.
    loss_clustered = hardest_triplet(motion, text, torch.tensor([0, 1, 0]), no_same, margin=0.5)
    loss_flat = hardest_triplet(motion, text, torch.tensor([0, 1, 2]), no_same, margin=0.5)
    assert loss_clustered < loss_flat
    far = hardest_triplet(torch.eye(2), torch.eye(2), torch.tensor([0, 1]), torch.zeros(2, 2, dtype=torch.bool), 0.2)
    assert far == 0


def test_latent_loss_mixes_cosine_and_mse():
    target = torch.tensor([[1.0, 0.0]])
    assert latent_loss(target.clone(), target, 0.5)["loss"] == pytest.approx(0.0, abs=1e-6)
    opposite = latent_loss(-target, target, 1.0)["loss"]
    assert opposite == pytest.approx(2.0)
    assert latent_loss(2 * target, target, 0.0)["loss"] == pytest.approx(0.5)


def test_balanced_sampling_follows_dataset_shares():
    datasets = np.array(["big"] * 1000 + ["small"] * 20 + ["user"] * 5)
    shares = {"big": 0.5, "small": 0.5, "other": 0.0}
    order = balanced_indices(datasets, shares, 4000, np.random.default_rng(0))
    counts = {d: int((datasets[order] == d).sum()) for d in ("big", "small", "user")}
    assert abs(counts["big"] - 2000) < 150 and abs(counts["small"] - 2000) < 150 and counts["user"] == 0
    # A dataset without a share of its own takes "other".
    order = balanced_indices(datasets, {"big": 1.0, "other": 1.0}, 3000, np.random.default_rng(0))
    assert math.isclose((datasets[order] == "user").mean(), 1 / 3, abs_tol=0.05)

"""Training configuration: one set of defaults, overrides by file and by --set, unknown keys refused."""

import tomllib

import pytest

from training.config import ConfigError, dump_config, load_config, parse_override


def test_tiny_overrides_only_what_it_names():
    default, tiny = load_config(), load_config("tiny")
    assert tiny["vae"]["epochs"] < default["vae"]["epochs"]
    assert tiny["vae"]["lr_max"] == default["vae"]["lr_max"] == 5e-4
    assert tiny["model"]["latent_dim"] == default["model"]["latent_dim"] == 256
    assert set(tiny) == set(default)


def test_seed_hyper_parameters_are_in_the_default_config():
    vae = load_config()["vae"]
    assert (vae["weight_mse"], vae["weight_l1"], vae["weight_velocity"]) == (0.7, 0.3, 0.5)
    assert (vae["beta_start"], vae["beta_end"], vae["beta_anneal_fraction"]) == (0.01, 0.2, 0.4)
    assert vae["grad_clip"] == 1.0


def test_overrides_parse_toml_values():
    assert parse_override("vae.epochs=3") == {"vae": {"epochs": 3}}
    assert parse_override("align.loss=triplet") == {"align": {"loss": "triplet"}}
    assert parse_override("data.split=[0.8, 0.1, 0.1]") == {"data": {"split": [0.8, 0.1, 0.1]}}
    config = load_config("tiny", ["vae.epochs=7", "seed=3"])
    assert config["vae"]["epochs"] == 7 and config["seed"] == 3


def test_unknown_settings_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="vae.epoch"):
        load_config(None, ["vae.epoch=3"])
    bad = tmp_path / "bad.toml"
    bad.write_text("[model]\nlatent = 3\n")
    with pytest.raises(ConfigError, match="model.latent"):
        load_config(bad)
    with pytest.raises(ConfigError, match="no config file"):
        load_config(tmp_path / "missing.toml")


def test_dumped_config_reads_back_identically(tmp_path):
    config = load_config("tiny", ["data.dataset_shares.other=0.25"])
    path = tmp_path / "config.toml"
    path.write_text(dump_config(config))
    assert tomllib.loads(path.read_text()) == config
    assert load_config(path) == config

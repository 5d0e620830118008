"""Run configuration: ``configs/default.toml`` holds every setting and its default; other files override it.

A config file names only what it changes (``tiny.toml`` shrinks the data and the epochs). Command lines may
override single values with ``--set vae.epochs=3``. Unknown keys are refused, so a typo cannot silently
fall back to a default. The merged result is a plain dict, written into the run folder as ``config.toml``.
"""

from __future__ import annotations

import copy
import json
import tomllib
from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parent / "configs"
DEFAULT_CONFIG = CONFIG_DIR / "default.toml"


class ConfigError(ValueError):
    """A config file or override that does not fit ``default.toml``."""


def _merge(base: dict, override: dict, where: str) -> dict:
    out = copy.deepcopy(base)
    for key, value in override.items():
        path = f"{where}.{key}" if where else key
        if key not in base:
            raise ConfigError(f"unknown setting '{path}' (not in {DEFAULT_CONFIG.name})")
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise ConfigError(f"'{path}' must be a table")
            out[key] = _merge(base[key], value, path)
        else:
            out[key] = value
    return out


def parse_override(text: str) -> dict:
    """'vae.epochs=3' -> {'vae': {'epochs': 3}} (the value is TOML; bare words are taken as strings)."""
    if "=" not in text:
        raise ConfigError(f"override '{text}' must look like section.key=value")
    dotted, raw = (part.strip() for part in text.split("=", 1))
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    out: dict = {}
    node = out
    keys = dotted.split(".")
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    node[keys[-1]] = value
    return out


def load_config(path: str | Path | None = None, overrides: list[str] = ()) -> dict:
    """The default config merged with ``path`` (a TOML file, or a name in ``training/configs/``) and overrides."""
    config = tomllib.loads(DEFAULT_CONFIG.read_text())
    if path is not None:
        file = Path(path)
        if not file.exists() and (CONFIG_DIR / f"{path}.toml").exists():
            file = CONFIG_DIR / f"{path}.toml"
        if not file.exists():
            raise ConfigError(f"no config file {path} (and no {CONFIG_DIR / f'{path}.toml'})")
        try:
            config = _merge(config, tomllib.loads(file.read_text()), "")
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{file}: {error}") from None
    for text in overrides:
        config = _merge(config, parse_override(text), "")
    return config


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise ConfigError(f"cannot write {type(value).__name__} to TOML")


def dump_config(config: dict) -> str:
    """TOML text of a config dict (scalars first, then one table per section, nested tables dotted)."""

    def section(table: dict, prefix: str) -> list[str]:
        lines = [f"{k} = {_toml_value(v)}" for k, v in table.items() if not isinstance(v, dict)]
        out = ([f"[{prefix}]"] if prefix else []) + lines
        for k, v in table.items():
            if isinstance(v, dict):
                out += [""] + section(v, f"{prefix}.{k}" if prefix else k)
        return out

    return "\n".join(section(config, "")) + "\n"


def add_config_arguments(parser) -> None:
    """The options every training command shares: which config, which run folder, single overrides."""
    parser.add_argument("--config", default=None, help="TOML file or name in training/configs/ (default: default)")
    parser.add_argument("--run-dir", default=None, help="run folder (default: the config's run_dir)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override one setting")


def config_from_args(args) -> tuple[dict, Path]:
    """(config, run folder): an existing run folder named without --config keeps its own config."""
    if args.config is None and args.run_dir and (Path(args.run_dir) / "config.toml").exists():
        return load_config(Path(args.run_dir) / "config.toml", args.set), Path(args.run_dir)
    config = load_config(args.config, args.set)
    return config, Path(args.run_dir or config["run_dir"])

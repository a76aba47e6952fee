"""Pulumi.yaml and Pulumi.<stack>.yaml -> the flat config map the SDK runtime reads.

The CLI hands a program its config as strings keyed `namespace:key`: plain values as
their text (YAML `7` -> "7", `true` -> "true") and structured values (objects, lists) as
JSON text, which `Config.get_object` parses back. This module produces the same map.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from devstack.applier.errors import ConfigError


def project_name(program_dir: Path) -> str:
    project = _load_yaml(program_dir / "Pulumi.yaml", required=True)
    name = project.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{program_dir / 'Pulumi.yaml'}: no project `name`")
    return name


def stack_config(program_dir: Path, stack: str) -> dict[str, str]:
    """Project defaults (Pulumi.yaml `config:`) overlaid with Pulumi.<stack>.yaml `config:`."""
    project = project_name(program_dir)
    merged: dict[str, str] = {}
    defaults = _load_yaml(program_dir / "Pulumi.yaml", required=True).get("config") or {}
    for key, spec in _mapping(defaults, "Pulumi.yaml config").items():
        # Project-level config declares a key, optionally with a default; only defaults
        # give the program a value.
        value = spec.get("default") if isinstance(spec, Mapping) else spec
        if value is not None:
            merged[qualify(str(key), project)] = encode(value, str(key))
    stack_file = program_dir / f"Pulumi.{stack}.yaml"
    stack_values = _load_yaml(stack_file, required=True).get("config") or {}
    for key, value in _mapping(stack_values, f"{stack_file.name} config").items():
        merged[qualify(str(key), project)] = encode(value, str(key))
    return merged


def with_overrides(
    config: Mapping[str, str], overrides: Mapping[str, Any], project: str
) -> dict[str, str]:
    result = dict(config)
    for key, value in overrides.items():
        result[qualify(key, project)] = encode(value, key)
    return result


def qualify(key: str, project: str) -> str:
    """`oidcIssuer` -> `pets:oidcIssuer`; keys with a namespace (`aws:region`) stay."""
    return key if ":" in key else f"{project}:{key}"


def encode(value: Any, key: str) -> str:
    if isinstance(value, Mapping) and "secure" in value:
        raise ConfigError(
            f"config {key} is a secret (`secure:`): the local apply cannot decrypt it; "
            "give it a plain value in the local stack or as an override"
        )
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (Mapping, list)):
        return json.dumps(value)
    raise ConfigError(f"config {key}: unsupported value {value!r}")


def _load_yaml(path: Path, *, required: bool) -> dict[str, Any]:
    if not path.is_file():
        if required:
            raise ConfigError(f"{path} not found")
        return {}
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    return _mapping(data, str(path))


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: expected a mapping, got {type(value).__name__}")
    return dict(value)

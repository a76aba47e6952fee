"""A `Pulumi.<stack>.yaml` read as the Pulumi CLI hands its config to the program.

For what reads a stack's settings without the CLI: ACCESS.md's generator
(policy/access_doc.py) and the local harness (the apply, the offline IAM engine, the
prover, the tests). The program itself gets its config from the engine
(components/config.py engine_config).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from components.config import NAMESPACE
from components.settings_table import ConfigError


def stack_file_config(path: Path, namespace: str = NAMESPACE) -> dict[str, str]:
    """A `Pulumi.<stack>.yaml`'s `config:` as the flat string map the SDK runtime reads.

    Structured values (userClasses, throttle) become JSON text, as the Pulumi CLI passes
    them; keys without a namespace are the project's (`namespace`: `pets`, or the account
    baseline's `pets-account`). Pulumi.yaml declares no config defaults, so the stack file
    is the whole config. A `secure:` value is refused: only the Pulumi CLI can decrypt it,
    and read as JSON it would be a wrong setting.
    """
    import yaml

    raw = yaml.safe_load(path.read_text()) or {}
    return {
        key if ":" in key else f"{namespace}:{key}": config_text(key, value)
        for key, value in (raw.get("config") or {}).items()
    }


def config_text(key: str, value: Any) -> str:
    """One config value as the CLI hands it to a program: plain values as their text
    (`7` -> "7", `true` -> "true"), objects and lists as JSON."""
    if isinstance(value, Mapping) and "secure" in value:
        raise ConfigError(
            f"{key} is a secret (`secure:`), which only the Pulumi CLI can decrypt: give it a "
            "plain value in the stack file, or pass it as an override (--config key=value)"
        )
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value)


def stack_names(root: Path) -> list[str]:
    """The stacks with a `Pulumi.<stack>.yaml` in the project folder, sorted."""
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in root.glob("Pulumi.*.yaml"))

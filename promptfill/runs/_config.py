"""Normalise a run's configuration to JSON and compare it with the configuration of a resume."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import ConfigError

# Keys that may change between a run and its resume: where it runs and how much it prints.
RESUMABLE_KEYS = ("device", "top")

# Config keys whose values are secrets; a run directory stores environment variable names instead.
SECRET_KEYS = ("api_key", "password", "secret")


def normalize_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``config`` as plain JSON data: paths become strings, pydantic models become dicts.

    Raises:
        ConfigError: ``config`` is not a mapping, contains a value JSON cannot represent, or contains
            a secret under a key such as ``api_key``.
    """
    if not isinstance(config, Mapping):
        raise ConfigError(f"config={config!r} is invalid; pass a dict of the run's settings")
    try:
        normalized = json.loads(json.dumps(dict(config), default=_json_default))
    except (TypeError, ValueError) as error:
        raise ConfigError(f"config cannot be written as JSON ({error}); pass strings, numbers, lists and dicts") from None
    _reject_secrets(normalized, "config")
    return normalized


def config_differences(recorded: Mapping[str, Any], current: Mapping[str, Any], ignore: Iterable[str] = RESUMABLE_KEYS) -> list[str]:
    """Return one line per setting that differs, as ``key.path: recorded -> current``.

    Nested mappings are compared key by key, so a changed sampler setting is named as
    ``sampler.temperature``. Top-level keys in ``ignore`` are not compared.
    """
    ignored = set(ignore)
    recorded = {key: value for key, value in recorded.items() if key not in ignored}
    current = {key: value for key, value in current.items() if key not in ignored}
    return _differences(recorded, current, "")


def _differences(recorded: Any, current: Any, prefix: str) -> list[str]:
    if isinstance(recorded, Mapping) and isinstance(current, Mapping):
        lines = []
        for key in sorted(set(recorded) | set(current), key=str):
            path = f"{prefix}.{key}" if prefix else str(key)
            if key not in recorded:
                lines.append(f"{path}: not set in the run -> {_short(current[key])}")
            elif key not in current:
                lines.append(f"{path}: {_short(recorded[key])} -> not set now")
            else:
                lines.extend(_differences(recorded[key], current[key], path))
        return lines
    if recorded != current:
        return [f"{prefix}: {_short(recorded)} -> {_short(current)}"]
    return []


def _json_default(value: Any) -> Any:
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} value {_short(value)} is not JSON serializable")


def _reject_secrets(value: Any, path: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if str(key).lower() in SECRET_KEYS and isinstance(item, str) and item:
                raise ConfigError(
                    f"{path}.{key} contains a secret, which a run directory must not store; pass the name "
                    "of an environment variable that contains it instead (for example api_key_env)"
                )
            _reject_secrets(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _reject_secrets(item, f"{path}[{index}]")


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."

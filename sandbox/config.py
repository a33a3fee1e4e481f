"""Every behaviour switch of the sandbox, and how to read them from CLI/env.

Each switch resolves one point the public contract leaves open ([unknown] or
[inferred]); the ``contract`` text in a field's metadata names that point and is
reproduced in README.md.  Precedence: command-line flag > environment variable
``QONVERSION_SANDBOX_<NAME>`` > the default below.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sandbox.clock import Clock, system_clock

ENV_PREFIX = "QONVERSION_SANDBOX_"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765

MismatchPolicy = Literal["conflict", "replay"]


def _doc(help_text: str, contract: str) -> dict[str, str]:
    """Field metadata: CLI help, and the contract point the switch resolves."""
    return {"help": help_text, "contract": contract}


@dataclass(frozen=True)
class SandboxConfig:
    """Immutable settings for one sandbox instance (use dataclasses.replace)."""

    seed: int | None = field(
        default=None,
        metadata=_doc(
            "Seed for the id RNG and the delivery RNG; unset = random each start/reset.",
            "Determinism for tests (sandbox-only).",
        ),
    )
    delivery_interval: float = field(
        default=0.0,
        metadata=_doc(
            "Seconds between background delivery rounds; 0 disables the worker.",
            "§5 state 2 is set only by Qonversion's delivery worker.",
        ),
    )
    failure_rate: float = field(
        default=0.2,
        metadata=_doc(
            "Probability (0..1) that one simulated delivery attempt fails.",
            "§5 delivery worker behaviour [unknown].",
        ),
    )
    error_threshold: int = field(
        default=5,
        metadata=_doc(
            "Consecutive failed deliveries after which an active integration becomes 2.",
            "§5 'suspended after repeated upstream rejections' - count [unknown].",
        ),
    )
    create_status: int = field(
        default=201,
        metadata=_doc(
            "HTTP status of a successful POST /v4/integrations (200 or 201).",
            "§3.2 / §12.3 create success code [inferred 201].",
        ),
    )
    delete_status: int = field(
        default=204,
        metadata=_doc(
            "HTTP status of a successful DELETE (204 = empty body, 200 = Integration body).",
            "§3.5 / §12.1 delete success code [unknown].",
        ),
    )
    validation_status: int = field(
        default=422,
        metadata=_doc(
            "HTTP status for field validation errors (code invalid_data): 400 or 422.",
            "§3.2 / §3.4 / §12.6 400 vs 422 [unknown].",
        ),
    )
    deleted_in_list: bool = field(
        default=False,
        metadata=_doc(
            "Whether soft-deleted integrations still appear in GET /v4/integrations.",
            "§3.1 / §12.5 deleted records in list [unknown].",
        ),
    )
    idempotency_ttl: float = field(
        default=86400.0,
        metadata=_doc(
            "Seconds an Idempotency-Key is remembered.",
            "§7 key lifetime [unknown].",
        ),
    )
    idempotency_mismatch: MismatchPolicy = field(
        default="conflict",
        metadata=_doc(
            "Same Idempotency-Key, different body: 'conflict' (409 already_exists) "
            "or 'replay' (return the first response anyway).",
            "§7 body-mismatch handling [unknown].",
        ),
    )
    replay_failures: bool = field(
        default=False,
        metadata=_doc(
            "Also remember non-2xx first responses (400/422) and replay them.",
            "§7 whether failed first attempts are replayed [unknown].",
        ),
    )
    replay_header: bool = field(
        default=True,
        metadata=_doc(
            "Add 'Idempotent-Replayed: true' to replayed responses.",
            "§7 whether a replay is marked by a header [unknown].",
        ),
    )
    rate_limit: int = field(
        default=0,
        metadata=_doc(
            "Requests allowed per secret key per rate_window; 0 disables limiting.",
            "§9 numeric limits [unknown].",
        ),
    )
    rate_window: float = field(
        default=60.0,
        metadata=_doc(
            "Length in seconds of the fixed rate-limit window.",
            "§9 window [unknown].",
        ),
    )
    retry_after_header: bool = field(
        default=True,
        metadata=_doc(
            "Send 'Retry-After: <seconds>' with 429 responses.",
            "§9 429 headers [unknown].",
        ),
    )
    state_file: str | None = field(
        default=None,
        metadata=_doc(
            "JSON file the sandbox keeps its records in across restarts (saved after every change, "
            "loaded at start); unset = everything is lost when it stops.",
            "§3.5 ids are never handed out again, also after a restart (sandbox-only).",
        ),
    )
    # Not a switch: injectable time source so tests never sleep.
    clock: Clock = field(default=system_clock, compare=False, repr=False)

    def __post_init__(self) -> None:
        problems = list(_problems(self))
        if problems:
            raise ValueError("; ".join(problems))


def _problems(config: SandboxConfig) -> list[str]:
    checks: list[tuple[bool, str]] = [
        (config.create_status in (200, 201), "create_status must be 200 or 201"),
        (config.delete_status in (200, 204), "delete_status must be 200 or 204"),
        (
            config.validation_status in (400, 422),
            "validation_status must be 400 or 422",
        ),
        (
            config.idempotency_mismatch in ("conflict", "replay"),
            "idempotency_mismatch must be 'conflict' or 'replay'",
        ),
        (0.0 <= config.failure_rate <= 1.0, "failure_rate must be within 0..1"),
        (config.error_threshold >= 1, "error_threshold must be >= 1"),
        (config.delivery_interval >= 0, "delivery_interval must be >= 0"),
        (config.idempotency_ttl > 0, "idempotency_ttl must be > 0"),
        (config.rate_limit >= 0, "rate_limit must be >= 0"),
        (config.rate_window > 0, "rate_window must be > 0"),
    ]
    return [message for ok, message in checks if not ok]


# --- parsing ---------------------------------------------------------------


def parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"not a boolean: {text!r}")


def _parse_optional_int(text: str) -> int | None:
    return None if text.strip().lower() in ("", "none") else int(text)


def _parse_optional_path(text: str) -> str | None:
    return text.strip() or None


def _parser_for(config_field: dataclasses.Field[Any]) -> Callable[[str], Any]:
    default = config_field.default
    if config_field.name == "seed":
        return _parse_optional_int
    if config_field.name == "state_file":
        return _parse_optional_path
    if isinstance(default, bool):
        return parse_bool
    if isinstance(default, int):
        return int
    if isinstance(default, float):
        return float
    return str


def switch_fields() -> list[dataclasses.Field[Any]]:
    """The user-settable fields of SandboxConfig (everything except ``clock``)."""
    return [f for f in dataclasses.fields(SandboxConfig) if "help" in f.metadata]


def env_name(name: str) -> str:
    return ENV_PREFIX + name.upper()


def build_arg_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        description="Local simulator of the Qonversion REST API v4 Integrations endpoints.",
    )
    # Defaults are None so we can tell "not given" apart and fall back to env.
    parser.add_argument("--host", default=None, help=f"bind address (default {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=None, help=f"port (default {DEFAULT_PORT})")
    for config_field in switch_fields():
        flag = "--" + config_field.name.replace("_", "-")
        help_text = f"{config_field.metadata['help']} (default {config_field.default!r})"
        if isinstance(config_field.default, bool):
            parser.add_argument(
                flag,
                action=argparse.BooleanOptionalAction,
                default=None,
                help=help_text,
            )
        else:
            parser.add_argument(flag, type=_parser_for(config_field), default=None, help=help_text)
    return parser


@dataclass(frozen=True)
class LaunchSettings:
    config: SandboxConfig
    host: str
    port: int


def load_settings(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> LaunchSettings:
    """Merge CLI flags, environment variables and defaults (CLI wins)."""
    parser = build_arg_parser()
    args = parser.parse_args(argv)
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    try:
        for config_field in switch_fields():
            cli_value = getattr(args, config_field.name)
            if cli_value is not None:
                values[config_field.name] = cli_value
            elif env_name(config_field.name) in env:
                raw = env[env_name(config_field.name)]
                values[config_field.name] = _parser_for(config_field)(raw)
        host = args.host or env.get(env_name("host")) or DEFAULT_HOST
        port_text = env.get(env_name("port"))
        port = args.port if args.port is not None else int(port_text or DEFAULT_PORT)
        config = SandboxConfig(**values)
    except ValueError as error:
        parser.error(str(error))
    return LaunchSettings(config=config, host=host, port=port)

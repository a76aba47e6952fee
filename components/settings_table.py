"""How a Pulumi project declares its settings: one row per setting, read by one parser.

Each project (the app, components/config.py; the account baseline,
components/account_config.py) lists its settings once, as a tuple of `Setting` rows: the
key, how its text is read (a `Kind`), the default, the field of the project's settings
object it fills, what it does and what it costs. Parsing, the unknown-key error and
docs/configuration.md (policy/config_doc.py) all come from that tuple, so a setting cannot
be parsed without being documented, nor documented with another default than the one used.

What one row cannot say (two settings that go together, one that excludes another) is a
`Rule`: a check over the parsed values, with the sentence the docs print for it.

Every error names the setting's key (`pets:stage: ...`), so a deploy fails before it
creates anything instead of half-way through with a provider error. The kinds of value the
two projects share (flags, JSON maps, issuer URLs, client ids) are defined here once.
"""

from __future__ import annotations

import inspect
import ipaddress
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")
C = TypeVar("C", bound=type)


class ConfigError(ValueError):
    """A stack setting is missing or invalid; the message names the key."""


def _plain(value: Any) -> str:
    """A value as a stack file would write it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True)
class Kind(Generic[T]):
    """What a setting's value is: how its text is read and how the docs name it.

    read(key, text): the value, or ConfigError naming `key` (the qualified `pets:<name>`).
    Objects and lists arrive as JSON text, as the Pulumi CLI passes them.
    show(value): the value as a stack file would write it (the docs print defaults so).
    blank_is_unset: an empty value means "not set" (optional text such as an e-mail
    address); otherwise it is read, and refused (an empty flag is neither true nor false).
    """

    name: str
    read: Callable[[str, str], T]
    show: Callable[[Any], str] = _plain
    blank_is_unset: bool = False


@dataclass(frozen=True)
class Computed:
    """A default read each time settings are parsed: one that is another declaration's
    (access.py's membership), so it follows that declaration, as tests that replace it
    expect."""

    read: Callable[[], Any]


@dataclass(frozen=True)
class Setting:
    """One setting of a project: `<namespace>:<key>` in the stack file fills `field`.

    default: the value when the stack file does not set it (or a Computed). default_means:
    how the docs say it when the value alone would not tell (a None that stands for
    something, a default taken from access.py). cost: the money or behaviour that comes
    with changing it.
    """

    key: str
    parse: Kind[Any]
    default: Any
    field: str
    doc: str
    cost: str
    default_means: str | None = None


@dataclass(frozen=True)
class Rule:
    """A check across settings. check(values, qualify) gets the parsed values by field and
    `qualify(key) -> 'pets:key'`, and returns them (changed where one setting derives
    another) or raises ConfigError naming the keys."""

    keys: tuple[str, ...]
    doc: str
    check: Callable[[dict[str, Any], Callable[[str], str]], dict[str, Any]]


@dataclass(frozen=True)
class Project:
    """A Pulumi project's settings: keys under `namespace:`, one row each, and the rules.

    moved: keys this project no longer takes, with where they went, so an old stack file is
    told that instead of only "unknown".
    """

    namespace: str
    title: str
    stack_file: str  # where its settings are written, for the docs
    settings: tuple[Setting, ...]
    rules: tuple[Rule, ...] = ()
    moved: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        keys = [s.key for s in self.settings]
        fields = [s.field for s in self.settings]
        for what, names in (("key", keys), ("field", fields)):
            twice = sorted({n for n in names if names.count(n) > 1})
            if twice:
                raise ValueError(f"{self.namespace}: {what}(s) {twice} declared twice")
        unknown = sorted({k for r in self.rules for k in r.keys} - set(keys))
        if unknown:
            raise ValueError(f"{self.namespace}: rules name unknown keys {unknown}")

    def qualify(self, key: str) -> str:
        return f"{self.namespace}:{key}"

    def default(self, field_name: str) -> Any:
        """A field's default, as its row declares it."""
        default = next(s.default for s in self.settings if s.field == field_name)
        return default.read() if isinstance(default, Computed) else default

    def fields(self, cls: C) -> C:
        """Class decorator, under @dataclass: the settings class has one field per row, plus
        `stack`, and each row's field takes the row's default (the one place it is written).
        A field without a row, or a row without a field, is refused at import."""
        annotated = list(inspect.get_annotations(cls))
        rows = {s.field for s in self.settings}
        if set(annotated) - {"stack"} != rows:
            raise ValueError(
                f"{cls.__name__} and the {self.namespace} settings table disagree: fields "
                f"without a row {sorted(set(annotated) - rows - {'stack'})}, rows without a "
                f"field {sorted(rows - set(annotated))}")
        for name in annotated:
            if name in rows:
                setattr(cls, name, field(default_factory=lambda n=name: self.default(n)))
        return cls

    def parse(self, raw: Mapping[str, str | None]) -> dict[str, Any]:
        """The values by field, from raw config keyed `<namespace>:<key>` (others ignored)."""
        prefix = f"{self.namespace}:"
        ours = {k[len(prefix):]: v for k, v in raw.items() if k.startswith(prefix)}
        moved = sorted(set(ours) & set(self.moved))
        if moved:
            raise ConfigError("; ".join(f"{self.qualify(k)} moved to {self.moved[k]}"
                                        for k in moved) + ". Remove it from this stack's file")
        known = {s.key for s in self.settings}
        unknown = set(ours) - known
        if unknown:
            raise ConfigError(f"unknown setting(s) {sorted(self.qualify(k) for k in unknown)}; "
                              f"known: {sorted(self.qualify(k) for k in known)}")
        values = {
            s.field: self.default(s.field) if ours.get(s.key) is None
            or (ours[s.key] == "" and s.parse.blank_is_unset)
            else s.parse.read(self.qualify(s.key), str(ours[s.key]))
            for s in self.settings
        }
        for rule in self.rules:
            values = rule.check(values, self.qualify)
        return values


# --- kinds of value both projects use ---------------------------------------------------

def text(name: str = "text") -> Kind[str]:
    return Kind(name, lambda key, value: value, blank_is_unset=True)


def _flag(key: str, value: str) -> bool:
    if value.lower() in {"true", "false"}:
        return value.lower() == "true"
    raise ConfigError(f"{key}: expected true or false, got {value!r}")


FLAG: Kind[bool] = Kind("true or false", _flag)


def json_value(key: str, value: str) -> Any:
    """A structured value (the CLI passes objects and lists as JSON text); errors name `key`."""
    try:
        return json.loads(value)
    except json.JSONDecodeError as err:
        raise ConfigError(f"{key}: not valid YAML/JSON structure ({err})") from None


def string_list(key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{key}: expected a list of non-empty strings")
    return tuple(value)


def whole_number(low: int, high: int | None = None, unit: str = "") -> Kind[int]:
    """A whole number from `low` (to `high`); errors say the range, in `unit` if given."""
    what = f"a whole number of {unit}" if unit else "a whole number"
    bounds = f"from {low} to {high}" if high is not None else f">= {low}"

    def read(key: str, value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            number = low - 1
        if number < low or (high is not None and number > high):
            raise ConfigError(f"{key}: {value!r} must be {what} {bounds}")
        return number

    return Kind(f"{what} {bounds}", read)


def is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_https(key: str, value: str, host: str | None, scheme: str) -> None:
    """IAM and browsers need https; plain http is for an emulator on loopback."""
    if scheme != "https" and not (scheme == "http" and is_loopback(host)):
        raise ConfigError(f"{key}: {value!r} must use https "
                          "(plain http only on a loopback host, for local emulators)")


def check_issuer(key: str, value: str) -> str:
    """An OIDC issuer URL IAM can trust, exactly as the token's `iss` says it (trailing slash
    included: IAM keeps it in the provider's name); errors name `key`. The app's
    pets:oidcIssuer and the account baseline's issuers are checked by this one rule."""
    parts = urlsplit(value)
    if parts.query or parts.fragment or not parts.hostname:
        raise ConfigError(f"{key}: {value!r} is not an issuer URL")
    require_https(key, value, parts.hostname, parts.scheme)
    return value


def check_client_id(key: str, value: str) -> str:
    """An OIDC client id (the ID token's `aud`) as IAM takes it: 1-255 printable characters
    without spaces; errors name `key`. Shared with the account baseline's clientIds."""
    if not value or len(value) > 255 or not value.isprintable() or " " in value:
        raise ConfigError(f"{key}: {value!r} is not a client id")
    return value


ISSUER_URL: Kind[str] = Kind("issuer URL: https (http on loopback)", check_issuer,
                             blank_is_unset=True)
CLIENT_ID: Kind[str] = Kind("client id: 1-255 printable characters, no spaces",
                            check_client_id, blank_is_unset=True)

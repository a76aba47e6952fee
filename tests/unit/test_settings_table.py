"""The settings tables (components/settings_table.py): one row per setting gives the parser,
the settings class's defaults and the unknown-key error. Pure: no Pulumi runtime."""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass

import pytest

from components import config
from components.account_config import BASELINE
from components.config import APP, ConfigError, Settings, parse_settings
from components.settings_table import FLAG, Project, Setting, whole_number

VALID = {"pets:oidcIssuer": "https://tenant.auth0.com/", "pets:oidcClientId": "abc"}


def _project(default: int = 3) -> Project:
    return Project("shop", "A shop", "Shop.yaml", (
        Setting("size", whole_number(1, 9), default, "size", doc="how big", cost="none"),
        Setting("open", FLAG, True, "is_open", doc="open?", cost="none"),
    ))


def test_a_settings_class_takes_its_defaults_from_the_rows():
    project = _project(default=4)

    @dataclass(frozen=True)
    @project.fields
    class Shop:
        stack: str
        size: int
        is_open: bool

    assert Shop("s") == Shop("s", 4, True)
    assert Shop("s", **project.parse({"shop:size": "7"})) == Shop("s", 7, True)


@pytest.mark.parametrize(("fields", "message"), [
    ({"stack": str, "size": int, "is_open": bool, "colour": str},
     r"fields without a row \['colour'\], rows without a field \[\]"),
    ({"stack": str, "size": int}, r"fields without a row \[\], rows without a field \['is_open'\]"),
])
def test_a_field_without_a_row_or_a_row_without_a_field_is_refused(fields, message):
    with pytest.raises(ValueError, match=message):
        _project().fields(type("Shop", (), {"__annotations__": fields}))


def test_a_key_or_field_declared_twice_is_refused():
    row = Setting("size", FLAG, True, "size", doc="", cost="")
    with pytest.raises(ValueError, match=r"key\(s\) \['size'\] declared twice"):
        Project("shop", "A shop", "Shop.yaml", (row, row))


def test_the_unknown_key_error_lists_the_tables_keys():
    with pytest.raises(ConfigError) as refused:
        parse_settings("dev", {**VALID, "pets:stagee": "v2"})
    message = str(refused.value)
    assert "unknown setting(s) ['pets:stagee']" in message
    assert message.endswith(f"known: {sorted(APP.qualify(s.key) for s in APP.settings)}")


def test_an_unset_setting_is_its_rows_default():
    settings = parse_settings("dev", VALID)
    for row in APP.settings:
        if row.field not in {"oidc_issuer", "oidc_client_id"}:  # required: set in VALID
            assert getattr(settings, row.field) == APP.default(row.field), row.key


@pytest.mark.parametrize("project", [APP, BASELINE], ids=lambda p: p.namespace)
def test_each_written_default_is_a_value_its_setting_accepts(project):
    """The default the docs print is one the parser reads back to the same value."""
    for row in project.settings:
        if row.default is None or row.default_means is not None:
            continue
        written = row.parse.show(row.default)
        assert row.parse.read(project.qualify(row.key), written) == row.default, row.key


def test_blank_optional_text_is_unset_and_a_blank_flag_is_refused():
    assert parse_settings("dev", {**VALID, "pets:alarmEmail": ""}).alarm_email is None
    with pytest.raises(ConfigError, match="pets:waf: expected true or false"):
        parse_settings("dev", {**VALID, "pets:waf": ""})


def test_settings_can_be_built_as_the_prover_builds_them():
    """prover/revision.py builds Settings positionally and leaves the rest to defaults."""
    settings = Settings("seed", "https://x/", "client", config.access.USER_CLASSES, stage="v2")
    assert (settings.stage, settings.waf, settings.throttle) == ("v2", False, config.Throttle())


# --- the read of the SDK's config internals -------------------------------------------------

def test_engine_config_reads_what_the_engine_passed(monkeypatch):
    from pulumi.runtime import config as runtime_config

    monkeypatch.setenv("PULUMI_CONFIG", '{"pets:stage": "v9"}')
    token = runtime_config.CONFIG.set({"pets:waf": "true", "pets:alarmEmail": None})
    try:
        assert config.engine_config() == {"pets:stage": "v9", "pets:waf": "true"}
    finally:
        runtime_config.CONFIG.reset(token)


@pytest.mark.parametrize("missing", ["get_config_env", "CONFIG"])
def test_engine_config_says_so_when_the_sdk_moved_its_config(monkeypatch, missing):
    from pulumi.runtime import config as runtime_config

    stripped = types.ModuleType(runtime_config.__name__)
    stripped.__dict__.update({k: v for k, v in vars(runtime_config).items() if k != missing})
    monkeypatch.setitem(sys.modules, runtime_config.__name__, stripped)
    monkeypatch.setattr(sys.modules["pulumi.runtime"], "config", stripped)
    with pytest.raises(ConfigError) as refused:
        config.engine_config()
    message = str(refused.value)
    assert "get_config_env() or CONFIG" in message
    assert "install the pulumi version requirements.txt pins" in message

"""Stack settings: defaults, overrides, and errors that name the key."""

import json

import pytest

from components.config import ConfigError, parse_settings

VALID = {"pets:oidcIssuer": "https://tenant.auth0.com/", "pets:oidcClientId": "abc"}


def parse(**overrides: str):
    return parse_settings("dev", {**VALID, **overrides})


def test_defaults_come_from_the_model():
    settings = parse()
    assert settings.prefix == "pets-dev"
    assert settings.stage == "v1"
    assert [c.name for c in settings.user_classes] == ["admin", "buyer"]
    assert dict(settings.user_classes[0].members.session_tags) == {"pets-class": "admin"}
    assert settings.auth0_tenant is None
    assert (settings.id_token_lifetime_seconds, settings.refresh_token_lifetime_seconds) == (
        3600, 8 * 3600)


def test_a_stack_cannot_make_strangers_admins():
    """The seed's rule: every database user of the tenant would be an admin."""
    with pytest.raises(ConfigError, match=r"pets:userClasses.admin: .*explicit grant.*auth0\|\*"):
        parse(**{"pets:userClasses": json.dumps({"admin": {"subPatterns": ["auth0|*"]}})})


def test_a_stack_may_grant_admins_by_subject():
    settings = parse(**{"pets:userClasses": json.dumps({"admin": {"subjects": ["auth0|a1"]}})})
    assert settings.user_classes[0].members.subjects == ("auth0|a1",)


def test_a_managed_tenant_fixes_issuer_and_leaves_the_client_id_to_the_program():
    settings = parse_settings("prod", {"pets:auth0Tenant": "pets-example.eu.auth0.com"})
    assert settings.oidc_issuer == "https://pets-example.eu.auth0.com/"
    assert settings.oidc_client_id is None


@pytest.mark.parametrize("key", ["pets:oidcIssuer", "pets:oidcClientId"])
def test_a_managed_tenant_refuses_a_hand_set_issuer_or_client(key):
    raw = {"pets:auth0Tenant": "pets-example.eu.auth0.com", key: VALID[key]}
    with pytest.raises(ConfigError, match=f"pets:auth0Tenant .*remove .*{key}"):
        parse_settings("prod", raw)


@pytest.mark.parametrize("key", ["pets:oidcIssuer", "pets:oidcClientId"])
def test_missing_required_setting_names_the_key(key):
    raw = dict(VALID)
    del raw[key]
    with pytest.raises(ConfigError, match=key):
        parse_settings("dev", raw)


@pytest.mark.parametrize(
    "issuer", ["http://tenant.auth0.com/", "ftp://x", "tenant.auth0.com", "https://x/?a=1"]
)
def test_issuer_must_be_https_url(issuer):
    with pytest.raises(ConfigError, match="pets:oidcIssuer"):
        parse(**{"pets:oidcIssuer": issuer})


def test_plain_http_issuer_is_allowed_on_loopback_only():
    assert parse(**{"pets:oidcIssuer": "http://127.0.0.1:9443"}).oidc_issuer == (
        "http://127.0.0.1:9443"
    )


def test_unknown_setting_is_refused_by_name():
    with pytest.raises(ConfigError, match="pets:oidcIsuer"):
        parse(**{"pets:oidcIsuer": "https://x/"})


def test_membership_override_replaces_the_class_rule():
    settings = parse(**{"pets:userClasses": json.dumps(
        {"admin": {"subjects": ["auth0|123"]}}
    )})
    admin = next(c for c in settings.user_classes if c.name == "admin")
    assert admin.members.subjects == ("auth0|123",)
    assert admin.members.sub_patterns == ()
    assert [r.id for r in admin.routes] == ["GET /pets", "POST /pets", "DELETE /pets/{petId}"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"owner": {"subjects": ["x"]}}, "pets:userClasses: unknown user class"),
        ({"admin": {"subPatterns": ["*"]}}, "pets:userClasses.admin: .*admit everyone"),
        ({"admin": {}}, "pets:userClasses.admin: a membership needs at least one rule"),
        ({"admin": {"subPatterns": "auth0|*"}}, "pets:userClasses.admin.subPatterns"),
        ({"admin": {"routes": ["GET /pets"]}}, "pets:userClasses.admin: unknown field"),
        (["admin"], "pets:userClasses: expected a map"),
    ],
)
def test_bad_membership_override_names_the_key(value, message):
    with pytest.raises(ConfigError, match=message):
        parse(**{"pets:userClasses": json.dumps(value)})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("pets:stage", "v-1"),
        ("pets:logRetentionDays", "10"),
        ("pets:throttle", json.dumps({"rateLimit": 0})),
        ("pets:throttle", json.dumps({"burstLimit": 1.5})),
        ("pets:corsAllowOrigin", "https://x.example.com/app"),
        ("pets:userClasses", "{not json"),
        ("pets:idTokenLifetimeSeconds", "19"),
        ("pets:idTokenLifetimeSeconds", "an hour"),
        ("pets:refreshTokenLifetimeSeconds", str(31 * 86400)),
    ],
)
def test_invalid_value_names_the_key(key, value):
    with pytest.raises(ConfigError, match=key):
        parse(**{key: value})


@pytest.mark.parametrize("tenant", ["https://x.auth0.com/", "x", "X.auth0.com", "x.auth0.com/"])
def test_auth0_tenant_must_be_a_domain(tenant):
    with pytest.raises(ConfigError, match="pets:auth0Tenant"):
        parse_settings("prod", {"pets:auth0Tenant": tenant})


@pytest.mark.parametrize(
    ("key", "where"),
    [("pets:manageApiGatewayAccount", "pets-account:apiGatewayLogging"),
     ("pets:oidcThumbprints", r"pets-account:issuers\.<issuer>\.thumbprints")],
)
def test_a_setting_that_moved_to_the_baseline_says_where(key, where):
    """An old stack file is told where the setting went, not just that it is unknown."""
    with pytest.raises(ConfigError, match=f"{key} moved to the account baseline .*{where}"):
        parse(**{key: "true"})

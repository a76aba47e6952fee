"""Clients for the emulator: localstack-client's endpoints, never another target's."""

from __future__ import annotations

import pytest
from botocore import UNSIGNED

from devstack import clients
from devstack.clients import EXTERNAL_ENDPOINT_ENV, Target
from devstack.errors import DevstackError

TARGET = Target(endpoint_url="http://127.0.0.1:45123", region="eu-west-1",
                account_id="000000000000", started=False)


def test_clients_call_the_targets_edge_endpoint_with_the_keys_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(EXTERNAL_ENDPOINT_ENV, raising=False)
    role = {"AccessKeyId": "ASIAROLE", "SecretAccessKey": "s3cret", "SessionToken": "tok"}
    for service in ("sts", "apigateway", "dynamodb", "lambda", "iam", "s3"):
        made = clients.client(service, role, target=TARGET)
        assert made.meta.endpoint_url == TARGET.endpoint_url, service
        assert made.meta.region_name == "eu-west-1", service
    frozen = clients.client("sts", role, target=TARGET)._request_signer._credentials
    assert (frozen.access_key, frozen.secret_key, frozen.token) == ("ASIAROLE", "s3cret", "tok")


def test_an_unsigned_client_signs_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(EXTERNAL_ENDPOINT_ENV, raising=False)
    sts = clients.unsigned_client("sts", target=TARGET)
    assert sts.meta.config.signature_version is UNSIGNED
    assert sts.meta.endpoint_url == TARGET.endpoint_url


def test_a_client_refuses_an_aws_endpoint_url_that_names_another_target(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(EXTERNAL_ENDPOINT_ENV, "http://127.0.0.1:1")
    with pytest.raises(DevstackError, match=f"unset {EXTERNAL_ENDPOINT_ENV}"):
        clients.client("sts", target=TARGET)

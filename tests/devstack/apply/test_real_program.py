"""The project's own programs applied to the private emulator: the app alone is refused until
the account baseline is there; then the baseline and the app apply. (How long they take is
bench's figure, `make bench`, never a test's.)"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from devstack import clients, stack
from devstack.apply import apply_program
from devstack.paths import REPO
from harness_core.errors import ProgramRunError


def test_the_app_alone_is_refused_then_the_baseline_and_the_app_apply(
    emulator_target: clients.Target, factory: Callable,
) -> None:
    """The project's own programs on the private emulator, which holds no stack yet (the other
    tests name what they create uniquely, and no OIDC provider for the local issuer): the app
    alone fails before creating anything, saying what to deploy first; the account baseline,
    then the app, apply."""
    with pytest.raises(ProgramRunError, match=r"no IAM OIDC provider for http://127\.0\.0\.1:"
                                              r"9443 in this account: deploy the account "
                                              r"baseline") as refused:
        apply_program(REPO, "local", factory)
    assert refused.value.resources == []
    baseline, result = stack.apply_local(factory)
    assert sorted(r.type for r in baseline.resources) == [
        "aws:apigateway/account:Account", "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
        "aws:iam/role:Role", "aws:iam/rolePolicyAttachment:RolePolicyAttachment"]
    assert {"apiUrl", "restApiId", "roles", "tableName"} <= set(result.outputs)
    assert result.outputs["apiUrl"].startswith(
        f"{emulator_target.endpoint_url}/_aws/execute-api/")

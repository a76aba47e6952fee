"""Creation order: a deployment created before a method it serves is an ordering error, and
the jitter (devstack/apply/jitter.py) finds a part the deployment forgot to wait for while
passing one that waits for every part."""

from __future__ import annotations

from collections.abc import Callable

import pulumi
import pulumi_aws as aws
import pytest

from devstack.apply import apply_function
from devstack.apply.errors import ApplyError
from devstack.apply.jitter import Jitter


def test_deployment_before_its_methods_is_an_ordering_error(factory: Callable, unique: str) -> None:
    def program() -> None:
        api = aws.apigateway.RestApi("api", name=f"order-{unique}")
        first = aws.apigateway.Method(
            "first",
            rest_api=api.id,
            resource_id=api.root_resource_id,
            http_method="GET",
            authorization="NONE",
        )
        integration = aws.apigateway.Integration(
            "first-integration",
            rest_api=api.id,
            resource_id=api.root_resource_id,
            http_method=first.http_method,
            type="MOCK",
        )
        deployment = aws.apigateway.Deployment(
            "deployment",
            rest_api=api.id,
            opts=pulumi.ResourceOptions(depends_on=[first, integration]),
        )
        # Forgotten in the deployment's depends_on (forced late here): AWS would deploy without it.
        aws.apigateway.Method(
            "late",
            rest_api=api.id,
            resource_id=api.root_resource_id,
            http_method="POST",
            authorization="NONE",
            opts=pulumi.ResourceOptions(depends_on=[deployment]),
        )

    with pytest.raises(ApplyError, match="out of order") as failure:
        apply_function(program, factory)
    message = str(failure.value)
    assert "aws:apigateway/method:Method 'late' was created after" in message
    assert "'first'" not in message


def _api_with_a_deployment(name: str, *, forgotten: bool) -> Callable[[], None]:
    """Two routes created side by side; the deployment waits for the first route only when
    `forgotten` (the second route's method and integration are missing from depends_on)."""

    def program() -> None:
        api = aws.apigateway.RestApi("api", name=name)
        parts: list[pulumi.Resource] = []
        for route, verb in (("first", "GET"), ("second", "POST")):
            method = aws.apigateway.Method(
                route,
                rest_api=api.id,
                resource_id=api.root_resource_id,
                http_method=verb,
                authorization="NONE",
            )
            integration = aws.apigateway.Integration(
                f"{route}-integration",
                rest_api=api.id,
                resource_id=api.root_resource_id,
                http_method=method.http_method,
                type="MOCK",
            )
            parts += [method, integration]
        aws.apigateway.Deployment(
            "deployment",
            rest_api=api.id,
            opts=pulumi.ResourceOptions(depends_on=parts[:2] if forgotten else parts),
        )

    return program


# Seeds that hold the forgotten method until the apply is quiet and hold nothing the
# deployment waits for (checked by _holds_only_the_forgotten_route): the deployment is then
# created first whatever the latencies, so the same seed gives the same verdict.
CATCHING_SEEDS = (53, 57, 66)
METHOD, INTEGRATION = "aws:apigateway/method:Method", "aws:apigateway/integration:Integration"


def _holds_only_the_forgotten_route(jitter: Jitter) -> bool:
    awaited = [("aws:apigateway/restApi:RestApi", "api"), (METHOD, "first"),
               (INTEGRATION, "first-integration"), ("aws:apigateway/deployment:Deployment",
                                                     "deployment")]
    return jitter.holds(METHOD, "second") and not any(jitter.holds(*r) for r in awaited)


@pytest.mark.parametrize("seed", CATCHING_SEEDS)
def test_jitter_catches_a_part_the_deployment_forgot(
    factory: Callable, unique: str, seed: int
) -> None:
    assert _holds_only_the_forgotten_route(Jitter(seed)), f"seed {seed}: pick another"
    program = _api_with_a_deployment(f"jitter-{seed}-{unique}", forgotten=True)
    # The default draws; a longer quiet period than the default's 40 ms keeps the verdict
    # on a machine so loaded that the SDK pauses that long between two registrations.
    jitter = Jitter(seed, quiet_seconds=0.25)
    with pytest.raises(ApplyError, match=rf"out of order \(jitter seed {seed}: "
                       rf"PETS_APPLY_JITTER={seed} replays it\)") as failure:
        apply_function(program, factory, jitter=jitter)
    assert "Method 'second' was created after" in str(failure.value)


@pytest.mark.parametrize("seed", CATCHING_SEEDS)
def test_jitter_passes_a_deployment_that_waits_for_every_part(
    factory: Callable, unique: str, seed: int
) -> None:
    program = _api_with_a_deployment(f"jitter-ok-{seed}-{unique}", forgotten=False)
    result = apply_function(program, factory, jitter=Jitter(seed))
    assert result.jitter == Jitter(seed)
    assert len(result.resources) == 6

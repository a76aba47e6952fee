"""What the local apply's mocks accept before any AWS call: resource types (each the SDK's own
token, each in SUPPORT.md), inputs (anything a kind would drop fails, naming it), code and file
assets, invokes; and an apply that cannot start or never finishes fails saying so."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pytest
from pulumi.type_token import get_type_token

from devstack import clients
from devstack.apply import apply_function
from devstack.apply.errors import ApplyError, ResourceError
from devstack.apply.mocks import EmulatorMocks
from devstack.apply.services import KIND_BY_TYPE
from devstack.paths import REPO
from harness_core.errors import ProgramRunError
from tests.support.local_apply import fake_target, mock_args, no_aws_factory, write_handler


def test_code_must_be_a_zip_and_files_must_exist(tmp_path: Path) -> None:
    """The program ships built .zips, passed through as they are; anything else, or a path
    that is not there, fails the resource by name before any AWS call."""
    mocks = EmulatorMocks(fake_target())  # no clients: an AWS call would raise KeyError
    folder = write_handler(tmp_path / "code")
    for code, problem in [
        (pulumi.FileArchive(str(folder)), "code must be a FileArchive of a .zip file"),
        (pulumi.AssetArchive({"app.py": pulumi.StringAsset("x")}), "got AssetArchive"),
        (pulumi.FileArchive(str(tmp_path / "missing.zip")), "missing.zip: No such file"),
    ]:
        with pytest.raises(ResourceError, match=rf"Function 'fn': .*{problem}"):
            mocks.new_resource(mock_args("aws:lambda/function:Function", "fn",
                                         {"name": "fn", "code": code}))
    with pytest.raises(ResourceError, match=r"BucketObjectv2 'page': .*missing.txt: No such"):
        mocks.new_resource(mock_args(
            "aws:s3/bucketObjectv2:BucketObjectv2", "page",
            {"bucket": "b", "key": "k", "source": pulumi.FileAsset(str(tmp_path / "missing.txt"))},
        ))
    assert not mocks.created


def test_every_type_of_the_brief_has_a_handler() -> None:
    wanted = {
        "aws:dynamodb/table:Table",
        "aws:iam/role:Role",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
        "aws:cloudwatch/logGroup:LogGroup",
        "aws:lambda/function:Function",
        "aws:lambda/permission:Permission",
        "aws:apigateway/restApi:RestApi",
        "aws:apigateway/resource:Resource",
        "aws:apigateway/method:Method",
        "aws:apigateway/integration:Integration",
        "aws:apigateway/methodResponse:MethodResponse",
        "aws:apigateway/integrationResponse:IntegrationResponse",
        "aws:apigateway/response:Response",  # the gateway response in pulumi-aws 7
        "aws:apigateway/deployment:Deployment",
        "aws:apigateway/stage:Stage",
        "aws:apigateway/methodSettings:MethodSettings",
        "aws:apigateway/account:Account",
        "aws:s3/bucket:Bucket",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        "aws:s3/bucketPolicy:BucketPolicy",
        "aws:s3/bucketWebsiteConfiguration:BucketWebsiteConfiguration",
        "aws:s3/bucketObjectv2:BucketObjectv2",
    }
    assert wanted <= set(KIND_BY_TYPE)
    # The tokens are the SDK's own: each names a class pulumi_aws registers.
    for token in KIND_BY_TYPE:
        module, cls = token.split(":")[1].split("/")[0], token.split(":")[2]
        sdk_module = getattr(aws, "lambda_" if module == "lambda" else module)
        assert get_type_token(getattr(sdk_module, cls)) == token


def test_the_support_document_covers_every_type() -> None:
    document = (REPO / "devstack" / "apply" / "SUPPORT.md").read_text()
    missing = [t for t in KIND_BY_TYPE if f"`{t}`" not in document]
    assert not missing


def test_inputs_the_handler_would_drop_fail_before_any_aws_call() -> None:
    mocks = EmulatorMocks(fake_target())  # no clients: an AWS call would raise KeyError
    with pytest.raises(ResourceError, match=r"'t'.*input\(s\) replicas not supported"):
        mocks.new_resource(
            mock_args(
                "aws:dynamodb/table:Table",
                "t",
                {
                    "hashKey": "id",
                    "replicas": [{"regionName": "eu-west-1"}],
                },
            )
        )
    # A key of an object input the kind does not map fails by its path, too.
    with pytest.raises(ResourceError, match=r"pointInTimeRecovery\.recoveryPeriodInDays"):
        mocks.new_resource(
            mock_args(
                "aws:dynamodb/table:Table",
                "t",
                {"hashKey": "id", "pointInTimeRecovery": {"enabled": True,
                                                          "recoveryPeriodInDays": 7}},
            )
        )
    with pytest.raises(ResourceError, match=r"aws:iam/role:Role 'r'.*fooBar"):
        mocks.new_resource(
            mock_args("aws:iam/role:Role", "r", {"assumeRolePolicy": "{}", "fooBar": 1})
        )
    # The program sets no per-resource region (pulumi-aws 7 has one on every resource).
    with pytest.raises(ResourceError, match=r"'r'.*input\(s\) region not supported"):
        mocks.new_resource(mock_args("aws:iam/role:Role", "r", {"region": "eu-west-1"}))
    # A setting of MethodSettings the kind does not map fails by its path, too.
    with pytest.raises(ResourceError, match=r"'s'.*input\(s\) settings\.cachingEnabled"):
        mocks.new_resource(mock_args(
            "aws:apigateway/methodSettings:MethodSettings", "s",
            {"restApi": "a", "stageName": "v1", "methodPath": "*/*",
             "settings": {"metricsEnabled": True, "cachingEnabled": True}},
        ))
    # The program names every resource: without a name (the provider would autoname), fail.
    with pytest.raises(ResourceError, match=r"Table 't'.*required input name is missing"):
        mocks.new_resource(mock_args("aws:dynamodb/table:Table", "t",
                                     {"billingMode": "PAY_PER_REQUEST", "hashKey": "id"}))
    with pytest.raises(ResourceError, match=r"aws:iam/role:Role 'r'.*existing id"):
        mocks.new_resource(
            pulumi.runtime.MockResourceArgs(
                typ="aws:iam/role:Role",
                name="r",
                inputs={},
                resource_id="r-123",
            )
        )


def test_explicit_providers_are_not_supported() -> None:
    """The program declares no explicit provider: one fails by type, as any other."""
    mocks = EmulatorMocks(fake_target())
    with pytest.raises(ResourceError, match=r"pulumi:providers:aws 'p'.*not supported"):
        mocks.new_resource(mock_args("pulumi:providers:aws", "p", {"region": "us-east-1"}))


def test_components_pass_through_and_invokes_come_from_the_target() -> None:
    mocks = EmulatorMocks(fake_target())
    assert mocks.new_resource(mock_args("pets:index:Thing", "c", {"a": 1}, custom=False)) == (
        "",
        {"a": 1},
    )
    identity, _ = mocks.call(
        pulumi.runtime.MockCallArgs("aws:index/getCallerIdentity:getCallerIdentity", {}, "")
    )
    assert identity["accountId"] == "123456789012"
    region, _ = mocks.call(pulumi.runtime.MockCallArgs("aws:index/getRegion:getRegion", {}, ""))
    assert region["region"] == region["name"] == "us-east-1"
    # The program asks for caller identity, region and its OIDC provider (read from the
    # emulator: test_the_oidc_provider_lookup_reads_the_target); anything else fails by name.
    for token in ("aws:index/getPartition:getPartition",
                  "aws:index/getAvailabilityZones:getAvailabilityZones"):
        with pytest.raises(ApplyError, match=f"invoke {token} not supported"):
            mocks.call(pulumi.runtime.MockCallArgs(token, {}, ""))
    assert not mocks.created


def test_an_unreachable_target_fails_before_running_the_program() -> None:
    def program() -> None:
        raise AssertionError("the program must not run without a target")

    dead = clients.Target(
        endpoint_url="http://127.0.0.1:9", region="us-east-1", account_id="", started=False
    )
    with pytest.raises(ApplyError, match="cannot use the AWS target: EndpointConnectionError"):
        apply_function(program, lambda s: clients.client(s, target=dead, max_attempts=1))


def test_a_program_that_never_finishes_times_out() -> None:
    def program() -> None:
        never = asyncio.get_event_loop().create_future()  # an input that never resolves
        pulumi.export("never", pulumi.Output.from_input(never))

    mocks_free = no_aws_factory()
    with pytest.raises(ProgramRunError, match="did not finish within 1 s"):
        apply_function(program, mocks_free, timeout=1)

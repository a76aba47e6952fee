"""The local apply: each resource type applied to a private MiniStack and read back with
boto3; failures (unsupported type or input, AWS error, ordering, hangs) name what failed;
exports are captured; successive applies do not leak into each other.

The first group needs no emulator (config, code and file inputs, input checks, invokes).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import textwrap
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from pulumi.type_token import get_type_token

from devstack import clients, stack
from devstack.apply import apply_function, apply_program, load_config
from devstack.apply.errors import ApplyError, ResourceError
from devstack.apply.jitter import Jitter
from devstack.apply.mocks import EmulatorMocks
from devstack.apply.services import KIND_BY_TYPE
from devstack.apply.target import ApplyTarget
from harness_core.errors import ProgramRunError

# The fixtures (a private emulator, client factory, unique names) live in a module of
# their own: tests/devstack/conftest.py belongs to the emulator and identity tests.
pytest_plugins = ["tests.devstack._apply_fixtures"]

REPO = Path(__file__).resolve().parents[2]
LAMBDA_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
# Handler with a helper module in a subfolder: invoking it proves the whole folder shipped.
HANDLER = """
import json, os
from lib.helper import shout

def handler(event, context):
    print("handled")  # MiniStack waits for log output otherwise
    identity = (event.get("requestContext") or {}).get("identity") or {}
    return {
        "statusCode": 200,
        "headers": {"Access-Control-Allow-Origin": "*"},
        "body": json.dumps({"greeting": shout(os.environ.get("GREETING", "")),
                            "caller": identity.get("userArn")}),
    }
"""
HELPER = "def shout(text):\n    return text.upper() + '!'\n"


def write_handler(folder: Path) -> Path:
    (folder / "lib").mkdir(parents=True)
    (folder / "app.py").write_text(HANDLER)
    (folder / "lib" / "__init__.py").write_text("")
    (folder / "lib" / "helper.py").write_text(HELPER)
    return folder


def zip_handler(folder: Path) -> Path:
    """The handler as a .zip next to its folder: the program ships built zips."""
    packed = folder.with_suffix(".zip")
    with zipfile.ZipFile(packed, "w") as zf:
        for name in ("app.py", "lib/__init__.py", "lib/helper.py"):
            zf.write(folder / name, name)
    return packed


def fake_target() -> ApplyTarget:
    return ApplyTarget(
        clients={},
        region="us-east-1",
        account_id="123456789012",
        caller_arn="arn:aws:iam::123456789012:root",
        endpoint_url="http://127.0.0.1:1",
    )


def mock_args(typ: str, name: str, inputs: dict[str, Any], custom: bool = True) -> Any:
    return pulumi.runtime.MockResourceArgs(typ=typ, name=name, inputs=inputs, custom=custom)


# -- no emulator: config ---------------------------------------------------------------


def _project(folder: Path, name: str = "pets") -> Path:
    (folder / "Pulumi.yaml").write_text(f"name: {name}\nruntime: python\n")
    return folder


def test_stack_config_reads_the_stack_file_and_overrides(tmp_path: Path) -> None:
    _project(tmp_path)
    (tmp_path / "Pulumi.local.yaml").write_text(
        "config:\n  aws:region: us-east-1\n  pets:oidcIssuer: http://127.0.0.1:9443\n"
        "  pets:logRetentionDays: 7\n  pets:enabled: true\n"
        "  pets:throttle:\n    rateLimit: 20\n    burstLimit: 40\n  stage: local\n"
    )
    config = load_config(tmp_path, "local", {"oidcIssuer": "http://127.0.0.1:9555"})
    assert config == {
        "aws:region": "us-east-1",
        "pets:oidcIssuer": "http://127.0.0.1:9555",  # the override wins
        "pets:logRetentionDays": "7",
        "pets:enabled": "true",
        # Objects reach the program as JSON text, as the CLI passes them.
        "pets:throttle": json.dumps({"rateLimit": 20, "burstLimit": 40}),
        "pets:stage": "local",
    }


def test_stack_config_keys_without_a_namespace_are_the_folders_project(tmp_path: Path) -> None:
    """The account baseline (account/, project pets-account) reads `pets-account:` keys."""
    _project(tmp_path, "pets-account")
    (tmp_path / "Pulumi.local.yaml").write_text("config:\n  apiGatewayLogging: true\n")
    config = load_config(tmp_path, "local", {"issuers": {"http://127.0.0.1:1": {}}})
    assert config == {"pets-account:apiGatewayLogging": "true",
                      "pets-account:issuers": json.dumps({"http://127.0.0.1:1": {}})}
    assert load_config(REPO / "account", "local")["pets-account:apiGatewayLogging"] == "true"


def test_stack_config_needs_the_project_file(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.local.yaml").write_text("config: {}\n")
    with pytest.raises(ApplyError, match=r"Pulumi\.yaml not found"):
        load_config(tmp_path, "local")


def test_stack_config_refuses_secrets(tmp_path: Path) -> None:
    _project(tmp_path)
    (tmp_path / "Pulumi.local.yaml").write_text("config:\n  pets:key:\n    secure: AAABAxyz\n")
    with pytest.raises(ApplyError, match=r"pets:key is a secret .*plain value"):
        load_config(tmp_path, "local")


def test_stack_config_needs_the_stack_file(tmp_path: Path) -> None:
    _project(tmp_path)
    with pytest.raises(ApplyError, match=r"Pulumi\.local\.yaml not found"):
        load_config(tmp_path, "local")


# -- no emulator: code and files ------------------------------------------------------


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


# -- no emulator: what the mocks accept --------------------------------------------------


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


# -- no emulator: jitter ----------------------------------------------------------------


def test_jitter_draws_depend_on_seed_and_resource_only() -> None:
    names = [f"r{i}" for i in range(1000)]
    jitter = Jitter(11)
    delays = [jitter.delay(METHOD, n) for n in names]
    assert delays == [Jitter(11).delay(METHOD, n) for n in names], "one seed, one set of delays"
    assert delays != [Jitter(12).delay(METHOD, n) for n in names]
    assert all(0 <= d <= jitter.max_seconds for d in delays)
    held = sum(jitter.holds(METHOD, n) for n in names)
    assert 0.05 < held / len(names) < 0.15, f"{held} of 1000 held; the share is 0.1"


@pytest.mark.parametrize(
    ("value", "expected"), [(None, None), ("", None), ("off", None), ("0", None), ("42", 42)]
)
def test_jitter_from_the_environment(value: str | None, expected: int | None) -> None:
    environ = {} if value is None else {"PETS_APPLY_JITTER": value}
    jitter = Jitter.from_environment(environ)
    assert (jitter and jitter.seed) == expected


def test_jitter_random_seed_and_bad_values() -> None:
    jitter = Jitter.from_environment({"PETS_APPLY_JITTER": "random"})
    assert jitter is not None and jitter.seed > 0
    with pytest.raises(ApplyError, match=r"PETS_APPLY_JITTER='fast': set a positive integer"):
        Jitter.from_environment({"PETS_APPLY_JITTER": "fast"})


def test_a_failure_under_jitter_says_how_to_replay_it() -> None:
    def raises() -> None:
        raise ValueError("bad setting")

    with pytest.raises(ProgramRunError) as failure:
        apply_function(raises, _no_aws_factory(), jitter=Jitter(5))
    assert "PETS_APPLY_JITTER=5 replays this order" in " ".join(failure.value.__notes__)


# -- emulator: one resource type at a time -----------------------------------------------


def test_table_has_pitr_sse_billing_and_keys(factory: Callable, unique: str) -> None:
    def program() -> None:
        table = aws.dynamodb.Table(
            "table",
            name=f"pets-{unique}",
            billing_mode="PAY_PER_REQUEST",
            hash_key="petId",
            attributes=[aws.dynamodb.TableAttributeArgs(name="petId", type="S")],
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True),
            ttl=aws.dynamodb.TableTtlArgs(attribute_name="expiration", enabled=True),
            tags={"app": "pets"},
        )
        pulumi.export("arn", table.arn)

    result = apply_function(program, factory)
    ddb = factory("dynamodb")
    table = ddb.describe_table(TableName=f"pets-{unique}")["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [{"AttributeName": "petId", "KeyType": "HASH"}]
    assert {"Key": "app", "Value": "pets"} in ddb.list_tags_of_resource(
        ResourceArn=table["TableArn"])["Tags"]
    assert table["SSEDescription"]["Status"] == "ENABLED"
    assert result.outputs["arn"] == table["TableArn"]
    backups = ddb.describe_continuous_backups(TableName=f"pets-{unique}")[
        "ContinuousBackupsDescription"
    ]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    assert ddb.describe_time_to_live(TableName=f"pets-{unique}")["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED", "AttributeName": "expiration"}


def test_roles_policies_and_oidc_provider(factory: Callable, unique: str) -> None:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    inline = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "dynamodb:GetItem",
                "Resource": "*",
            }
        ],
    }
    issuer = f"http://127.0.0.1:9{unique[:3].translate(str.maketrans('abcdef', '123456'))}"

    def program() -> None:
        role = aws.iam.Role(
            "role",
            name=f"role-{unique}",
            assume_role_policy=json.dumps(trust),
            max_session_duration=7200,
            description="test role",
            tags={"pets:userClass": "admin"},
        )
        # A secret input reaches AWS as its plain value.
        aws.iam.RolePolicy(
            "inline", name="read", role=role.id, policy=pulumi.Output.secret(json.dumps(inline))
        )
        aws.iam.RolePolicyAttachment(
            "managed",
            role=role.name,
            policy_arn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        )
        oidc = aws.iam.OpenIdConnectProvider("oidc", url=issuer, client_id_lists=["pets-test"])
        pulumi.export("roleArn", role.arn)
        pulumi.export("roleId", role.id)
        pulumi.export("oidcArn", oidc.arn)

    result = apply_function(program, factory)
    iam = factory("iam")
    role = iam.get_role(RoleName=f"role-{unique}")["Role"]
    assert role["Arn"] == result.outputs["roleArn"]
    assert result.outputs["roleId"] == f"role-{unique}"  # the provider's id: the role name
    assert role["AssumeRolePolicyDocument"] == trust
    assert role["MaxSessionDuration"] == 7200
    assert {"Key": "pets:userClass", "Value": "admin"} in role["Tags"]
    document = iam.get_role_policy(RoleName=f"role-{unique}", PolicyName="read")["PolicyDocument"]
    assert document == inline
    attached = iam.list_attached_role_policies(RoleName=f"role-{unique}")["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["AWSLambdaBasicExecutionRole"]
    provider = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=result.outputs["oidcArn"])
    assert provider["ClientIDList"] == ["pets-test"]
    assert provider["Url"].endswith(issuer.split("://")[1])


def test_the_oidc_provider_lookup_reads_the_target(factory: Callable, unique: str) -> None:
    """The app's lookup (aws.iam.get_open_id_connect_provider by URL) finds what an earlier
    apply (the account baseline) created, matching the URL exactly as IAM names it."""
    issuer = f"http://127.0.0.1:9443/{unique}/"

    def baseline() -> None:
        aws.iam.OpenIdConnectProvider("oidc", url=issuer, client_id_lists=["app", "review"])

    def lookup(url: str) -> Callable[[], None]:
        def program() -> None:
            found = aws.iam.get_open_id_connect_provider(url=url)
            pulumi.export("found", {"arn": found.arn, "clientIds": found.client_id_lists,
                                    "url": found.url})
        return program

    created = apply_function(baseline, factory).resources[0].id
    assert apply_function(lookup(issuer), factory).outputs["found"] == {
        # The URL as AWS answers it, without its scheme (MiniStack's own answer has it).
        "arn": created, "clientIds": ["app", "review"], "url": f"127.0.0.1:9443/{unique}/"}
    # Without the trailing slash it is another provider, which the account does not have.
    with pytest.raises(ProgramRunError, match=r"getOpenIdConnectProvider failed: reading IAM "
                                              r"OIDC Provider .*: couldn't find resource"):
        apply_function(lookup(issuer.rstrip("/")), factory)


def test_log_group_retention(factory: Callable, unique: str) -> None:
    def program() -> None:
        group = aws.cloudwatch.LogGroup("logs", name=f"/pets/{unique}", retention_in_days=7)
        pulumi.export("arn", group.arn)

    result = apply_function(program, factory)
    groups = factory("logs").describe_log_groups(logGroupNamePrefix=f"/pets/{unique}")["logGroups"]
    assert [(g["logGroupName"], g["retentionInDays"]) for g in groups] == [(f"/pets/{unique}", 7)]
    # The provider's arn has no `:*` suffix.
    assert (
        result.outputs["arn"]
        == f"arn:aws:logs:us-east-1:{_account(factory)}:log-group:/pets/{unique}"
    )


def test_function_ships_the_declared_zip_and_is_invocable(
    factory: Callable,
    unique: str,
    tmp_path: Path,
) -> None:
    code = zip_handler(write_handler(tmp_path / "code"))

    def program() -> None:
        role = aws.iam.Role("fn-role", name=f"fn-{unique}", assume_role_policy=LAMBDA_TRUST)
        logs = aws.cloudwatch.LogGroup(
            "fn-logs", name=f"/aws/lambda/fn-{unique}", retention_in_days=1
        )
        fn = aws.lambda_.Function(
            "fn",
            name=f"fn-{unique}",
            runtime="python3.12",
            handler="app.handler",
            role=role.arn,
            code=pulumi.FileArchive(str(code)),
            timeout=7,
            memory_size=256,
            reserved_concurrent_executions=3,
            environment=aws.lambda_.FunctionEnvironmentArgs(variables={"GREETING": "hello"}),
            tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active"),
            opts=pulumi.ResourceOptions(depends_on=[logs]),
        )
        pulumi.export("invokeArn", fn.invoke_arn)
        pulumi.export("arn", fn.arn)

    result = apply_function(program, factory)
    lam = factory("lambda")
    got = lam.get_function(FunctionName=f"fn-{unique}")
    config = got["Configuration"]
    assert (config["Runtime"], config["Handler"], config["Timeout"], config["MemorySize"]) == (
        "python3.12",
        "app.handler",
        7,
        256,
    )
    assert config["Role"].endswith(f":role/fn-{unique}")
    assert config["Environment"]["Variables"] == {"GREETING": "hello"}
    assert config["TracingConfig"] == {"Mode": "Active"}
    assert config["State"] == "Active"  # the apply returns only with invocable functions
    assert got["Concurrency"]["ReservedConcurrentExecutions"] == 3
    assert result.outputs["invokeArn"] == (
        "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
        f"{result.outputs['arn']}/invocations"
    )
    # The deployed zip is the declared one, byte for byte.
    assert requests.get(got["Code"]["Location"], timeout=10).content == code.read_bytes()
    answer = json.loads(lam.invoke(FunctionName=f"fn-{unique}", Payload=b"{}")["Payload"].read())
    assert json.loads(answer["body"])["greeting"] == "HELLO!"


def test_function_permission(factory: Callable, unique: str, tmp_path: Path) -> None:
    code = zip_handler(write_handler(tmp_path / "code"))
    source_arn = f"arn:aws:execute-api:us-east-1:{_account(factory)}:abc123/local/GET/items"

    def program() -> None:
        role = aws.iam.Role("role", name=f"arch-{unique}", assume_role_policy=LAMBDA_TRUST)
        fn = aws.lambda_.Function(
            "fn",
            name=f"arch-{unique}",
            runtime="python3.12",
            handler="app.handler",
            role=role.arn,
            code=pulumi.FileArchive(str(code)),
        )
        aws.lambda_.Permission(
            "allow-api",
            function=fn.name,
            action="lambda:InvokeFunction",
            principal="apigateway.amazonaws.com",
            source_arn=source_arn,
        )

    apply_function(program, factory)
    lam = factory("lambda")
    answer = json.loads(lam.invoke(FunctionName=f"arch-{unique}", Payload=b"{}")["Payload"].read())
    assert json.loads(answer["body"])["greeting"] == "!"  # no GREETING set
    statements = json.loads(lam.get_policy(FunctionName=f"arch-{unique}")["Policy"])["Statement"]
    assert [
        (s["Sid"][:10], s["Principal"], s["Condition"]["ArnLike"]["AWS:SourceArn"])
        for s in statements
    ] == [
        # No statementId: the provider's autoname, `<logical name>-<7 chars>`.
        ("allow-api-", {"Service": "apigateway.amazonaws.com"}, source_arn),
    ]


def test_rest_api_with_iam_auth_cors_and_stage(
    factory: Callable, unique: str, tmp_path: Path
) -> None:
    code = zip_handler(write_handler(tmp_path / "code"))
    account = _account(factory)
    cors = {"Access-Control-Allow-Origin": "'*'", "Access-Control-Allow-Methods": "'GET,OPTIONS'"}

    def program() -> None:
        role = aws.iam.Role("fn-role", name=f"api-fn-{unique}", assume_role_policy=LAMBDA_TRUST)
        fn = aws.lambda_.Function(
            "fn",
            name=f"api-{unique}",
            runtime="python3.12",
            handler="app.handler",
            role=role.arn,
            code=pulumi.FileArchive(str(code)),
        )
        api = aws.apigateway.RestApi(
            "api",
            name=f"api-{unique}",
            endpoint_configuration=aws.apigateway.RestApiEndpointConfigurationArgs(
                types="REGIONAL"
            ),
        )
        items = aws.apigateway.Resource(
            "items", rest_api=api.id, parent_id=api.root_resource_id, path_part="items"
        )
        get = aws.apigateway.Method(
            "get",
            rest_api=api.id,
            resource_id=items.id,
            http_method="GET",
            authorization="AWS_IAM",
        )
        get_integration = aws.apigateway.Integration(
            "get-integration",
            rest_api=api.id,
            resource_id=items.id,
            http_method=get.http_method,
            type="AWS_PROXY",
            integration_http_method="POST",
            uri=fn.invoke_arn,
        )
        aws.lambda_.Permission(
            "permission",
            function=fn.name,
            action="lambda:InvokeFunction",
            principal="apigateway.amazonaws.com",
            source_arn=api.execution_arn.apply(lambda arn: f"{arn}/*/GET/items"),
        )
        options = aws.apigateway.Method(
            "options",
            rest_api=api.id,
            resource_id=items.id,
            http_method="OPTIONS",
            authorization="NONE",
        )
        options_integration = aws.apigateway.Integration(
            "options-integration",
            rest_api=api.id,
            resource_id=items.id,
            http_method=options.http_method,
            type="MOCK",
            request_templates={"application/json": '{"statusCode": 200}'},
        )
        options_response = aws.apigateway.MethodResponse(
            "options-response",
            rest_api=api.id,
            resource_id=items.id,
            http_method=options.http_method,
            status_code="200",
            response_parameters={f"method.response.header.{h}": True for h in cors},
        )
        options_integration_response = aws.apigateway.IntegrationResponse(
            "options-integration-response",
            rest_api=api.id,
            resource_id=items.id,
            http_method=options.http_method,
            status_code=options_response.status_code,
            response_parameters={f"method.response.header.{h}": v for h, v in cors.items()},
            opts=pulumi.ResourceOptions(depends_on=[options_integration]),
        )
        errors = aws.apigateway.Response(
            "default-4xx",
            rest_api_id=api.id,
            response_type="DEFAULT_4XX",
            response_parameters={f"gatewayresponse.header.{h}": v for h, v in cors.items()},
            response_templates={"application/json": '{"error": $context.error.messageString}'},
        )
        deployment = aws.apigateway.Deployment(
            "deployment",
            rest_api=api.id,
            description="test",
            triggers={"shape": "v1"},
            opts=pulumi.ResourceOptions(
                depends_on=[
                    get,
                    get_integration,
                    options,
                    options_integration,
                    options_response,
                    options_integration_response,
                    errors,
                ]
            ),
        )
        access_logs = aws.cloudwatch.LogGroup("access", name=f"/aws/apigateway/{unique}")
        stage = aws.apigateway.Stage(
            "stage",
            rest_api=api.id,
            deployment=deployment.id,
            stage_name="local",
            access_log_settings=aws.apigateway.StageAccessLogSettingsArgs(
                destination_arn=access_logs.arn,
                format='{"requestId":"$context.requestId"}',
            ),
        )
        aws.apigateway.MethodSettings(
            "settings",
            rest_api=api.id,
            stage_name=stage.stage_name,
            method_path="*/*",
            settings=aws.apigateway.MethodSettingsSettingsArgs(
                throttling_rate_limit=50,
                throttling_burst_limit=100,
                metrics_enabled=True,
            ),
        )
        logs_role = aws.iam.Role(
            "apigw-logs",
            name=f"apigw-logs-{unique}",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "apigateway.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )
        aws.apigateway.Account("account", cloudwatch_role_arn=logs_role.arn)
        invoker = aws.iam.Role(
            "invoker",
            name=f"invoker-{unique}",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )
        aws.iam.RolePolicy(
            "invoke",
            name="invoke",
            role=invoker.id,
            policy=stage.execution_arn.apply(
                lambda arn: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": "execute-api:Invoke",
                                "Resource": f"{arn}/GET/items",
                            }
                        ],
                    }
                )
            ),
        )
        pulumi.export("url", stage.invoke_url)
        pulumi.export("apiId", api.id)
        pulumi.export("itemsId", items.id)
        pulumi.export("invokeArn", fn.invoke_arn)
        pulumi.export("logsArn", access_logs.arn)
        pulumi.export("logsRole", logs_role.arn)
        pulumi.export("invoker", invoker.arn)

    result = apply_function(program, factory)
    out = result.outputs
    apigw = factory("apigateway")
    method = apigw.get_method(restApiId=out["apiId"], resourceId=out["itemsId"], httpMethod="GET")
    assert method["authorizationType"] == "AWS_IAM"
    assert method["methodIntegration"]["type"] == "AWS_PROXY"
    assert method["methodIntegration"]["uri"] == out["invokeArn"]
    response = apigw.get_gateway_response(restApiId=out["apiId"], responseType="DEFAULT_4XX")
    assert (
        response["responseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"]
        == "'*'"
    )
    stage = apigw.get_stage(restApiId=out["apiId"], stageName="local")
    assert stage["accessLogSettings"]["destinationArn"] == out["logsArn"]
    assert stage["methodSettings"]["*/*"]["throttlingBurstLimit"] == 100
    assert stage["methodSettings"]["*/*"]["metricsEnabled"] is True
    assert apigw.get_account()["cloudwatchRoleArn"] == out["logsRole"]
    deployment = next(r for r in result.resources if r.name == "deployment")
    parts = [
        r
        for r in result.resources
        if r.type.startswith("aws:apigateway/")
        and r.name != "deployment"
        and r.type != "aws:apigateway/restApi:RestApi"
        and r.started < deployment.started
    ]
    assert all(p.finished < deployment.started for p in parts) and len(parts) >= 7

    # The exported URL serves the API: CORS preflight unsigned, GET only when signed by a
    # role allowed to invoke it.
    items = f"{out['url']}/items"
    preflight = requests.options(items, timeout=10)
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    unsigned = requests.get(items, timeout=10)
    assert unsigned.status_code == 403
    assert unsigned.headers.get("Access-Control-Allow-Origin") == "*"  # DEFAULT_4XX applied
    creds = factory("sts").assume_role(RoleArn=out["invoker"], RoleSessionName="apply-test")[
        "Credentials"
    ]
    signed = _signed_get(items, creds)
    assert signed.status_code == 200, signed.text
    assert json.loads(signed.text)["caller"].startswith(
        f"arn:aws:sts::{account}:assumed-role/invoker-{unique}/"
    )


def test_site_bucket_policy_website_and_objects(
    factory: Callable, unique: str, tmp_path: Path
) -> None:
    page = tmp_path / "index.html"
    page.write_text("<h1>pets</h1>")
    bucket_name = f"site-{unique}"

    def program() -> None:
        bucket = aws.s3.Bucket("site", bucket=bucket_name)
        ownership = aws.s3.BucketOwnershipControls(
            "ownership",
            bucket=bucket.bucket,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
        )
        public = aws.s3.BucketPublicAccessBlock(
            "public",
            bucket=bucket.bucket,
            block_public_acls=True,
            ignore_public_acls=True,
            block_public_policy=False,
            restrict_public_buckets=False,
        )
        aws.s3.BucketPolicy(
            "policy",
            bucket=bucket.bucket,
            policy=bucket.arn.apply(
                lambda arn: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": "*",
                                "Action": "s3:GetObject",
                                "Resource": [f"{arn}/index.html", f"{arn}/config.json"],
                            }
                        ],
                    }
                )
            ),
            opts=pulumi.ResourceOptions(depends_on=[public, ownership]),
        )
        website = aws.s3.BucketWebsiteConfiguration(
            "website",
            bucket=bucket.bucket,
            index_document=aws.s3.BucketWebsiteConfigurationIndexDocumentArgs(suffix="index.html"),
        )
        aws.s3.BucketObjectv2(
            "index",
            bucket=bucket.bucket,
            key="index.html",
            source=pulumi.FileAsset(str(page)),
            content_type="text/html; charset=utf-8",
            cache_control="no-cache",
        )
        aws.s3.BucketObjectv2(
            "config",
            bucket=bucket.bucket,
            key="config.json",
            content='{"a": 1}',
            content_type="application/json",
        )
        pulumi.export("websiteEndpoint", website.website_endpoint)
        pulumi.export("arn", bucket.arn)

    result = apply_function(program, factory)
    s3 = factory("s3")
    assert result.outputs["arn"] == f"arn:aws:s3:::{bucket_name}"
    assert s3.get_bucket_ownership_controls(Bucket=bucket_name)["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "BucketOwnerEnforced"},
    ]
    block = s3.get_public_access_block(Bucket=bucket_name)["PublicAccessBlockConfiguration"]
    assert block == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False,
    }
    assert s3.get_bucket_website(Bucket=bucket_name)["IndexDocument"] == {"Suffix": "index.html"}
    head = s3.head_object(Bucket=bucket_name, Key="index.html")
    assert (head["ContentType"], head["CacheControl"]) == ("text/html; charset=utf-8", "no-cache")
    assert s3.get_object(Bucket=bucket_name, Key="config.json")["Body"].read() == b'{"a": 1}'
    # The emulator has no website endpoint: the bucket's path-style URL stands in, and the
    # public-read policy lets an anonymous browser fetch the page from it.
    assert any("no website endpoint" in w for w in result.warnings)
    page_url = f"http://{result.outputs['websiteEndpoint']}/index.html"
    anonymous = requests.get(page_url, timeout=10)
    assert (anonymous.status_code, anonymous.text) == (200, "<h1>pets</h1>")
    assert (
        requests.get(f"http://{result.outputs['websiteEndpoint']}/other", timeout=10).status_code
        == 403
    )


# -- emulator: failures name what failed -----------------------------------------------------


def test_unsupported_type_fails_naming_type_and_name(factory: Callable, unique: str) -> None:
    def program() -> None:
        aws.cloudwatch.LogGroup("fine", name=f"/unsupported/{unique}")
        aws.sqs.Queue("jobs")

    with pytest.raises(ResourceError) as failure:
        apply_function(program, factory)
    assert str(failure.value).startswith("aws:sqs/queue:Queue 'jobs': resource type not supported")


def test_aws_error_names_type_name_and_aws_message(factory: Callable, unique: str) -> None:
    def program() -> None:
        aws.iam.RolePolicy(
            "orphan",
            name="orphan",
            role=f"no-such-role-{unique}",
            policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
                    ],
                }
            ),
        )

    with pytest.raises(ResourceError) as failure:
        apply_function(program, factory)
    error = failure.value
    assert (error.type, error.name) == ("aws:iam/rolePolicy:RolePolicy", "orphan")
    assert str(error).startswith(
        "aws:iam/rolePolicy:RolePolicy 'orphan': PutRolePolicy failed: NoSuchEntity"
    )
    assert f"no-such-role-{unique}" in str(error)  # AWS's message


def test_a_failure_stops_dependents_without_hanging(factory: Callable, unique: str) -> None:
    def program() -> None:
        aws.cloudwatch.LogGroup("independent", name=f"/independent/{unique}")
        broken = aws.iam.Role("broken", name=f"broken-{unique}", assume_role_policy="not json")
        policy = aws.iam.RolePolicy("dependent", role=broken.id, policy="{}")
        aws.cloudwatch.LogGroup(
            "after-dependent",
            name=f"/after/{unique}",
            opts=pulumi.ResourceOptions(depends_on=[policy]),
        )
        pulumi.export("role", broken.arn)

    started = time.perf_counter()
    with pytest.raises(
        ResourceError, match=r"aws:iam/role:Role 'broken': MalformedPolicyDocument"
    ) as failure:
        apply_function(program, factory, timeout=60)
    assert time.perf_counter() - started < 15
    created = {r.name for r in failure.value.resources}
    assert not created & {"broken", "dependent", "after-dependent"}
    groups = factory("logs").describe_log_groups(logGroupNamePrefix="/after/")["logGroups"]
    assert f"/after/{unique}" not in [g["logGroupName"] for g in groups]


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

    mocks_free = _no_aws_factory()
    with pytest.raises(ProgramRunError, match="did not finish within 2 s"):
        apply_function(program, mocks_free, timeout=2)


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


def test_deployment_of_an_api_without_methods_fails_as_on_aws(
    factory: Callable, unique: str
) -> None:
    def program() -> None:
        api = aws.apigateway.RestApi("api", name=f"empty-{unique}")
        aws.apigateway.Deployment("deployment", rest_api=api.id)

    with pytest.raises(
        ResourceError, match=r"Deployment 'deployment'.*doesn't contain any methods"
    ):
        apply_function(program, factory)


def test_program_errors_and_unsupported_invokes_are_reported(factory: Callable) -> None:
    def raises() -> None:
        raise ValueError("bad setting pets:stage")

    with pytest.raises(ProgramRunError, match="the program failed: ValueError: bad setting"):
        apply_function(raises, factory)

    def asks_for_zones() -> None:
        aws.get_availability_zones()

    with pytest.raises(ApplyError, match=r"invoke .*getAvailabilityZones.* not supported"):
        apply_function(asks_for_zones, factory)


# -- emulator: exports, config, isolation --------------------------------------------------


def test_exports_are_resolved_with_invokes_answered_by_the_target(
    factory: Callable, unique: str
) -> None:
    def program() -> None:
        group = aws.cloudwatch.LogGroup("logs", name=f"/exports/{unique}")
        identity = aws.get_caller_identity()
        pulumi.export("account", identity.account_id)
        pulumi.export("region", aws.get_region_output().region)
        pulumi.export("nested", {"names": [group.name], "arn": group.arn, "plain": 3})
        pulumi.export("secret", pulumi.Output.secret("s3cr3t"))
        pulumi.export("stage", pulumi.Config().require("stage"))

    result = apply_function(program, factory, config={"stage": "local"})
    account = _account(factory)
    assert result.outputs == {
        "account": account,
        "region": "us-east-1",
        "nested": {
            "names": [f"/exports/{unique}"],
            "arn": f"arn:aws:logs:us-east-1:{account}:log-group:/exports/{unique}",
            "plain": 3,
        },
        "secret": "s3cr3t",
        "stage": "local",
    }
    assert result.seconds > 0
    assert [(r.type, r.name, r.id) for r in result.resources] == [
        ("aws:cloudwatch/logGroup:LogGroup", "logs", f"/exports/{unique}"),
    ]


def test_successive_applies_do_not_see_each_other(factory: Callable, unique: str) -> None:
    def first() -> None:
        aws.cloudwatch.LogGroup("first", name=f"/first/{unique}")
        pulumi.export("flag", pulumi.Config().get("flag"))
        pulumi.export("onlyFirst", 1)

    def second() -> None:
        aws.cloudwatch.LogGroup("second", name=f"/second/{unique}")
        pulumi.export("flag", pulumi.Config().get("flag"))

    # The caller's own runtime context (e.g. mocked unit tests earlier in this process, which
    # leave their root stack set) must be exactly as it was before the applies.
    callers_root = pulumi.runtime.settings.get_root_resource()
    a = apply_function(first, factory, config={"flag": "on"})
    b = apply_function(second, factory)
    assert a.outputs == {"flag": "on", "onlyFirst": 1}
    assert b.outputs == {"flag": None}
    assert [r.name for r in b.resources] == ["second"]
    assert pulumi.runtime.settings.get_root_resource() is callers_root
    assert pulumi.runtime.get_config("pets:flag") is None


def test_apply_program_runs_a_folder_with_its_stack_config(
    factory: Callable, unique: str, tmp_path: Path
) -> None:
    program_dir = tmp_path / "program"
    write_handler(program_dir / "code")
    (program_dir / "Pulumi.yaml").write_text("name: pets\nruntime: python\n")
    (program_dir / "Pulumi.local.yaml").write_text(
        "config:\n  pets:prefix: from-file\n  pets:retention: 7\n  pets:limits:\n    burst: 40\n"
    )
    (program_dir / "naming.py").write_text(f"SUFFIX = {unique!r}\n")
    (program_dir / "__main__.py").write_text(
        textwrap.dedent("""
        from pathlib import Path

        import pulumi
        import pulumi_aws as aws
        from naming import SUFFIX

        config = pulumi.Config()
        group = aws.cloudwatch.LogGroup(
            "logs",
            name=f"/{config.require('prefix')}/{SUFFIX}",
            retention_in_days=config.require_int("retention"),
        )
        pulumi.export("group", group.name)
        pulumi.export("burst", config.require_object("limits")["burst"])
        # A relative path resolves against the program folder, as under the CLI.
        pulumi.export("codeFiles", sorted(p.name for p in Path("code").iterdir()))
        """)
    )
    cwd = os.getcwd()
    result = apply_program(program_dir, "local", factory, {"prefix": "overridden"})
    assert result.outputs == {
        "group": f"/overridden/{unique}",
        "burst": 40,
        "codeFiles": ["app.py", "lib"],
    }
    groups = factory("logs").describe_log_groups(logGroupNamePrefix=f"/overridden/{unique}")[
        "logGroups"
    ]
    assert groups[0]["retentionInDays"] == 7
    assert os.getcwd() == cwd
    assert "naming" not in sys.modules  # the program's own modules are forgotten afterwards


def test_the_real_program_applies_quickly(fresh_target: clients.Target) -> None:
    """The project's own programs on a fresh emulator: the app alone fails before creating
    anything, saying what to deploy first; the account baseline, then the app, apply."""
    factory = lambda s: clients.client(s, target=fresh_target)  # noqa: E731
    with pytest.raises(ProgramRunError, match=r"no IAM OIDC provider for http://127\.0\.0\.1:"
                                              r"9443 in this account: deploy the account "
                                              r"baseline") as refused:
        apply_program(REPO, "local", factory)
    assert refused.value.resources == []
    baseline, result = stack.apply_local(factory)
    print(f"\nbaseline: {len(baseline.resources)} resources in {baseline.seconds:.2f} s; "
          f"real program: {len(result.resources)} resources in {result.seconds:.2f} s")
    for warning in result.warnings:
        print(f"warning: {warning}")
    assert sorted(r.type for r in baseline.resources) == [
        "aws:apigateway/account:Account", "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
        "aws:iam/role:Role", "aws:iam/rolePolicyAttachment:RolePolicyAttachment"]
    assert {"apiUrl", "restApiId", "roles", "tableName"} <= set(result.outputs)
    assert result.outputs["apiUrl"].startswith(f"{fresh_target.endpoint_url}/_aws/execute-api/")
    # The brief's budget is 3 s on this machine; the bound leaves room for a busy CI host.
    assert result.seconds < 10


# -- helpers -------------------------------------------------------------------------------


def _account(factory: Callable) -> str:
    return str(factory("sts").get_caller_identity()["Account"])


def _signed_get(url: str, creds: dict[str, Any]) -> requests.Response:
    request = AWSRequest(method="GET", url=url)
    SigV4Auth(
        Credentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]),
        "execute-api",
        "us-east-1",
    ).add_auth(request)
    return requests.get(url, headers=dict(request.headers.items()), timeout=10)


class _FakeSts:
    """Enough of an STS client for Target.connect; any other call fails the test."""

    class meta:  # noqa: N801 - mirrors botocore's attribute name
        region_name = "us-east-1"
        endpoint_url = "http://127.0.0.1:1"

    def get_caller_identity(self) -> dict[str, str]:
        return {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:root", "UserId": "x"}


def _no_aws_factory() -> Callable[[str], Any]:
    return lambda service: _FakeSts() if service == "sts" else object()

"""Fakes for the deploy tool's tests: an AWS account behind botocore's Stubber (no request
leaves the process), stack exports, and stack configs in `pulumi config --json`'s shape."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from botocore.stub import Stubber

import access
from components.config import Settings
from components.naming import function_name, stack_prefix
from deploy.preflight import AccountClients
from harness_core.stack_files import stack_file_config

ROOT = Path(__file__).resolve().parents[2]
REGION = "eu-west-1"
ACCOUNT = "210987654321"
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
CERTIFICATE_ARN = (f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/"
                   "4f1c2b3a-1d2e-4f50-8a9b-0c1d2e3f4a5b")
CLOUDWATCH_ROLE = f"arn:aws:iam::{ACCOUNT}:role/account-apigateway-logs"
# A review stack as a team would deploy it: Pulumi.dev.yaml with its placeholders replaced.
REVIEW_ISSUER = "https://pets-shop-dev.eu.auth0.com/"
REVIEW_CLIENT_ID = "q8Vd2mXr4TzK1pLw"


def example_config(stack: str, **overrides: str | None) -> dict[str, str]:
    """An example stack file's config (as the CLI hands it over), keys overridden or removed."""
    raw = stack_file_config(ROOT / f"Pulumi.{stack}.yaml")
    for key, value in overrides.items():
        name = key if ":" in key else f"pets:{key}"
        if value is None:
            raw.pop(name, None)
        else:
            raw[name] = value
    return raw


def review_config() -> dict[str, str]:
    """Pulumi.dev.yaml with a real issuer and client id: what passes the placeholder check."""
    return example_config("dev", oidcIssuer=REVIEW_ISSUER, oidcClientId=REVIEW_CLIENT_ID)


def cli_config_json(raw: Mapping[str, str]) -> str:
    """`pulumi config --json --show-secrets`'s answer for these values."""
    return json.dumps({key: {"value": value, "secret": False} for key, value in raw.items()})


@dataclass
class FakeAccount:
    """Clients whose answers are queued on Stubbers: every call must be one the test expected
    (in order, per service), and `verify()` checks none was left unasked."""

    region: str = REGION
    clients: AccountClients = field(init=False)
    stubs: dict[str, Stubber] = field(init=False)

    def __post_init__(self) -> None:
        session = boto3.Session(aws_access_key_id="AKIAFAKE", aws_secret_access_key="fake",
                                region_name=self.region)
        self.clients = AccountClients(
            region=self.region,
            lambda_=session.client("lambda"),
            iam=session.client("iam"),
            apigateway=session.client("apigateway"),
            acm=session.client("acm", region_name="us-east-1"),
        )
        self.stubs = {name: Stubber(getattr(self.clients, name))
                      for name in ("lambda_", "iam", "apigateway", "acm")}
        for stub in self.stubs.values():
            stub.activate()

    def verify(self) -> None:
        for stub in self.stubs.values():
            stub.assert_no_pending_responses()

    # --- what the account answers ---

    def lambda_limits(self, limit: int, unreserved: int) -> None:
        self.stubs["lambda_"].add_response("get_account_settings", {"AccountLimit": {
            "ConcurrentExecutions": limit, "UnreservedConcurrentExecutions": unreserved}})

    def functions_reserve(self, stack: str, reserved: Mapping[str, int | None]) -> None:
        """GetFunctionConcurrency of each of the stack's functions, in access.ROUTES order:
        a number, None (no reservation) or absent from `reserved` (no such function yet)."""
        for route in access.ROUTES:
            name = function_name(stack_prefix(stack), route)
            if route.handler not in reserved:
                self.stubs["lambda_"].add_client_error(
                    "get_function_concurrency", "ResourceNotFoundException",
                    http_status_code=404, expected_params={"FunctionName": name})
                continue
            count = reserved[route.handler]
            answer = {} if count is None else {"ReservedConcurrentExecutions": count}
            self.stubs["lambda_"].add_response("get_function_concurrency", answer,
                                               {"FunctionName": name})

    def certificate(self, arn: str = CERTIFICATE_ARN, **fields: Any) -> None:
        certificate = {"CertificateArn": arn, "DomainName": "pets.shop.test",
                       "SubjectAlternativeNames": ["pets.shop.test"], "Status": "ISSUED",
                       "NotAfter": NOW + timedelta(days=90), **fields}
        self.stubs["acm"].add_response("describe_certificate", {"Certificate": certificate},
                                       {"CertificateArn": arn})

    def no_certificate(self, arn: str = CERTIFICATE_ARN) -> None:
        self.stubs["acm"].add_client_error("describe_certificate", "ResourceNotFoundException",
                                           http_status_code=400,
                                           expected_params={"CertificateArn": arn})

    def oidc_providers(self, providers: Mapping[str, Iterable[str]]) -> None:
        """{issuer URL without scheme: client ids}; the one asked about is read too."""
        arns = [f"arn:aws:iam::{ACCOUNT}:oidc-provider/{url}" for url in providers]
        self.stubs["iam"].add_response("list_open_id_connect_providers", {
            "OpenIDConnectProviderList": [{"Arn": arn} for arn in arns]})

    def oidc_provider_lists(self, url: str, client_ids: Iterable[str]) -> None:
        arn = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{url}"
        self.stubs["iam"].add_response("get_open_id_connect_provider", {
            "Url": url, "ClientIDList": list(client_ids), "ThumbprintList": []},
            {"OpenIDConnectProviderArn": arn})

    def api_gateway_account(self, cloudwatch_role: str | None = CLOUDWATCH_ROLE) -> None:
        answer = {"cloudwatchRoleArn": cloudwatch_role} if cloudwatch_role else {}
        self.stubs["apigateway"].add_response("get_account", answer)


def passing_account(settings: Settings, reserved_now: Mapping[str, int | None] | None = None,
                    without_api_gateway: bool = False) -> FakeAccount:
    """An account in which the stack deploys: a limit of 1,000 with nothing else reserved,
    the certificate (if any) issued for the domain, the baseline in place (API Gateway's
    answer left for the test to queue, if it says so)."""
    account = FakeAccount()
    reserved_now = reserved_now or {}
    if settings.reserved_concurrency:
        ours = sum(v or 0 for v in reserved_now.values())
        account.lambda_limits(1000, 1000 - ours)
        account.functions_reserve(settings.stack, reserved_now)
    if settings.site_certificate_arn:
        domain = settings.site_domain
        account.certificate(settings.site_certificate_arn, DomainName=domain,
                            SubjectAlternativeNames=[domain])
    url = settings.oidc_issuer.split("://", 1)[1]
    account.oidc_providers({url: [settings.oidc_client_id or "managed"]})
    if settings.oidc_client_id:
        account.oidc_provider_lists(url, ["another-stacks-client", settings.oidc_client_id])
    if not without_api_gateway:
        account.api_gateway_account()
    return account


# --- stack exports ---------------------------------------------------------------------

def urn(stack: str, typ: str, name: str) -> str:
    """As the engine names them: the deployment under the stage's component, the rest of the
    API under the API's (components/api_stage.py, components/api.py)."""
    component = "ApiStage" if typ == "aws:apigateway/deployment:Deployment" else "PetsApi"
    return f"urn:pulumi:{stack}::pets::pets:index:{component}${typ}::{name}"


def export_serving(methods: Iterable[str], stack: str = "review",
                   recorded_paths: bool = True) -> dict[str, Any]:
    """A `pulumi stack export` of a stack whose API has these methods (`GET /pets`, ...).

    With recorded_paths the provider's `path` output is there (as pulumi-aws records it);
    without, only `pathPart` and `parentId`, so the path must be rebuilt.
    """
    prefix = stack_prefix(stack)
    api, root = "a1b2c3d4e5", "rootid0001"
    resources: list[dict[str, Any]] = [
        {"urn": f"urn:pulumi:{stack}::pets::pulumi:pulumi:Stack::pets-{stack}",
         "type": "pulumi:pulumi:Stack", "custom": False},
        {"urn": urn(stack, "aws:apigateway/restApi:RestApi", f"{prefix}-api"),
         "type": "aws:apigateway/restApi:RestApi", "custom": True, "id": api,
         "outputs": {"id": api, "rootResourceId": root, "name": prefix}},
    ]
    ids = {"/": root}
    methods = sorted(methods)
    for path in sorted({m.split(" ", 1)[1] for m in methods}):
        parts = path.strip("/").split("/")
        for depth in range(1, len(parts) + 1):
            here = "/" + "/".join(parts[:depth])
            if here in ids:
                continue
            parent = "/" + "/".join(parts[:depth - 1])
            ids[here] = f"res{len(ids):04d}"
            outputs = {"id": ids[here], "parentId": ids[parent], "pathPart": parts[depth - 1],
                       "restApi": api}
            if recorded_paths:
                outputs["path"] = here
            resources.append({
                "urn": urn(stack, "aws:apigateway/resource:Resource",
                           f"{prefix}-resource{here.replace('/', '-')}"),
                "type": "aws:apigateway/resource:Resource", "custom": True, "id": ids[here],
                "inputs": {"parentId": ids[parent], "pathPart": parts[depth - 1],
                           "restApi": api},
                "outputs": outputs})
    for method in methods:
        verb, path = method.split(" ", 1)
        resources.append({
            "urn": urn(stack, "aws:apigateway/method:Method",
                       f"{prefix}-method-{verb.lower()}{path.replace('/', '-')}"),
            "type": "aws:apigateway/method:Method", "custom": True,
            "id": f"agm-{api}-{ids[path]}-{verb}",
            "inputs": {"httpMethod": verb, "resourceId": ids[path], "restApi": api},
            "outputs": {"httpMethod": verb, "resourceId": ids[path], "restApi": api}})
    resources.append({
        "urn": urn(stack, "aws:apigateway/deployment:Deployment", f"{prefix}-deployment"),
        "type": "aws:apigateway/deployment:Deployment", "custom": True, "id": "dep001",
        "outputs": {"id": "dep001", "restApi": api}})
    return {"version": 3, "deployment": {"manifest": {"version": "v3.200.0"},
                                         "resources": resources}}


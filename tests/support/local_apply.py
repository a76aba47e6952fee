"""What the local-apply tests (tests/devstack/apply, tests/unit/test_apply_*.py) build: a
handler folder and its zip, a target without AWS, mock-runtime arguments, and a SigV4-signed
GET for the APIs they deploy."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from devstack.apply.target import ApplyTarget
from tests.support.private import service_trust

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


def handler_zip(tmp_path: Path) -> Path:
    """write_handler, then zip_handler, under tmp_path/code."""
    return zip_handler(write_handler(tmp_path / "code"))


def handler_function(name: str, code: Path, **settings: Any) -> aws.lambda_.Function:
    """Inside a program: a role Lambda may assume and a python3.12 function running the
    handler zip `code` with it, both named `name`; `settings` are the function's others."""
    role = aws.iam.Role("fn-role", name=name, assume_role_policy=json.dumps(
        service_trust("lambda.amazonaws.com")))
    return aws.lambda_.Function("fn", name=name, runtime="python3.12", handler="app.handler",
                                role=role.arn, code=pulumi.FileArchive(str(code)), **settings)


def invoked(lam: Any, name: str) -> dict[str, Any]:
    """The body the handler answers when function `name` is invoked with `{}`."""
    answer = json.loads(lam.invoke(FunctionName=name, Payload=b"{}")["Payload"].read())
    return dict(json.loads(answer["body"]))


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


def account_of(factory: Callable[[str], Any]) -> str:
    return str(factory("sts").get_caller_identity()["Account"])


def signed_get(url: str, creds: dict[str, Any]) -> requests.Response:
    request = AWSRequest(method="GET", url=url)
    SigV4Auth(
        Credentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]),
        "execute-api",
        "us-east-1",
    ).add_auth(request)
    return requests.get(url, headers=dict(request.headers.items()), timeout=10)


class FakeSts:
    """Enough of an STS client for Target.connect; any other call fails the test."""

    class meta:  # noqa: N801 - mirrors botocore's attribute name
        region_name = "us-east-1"
        endpoint_url = "http://127.0.0.1:1"

    def get_caller_identity(self) -> dict[str, str]:
        return {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:root", "UserId": "x"}


def no_aws_factory() -> Callable[[str], Any]:
    """Clients for an apply that must make no AWS call but STS's identity."""
    return lambda service: FakeSts() if service == "sts" else object()

"""The Lambda handler called as API Gateway calls it (a REST proxy event, a context), for the
handlers suite (tests/handlers, whose conftest wires the moto tables). handlers/ is put on
sys.path here, flat, as the Lambda package has it."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

HANDLERS = Path(__file__).resolve().parents[2] / "handlers"
if str(HANDLERS) not in sys.path:
    sys.path.insert(0, str(HANDLERS))

import app  # noqa: E402 (handlers/ is on sys.path only from here)

ACCOUNT = "000000000000"
BUYER_ARN = f"arn:aws:sts::{ACCOUNT}:assumed-role/pets-test-buyer/bob"
ADMIN_ARN = f"arn:aws:sts::{ACCOUNT}:assumed-role/pets-test-admin/alice"
DAVE = {"sub": "github|dave", "email": "dave@example.com"}  # a second buyer's claims


@dataclass
class Context:
    function_name: str = "pets-test-fn"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:pets-test-fn"
    aws_request_id: str = "req-1"
    remaining_ms: int = 10_000  # the function's timeout, as Lambda starts it

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def event(method: str, path: str, body: Any = None, headers: dict | None = None,
          resource: str | None = None, path_parameters: dict | None = None,
          caller: str = BUYER_ARN, access_key: str = "ASIAEXAMPLEBOB") -> dict:
    """An API Gateway REST (v1) proxy event as AWS sends it."""
    path, _, query = path.partition("?")
    params = parse_qs(query, keep_blank_values=True)
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": headers or {},
        "multiValueHeaders": {k: [v] for k, v in (headers or {}).items()},
        "queryStringParameters": {k: v[-1] for k, v in params.items()} or None,
        "multiValueQueryStringParameters": params or None,
        "pathParameters": path_parameters,
        "requestContext": {
            "requestId": "apigw-req-1", "stage": "v1", "httpMethod": method, "path": f"/v1{path}",
            "identity": {"userArn": caller, "caller": "AROAEXAMPLE:bob",
                         "accessKey": access_key},
        },
        "body": body if body is None or isinstance(body, str) else json.dumps(body),
        "isBase64Encoded": False,
    }


def call(method: str, path: str, body: Any = None, context: Context | None = None,
         **kwargs: Any) -> tuple[int, Any, dict]:
    response = app.handler(event(method, path, body, **kwargs), context or Context())
    headers = {k: ",".join(v) for k, v in response.get("multiValueHeaders", {}).items()}
    return response["statusCode"], json.loads(response["body"]), headers


def add(kind: str = "dog", price: float = 100, **kwargs: Any) -> dict:
    status, pet, _ = call("POST", "/pets", {"type": kind, "price": price}, caller=ADMIN_ARN,
                          **kwargs)
    assert status == 201, pet
    return pet


def items(table) -> list[dict]:
    return table.scan(ConsistentRead=True)["Items"]


def purchase(pet_id: str, token: str | None) -> tuple[int, Any, dict]:
    headers = {"X-Id-Token": token} if token is not None else {}
    return call("POST", "/pets/purchase", {"petId": pet_id}, headers=headers)

"""Schemathesis drives the live local stack from openapi.json.

Every request is SigV4-signed with the session credentials of a class's role, obtained as
users obtain them (ID token from the identity provider, STS AssumeRoleWithWebIdentity):
- as a class the document lists in `x-pets-classes`, a few hundred cases per route, half
  fitting the schema and half not: nothing may answer 5xx, every status must be one the
  document lists for the route, every body must match the documented schema for it;
- as a class in `x-pets-denied-classes`: every answer must be 403, whatever the input.
The counts per route, class, mode and status go to test-artifacts/schemathesis-counts.json
and into the assertion messages.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import schemathesis
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import HealthCheck, Phase, given, reject, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from policy import openapi_doc
from tests.support.session_stack import Session, add_pet

pytestmark = pytest.mark.usefixtures("lambda_runs", "enforced")

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = schemathesis.openapi.from_path(ROOT / "openapi.json")
# The signature is SigV4's (the auth below), never a generated Authorization value: else
# negative mode spends most cases dropping it, which only shows that an unsigned call is
# 403 (tests/integration/test_authentication.py shows that), and never reaches validation.
SCHEMA.config.generation.update(with_security_parameters=False)
DOCUMENT = json.loads((ROOT / "openapi.json").read_text(encoding="utf-8"))
COUNTS_FILE = ROOT / "test-artifacts" / "schemathesis-counts.json"
CASES_PER_MODE = 150  # per route and mode: 300 per route as an allowed class
DENIED_CASES_PER_MODE = 50
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
# Headers the transport may change after signing; never signed.
_UNSIGNED = {"connection", "accept-encoding", "user-agent", "content-length", "accept"}


class SigV4(requests.auth.AuthBase):
    """Signs the request as sent, with a role session's credentials (service execute-api)."""

    def __init__(self, credentials: Mapping[str, Any], region: str):
        self._credentials = Credentials(credentials["AccessKeyId"],
                                        credentials["SecretAccessKey"],
                                        credentials.get("SessionToken"))
        self._region = region

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        headers = {k: v for k, v in request.headers.items()
                   if k.lower() not in _UNSIGNED and k.lower() != "authorization"
                   and not k.lower().startswith("x-amz-")}
        signed = AWSRequest(method=request.method, url=request.url, data=request.body,
                            headers=headers)
        SigV4Auth(self._credentials, "execute-api", self._region).add_auth(signed)
        for key in [k for k in request.headers if k.lower() == "authorization"]:
            del request.headers[key]
        request.headers.update(dict(signed.headers.items()))
        return request


def _operation(route_id: str) -> Any:
    method, path = route_id.split(" ", 1)
    for result in SCHEMA.get_all_operations():
        operation = result.ok()
        if operation.method.upper() == method and operation.path == path:
            return operation
    raise KeyError(route_id)


def _classes(route_id: str, key: str) -> list[str]:
    method, path = route_id.split(" ", 1)
    return DOCUMENT["paths"][path][method.lower()][key]


def _decimal_places(case: Any) -> Any:
    """Positive bodies also keep the document's x-maxDecimalPlaces (a rule schemathesis
    cannot know: it generates any float), else most would be refused with 400."""
    body = case.body
    schema = DOCUMENT["components"]["schemas"].get("NewPet", {})
    places = schema.get("properties", {}).get("price", {}).get("x-maxDecimalPlaces")
    if isinstance(body, dict) and isinstance(body.get("price"), float) and places is not None:
        body["price"] = max(round(body["price"], places), 10 ** -places)
    return case


def _emulator_can_authorize(case: Any) -> bool:
    """MiniStack 1.5.33 matches IAM's `*` with a regex `.*` without DOTALL
    (ministack/core/iam_evaluator.py), so a newline in a path parameter falls outside
    `DELETE/pets/*` and an allowed role is denied (AWS's `*` matches any character, as
    access.string_like does). Such paths are left out rather than their 403 accepted."""
    return not any("\n" in _text(v) for v in (case.path_parameters or {}).values())


def _text(value: Any) -> str:
    """A generated parameter as sent: negative cases may be bytes, whose str() is a repr."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def fuzz(route_id: str, session: Session, base_url: str, region: str, *, cases: int,
         mode: GenerationMode, check: Callable[[Any, Any], None], counts: Counter,
         label: str, headers: dict[str, str] | None = None, **fixed: Any) -> None:
    auth = SigV4(session.credentials, region)
    strategy = _operation(route_id).as_strategy(generation_mode=mode, headers=headers, **fixed)
    if mode is GenerationMode.POSITIVE:
        strategy = strategy.map(_decimal_places)
    strategy = strategy.filter(_emulator_can_authorize)

    connection = requests.Session()  # one keep-alive connection for the run, not one a case

    @settings(max_examples=cases, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate, Phase.shrink],
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case: Any) -> None:
        response = case.call(base_url=base_url, session=connection, auth=auth, timeout=60)
        if "%0A" in urlsplit(response.request.url).path.upper():
            # A newline got through after all (the generator spells parameters more ways than
            # the filter sees): what was sent decides. Counted, never checked.
            counts[f"left out, newline in path | {route_id} | {label} | {mode.value}"] += 1
            reject()
        counts[f"{route_id} | {label} | {mode.value} | {response.status_code}"] += 1
        check(case, response)

    with connection:
        run()


@pytest.fixture(scope="module")
def counts() -> Any:
    """Every answer the fuzzing got, written out once the module is done."""
    tally: Counter = Counter()
    yield tally
    COUNTS_FILE.parent.mkdir(exist_ok=True)
    COUNTS_FILE.write_text(json.dumps(dict(sorted(tally.items())), indent=2) + "\n")


def _summary(counts: Counter, route_id: str, label: str) -> str:
    mine = {k: v for k, v in counts.items() if k.startswith(f"{route_id} | {label} |")}
    return f"{sum(mine.values())} calls: " + ", ".join(f"{k.split(' | ', 2)[2]}: {v}"
                                                      for k, v in sorted(mine.items()))


ALLOWED = [(route, cls) for route in (f"{m.upper()} {p}" for p, item in DOCUMENT["paths"].items()
                                      for m in item)
           for cls in _classes(route, openapi_doc.CLASSES_KEY)[:1]]
DENIED = [(route, cls) for route in (f"{m.upper()} {p}" for p, item in DOCUMENT["paths"].items()
                                     for m in item)
          for cls in _classes(route, openapi_doc.DENIED_KEY)]


@pytest.mark.parametrize(("route_id", "user_class"), ALLOWED, ids=lambda v: v)
def test_allowed_class_gets_only_documented_answers(
        route_id: str, user_class: str, sessions: dict[str, Session], local: Any,
        counts: Counter):
    session = sessions[user_class]
    add_pet(sessions["admin"])  # a list has something to page through
    base_url, region = local.outputs["apiUrl"], local.outputs["region"]

    def conforms(case: Any, response: Any) -> None:
        case.validate_response(response, checks=CHECKS)

    def rejects(case: Any, response: Any) -> None:
        case.validate_response(response, checks=[*CHECKS, negative_data_rejection])

    # The purchase route needs a real ID token to get past 401; generated ones test the 401.
    token = {"X-Id-Token": session.token} if route_id == "POST /pets/purchase" else None
    for mode, check in ((GenerationMode.POSITIVE, conforms), (GenerationMode.NEGATIVE, rejects)):
        fuzz(route_id, session, base_url, region, cases=CASES_PER_MODE, mode=mode, check=check,
             counts=counts, label=user_class, headers=token)
    if route_id in ("DELETE /pets/{petId}", "POST /pets/purchase"):
        # Generated ids name no pet (404): real ones reach 200, then 404 or 409.
        for _ in range(3):
            pet_id = add_pet(sessions["admin"])["petId"]
            fixed = ({"path_parameters": {"petId": pet_id}} if route_id.startswith("DELETE")
                     else {"body": {"petId": pet_id}})
            for _ in range(2):
                fuzz(route_id, session, base_url, region, cases=1, mode=GenerationMode.POSITIVE,
                     check=conforms, counts=counts, label=user_class, headers=token, **fixed)
    summary = _summary(counts, route_id, user_class)
    total = sum(v for k, v in counts.items() if k.startswith(f"{route_id} | {user_class} |"))
    assert total >= CASES_PER_MODE, summary
    statuses = {int(k.rsplit(" | ", 1)[1]) for k in counts
                if k.startswith(f"{route_id} | {user_class} |")}
    assert any(200 <= s < 300 for s in statuses), f"no case succeeded: {summary}"
    assert any(400 <= s < 500 for s in statuses), f"no case was refused: {summary}"
    print(f"{route_id} as {user_class}: {summary}")


@pytest.mark.parametrize(("route_id", "user_class"), DENIED, ids=lambda v: v)
def test_denied_class_gets_403_only(route_id: str, user_class: str,
                                    sessions: dict[str, Session], local: Any, counts: Counter):
    session = sessions[user_class]
    base_url, region = local.outputs["apiUrl"], local.outputs["region"]

    def forbidden(case: Any, response: Any) -> None:
        # Status only: MiniStack answers an IAM denial without the DEFAULT_4XX body
        # (docs/security.md).
        assert response.status_code == 403, (
            f"{user_class} {route_id} answered {response.status_code}: {response.text[:200]}")

    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        fuzz(route_id, session, base_url, region, cases=DENIED_CASES_PER_MODE, mode=mode,
             check=forbidden, counts=counts, label=f"{user_class} (denied)")
    denied = _summary(counts, route_id, f"{user_class} (denied)")
    print(f"{route_id} as {user_class}: {denied}")

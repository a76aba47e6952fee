"""The functions' own checks and openapi.json cannot drift apart.

The document is read from openapi.json (what clients and the gateway are given) and
checked with an independent validator (openapi-schema-validator, i.e. jsonschema); the
functions check with handlers/shapes.py's `problems`. For every generated body and every
boundary case both must agree: accepted by the function exactly when the document's schema
(plus its one function-enforced extension, x-maxDecimalPlaces) accepts it. A schema change
without `make openapi`, or a handler rule the document does not state, fails here.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_schema_validator import OAS30Validator

import access
import shapes
import validation
from errors import BadRequest
from tests.support.api_document import DOC, SCHEMAS, documented_retry_after, documented_schema
from tests.support.handler_calls import add, call
from tests.support.signed_tokens import RSA_KEY, sign


def _places(value: Any) -> int:
    exponent = Decimal(str(value)).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def document_accepts(name: str, value: Any) -> bool:
    schema = SCHEMAS[name]
    if not OAS30Validator(schema).is_valid(value):
        return False
    # The one rule the functions add, declared in the document as x-maxDecimalPlaces.
    for key, sub in schema.get("properties", {}).items():
        places = sub.get("x-maxDecimalPlaces")
        if places is not None and isinstance(value, dict) and _places(value[key]) > places:
            return False
    return True


def function_accepts(check: Any, value: Any) -> bool:
    try:
        check(json.dumps(value))
    except BadRequest:
        return False
    return True


_text = st.one_of(
    st.text(max_size=70),
    st.text(alphabet=st.sampled_from(" \t\n\x00\x1f\x7f\x85\xa0\u3000dog"), max_size=66),
    st.sampled_from(["dog", "", " ", "  dog  ", "d" * 64, "d" * 65, " " + "d" * 63]),
)
_number = st.one_of(
    st.integers(min_value=-10, max_value=2_000_000),
    st.floats(allow_nan=False, allow_infinity=False),
    st.decimals(min_value=-1, max_value=1_000_001, places=3, allow_nan=False).map(float),
    st.sampled_from([0, 0.001, 0.01, 0.07, 1_000_000, 1_000_000.01, 1e-7, 10**30]),
)
_any = st.one_of(st.none(), st.booleans(), _text, _number, st.lists(st.integers(), max_size=2))
_uuid = st.one_of(
    st.uuids().map(str), st.uuids().map(lambda u: str(u).upper()),
    st.uuids().map(lambda u: str(u) + "\n"), st.uuids().map(lambda u: u.hex),
    st.uuids().map(lambda u: "{" + str(u) + "}"), st.text(max_size=40),
)


def _bodies(fields: dict[str, st.SearchStrategy]) -> st.SearchStrategy:
    optional = {k: st.one_of(v, _any) for k, v in fields.items()}
    return st.one_of(
        st.fixed_dictionaries({}, optional=optional),
        st.fixed_dictionaries(optional, optional={"owner": _any}),
        _any,
    )


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_bodies({"type": _text, "price": _number}))
def test_new_pet_function_and_document_agree(body):
    assert function_accepts(validation.new_pet, body) == document_accepts("NewPet", body), body


@settings(max_examples=800, deadline=None)
@given(_bodies({"petId": _uuid}))
def test_purchase_function_and_document_agree(body):
    assert function_accepts(validation.purchase, body) == document_accepts("Purchase", body), body


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.integers(min_value=-5, max_value=200).map(str), st.text(max_size=5)))
def test_limit_function_and_document_agree(raw):
    schema = next(p for p in DOC["paths"]["/pets"]["get"]["parameters"]
                  if p["name"] == "limit")["schema"]
    try:
        validation.page_request({"limit": [raw]})
        accepted = True
    except BadRequest:
        accepted = False
    # The document's integer, written as query parameters are: plain decimal digits.
    documented = raw.isascii() and raw.isdigit() and OAS30Validator(schema).is_valid(int(raw))
    assert accepted == documented, raw


BOUNDARIES = [
    ("NewPet", {"type": "d" * 64, "price": 1_000_000}, True),
    ("NewPet", {"type": "d" * 65, "price": 1}, False),
    ("NewPet", {"type": "dog", "price": 0.01}, True),
    ("NewPet", {"type": "dog", "price": 0}, False),
    ("NewPet", {"type": "dog", "price": 1_000_000.01}, False),
    ("NewPet", {"type": "dog", "price": 0.005}, False),
    ("NewPet", {"type": "dog\n", "price": 1}, False),
    ("NewPet", {"type": " ", "price": 1}, False),
    ("NewPet", {"type": "dog", "price": "1"}, False),
    ("NewPet", {"type": "dog", "price": True}, False),
    ("NewPet", {"type": "dog"}, False),
    ("NewPet", {"type": "dog", "price": 1, "owner": "me"}, False),
    ("Purchase", {"petId": shapes.EXAMPLE_PET_ID}, True),
    ("Purchase", {"petId": shapes.EXAMPLE_PET_ID.upper()}, True),
    ("Purchase", {"petId": shapes.EXAMPLE_PET_ID + "\n"}, False),
    ("Purchase", {"petId": shapes.EXAMPLE_PET_ID[:-1]}, False),
    ("Purchase", {}, False),
]


@pytest.mark.parametrize(("schema", "body", "valid"), BOUNDARIES)
def test_boundaries_and_examples_are_judged_alike(schema, body, valid):
    check = {"NewPet": validation.new_pet, "Purchase": validation.purchase}[schema]
    assert document_accepts(schema, body) is valid
    assert function_accepts(check, body) is valid


def test_the_documents_request_examples_are_accepted():
    for path, item in DOC["paths"].items():
        for method, op in item.items():
            media = op.get("requestBody", {}).get("content", {}).get("application/json")
            if media:
                name = media["schema"]["$ref"].rsplit("/", 1)[1]
                check = {"NewPet": validation.new_pet, "Purchase": validation.purchase}[name]
                assert function_accepts(check, media["example"]), f"{method} {path}"


def test_a_rule_only_the_function_knew_would_be_caught(monkeypatch):
    """Break the agreement once: the function refuses prices above 500, the document not."""
    monkeypatch.setitem(shapes.NEW_PET["properties"]["price"], "maximum", 500)
    body = {"type": "dog", "price": 600}
    assert function_accepts(validation.new_pet, body) != document_accepts("NewPet", body)


@pytest.mark.usefixtures("wired")
def test_every_answer_is_documented_and_matches_its_schema():
    """The functions' answers to good and bad requests, checked against the document."""
    pet = add()
    sold = add("cat", 10)
    key = {"Idempotency-Key": '"contract-1"'}
    requests = [
        (access.LIST_PETS, "GET", "/pets", None, {}),
        (access.LIST_PETS, "GET", "/pets", None, {"X-Id-Token": "garbage"}),
        (access.ADD_PET, "POST", "/pets", {"type": "dog", "price": 1.5}, {}),
        (access.ADD_PET, "POST", "/pets", {"type": "dog", "price": "1"}, {}),
        (access.ADD_PET, "POST", "/pets", {"type": "dog", "price": 2}, key),
        (access.ADD_PET, "POST", "/pets", {"type": "dog", "price": 2}, key),
        (access.ADD_PET, "POST", "/pets", {"type": "dog", "price": 3}, key),
        (access.PURCHASE_PET, "POST", "/pets/purchase", {"petId": sold["petId"]},
         {"X-Id-Token": sign(RSA_KEY)}),
        (access.PURCHASE_PET, "POST", "/pets/purchase", {"petId": sold["petId"]},
         {"X-Id-Token": sign(RSA_KEY)}),
        (access.PURCHASE_PET, "POST", "/pets/purchase", {"petId": sold["petId"]},
         {"X-Id-Token": sign(RSA_KEY, sub="github|dave")}),
        (access.PURCHASE_PET, "POST", "/pets/purchase", {"petId": pet["petId"]}, {}),
        (access.PURCHASE_PET, "POST", "/pets/purchase", {"petId": shapes.EXAMPLE_PET_ID},
         {"X-Id-Token": sign(RSA_KEY)}),
        (access.REMOVE_PET, "DELETE", f"/pets/{sold['petId']}", None, {}),
        (access.REMOVE_PET, "DELETE", f"/pets/{pet['petId']}", None, {}),
        (access.REMOVE_PET, "DELETE", f"/pets/{pet['petId']}", None, {}),
        (access.REMOVE_PET, "DELETE", "/pets/nope", None, {}),
        (access.LIST_PETS, "GET", "/pets", None, {}),
    ]
    statuses = set()
    for route, method, path, body, headers in requests:
        status, answer, sent = call(method, path, body, headers=headers, resource=route.path)
        errors = list(OAS30Validator(documented_schema(route, status)).iter_errors(answer))
        assert not errors, f"{route.id} {status}: {errors[0].message}"
        assert ("Retry-After" in sent) <= documented_retry_after(route, status), (
            f"{route.id} {status} sends Retry-After, which the document does not say")
        statuses.add(status)
    assert statuses == {200, 201, 400, 401, 404, 409, 422}

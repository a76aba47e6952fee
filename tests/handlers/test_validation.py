import json
from decimal import Decimal

import pytest

import validation
from errors import BadRequest


def body(**fields) -> str:
    return json.dumps(fields)


def test_new_pet_accepts_type_and_price():
    pet = validation.new_pet(body(type="  dog ", price=249.99))
    assert pet == validation.NewPet("dog", Decimal("249.99"))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (None, "must be a JSON object"),
        ("", "must be a JSON object"),
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        (body(price=10), "type is required"),
        (body(type="", price=10), "type must not be empty"),
        (body(type="   ", price=10), "type must be not blank"),
        (body(type="\u3000", price=10), None),  # only ASCII spaces are blank: kept as it is
        (body(type=7, price=10), "type must be a string"),
        (body(type="x" * 65, price=10), "at most 64"),
        (body(type="  dog  ", price=10), None),  # surrounding spaces are trimmed
        (body(type="dog\n", price=10), "control characters"),
        (body(type="d\x00og", price=10), "control characters"),
        (body(type="d\x85og", price=10), "control characters"),
        (body(type="dog"), "price is required"),
        (body(type="dog", price=0), "greater than 0"),
        (body(type="dog", price=-5), "greater than 0"),
        (body(type="dog", price="10"), "must be a number"),
        (body(type="dog", price=True), "must be a number"),
        (body(type="dog", price=None), "must be a number"),
        ('{"type": "dog", "price": NaN}', "not valid JSON"),
        ('{"type": "dog", "price": Infinity}', "not valid JSON"),
        (body(type="dog", price=10.001), "2 decimal places"),
        (body(type="dog", price=10_000_000), "at most"),
        (body(type="dog", price=1_000_000), None),
        (body(type="dog", price=0.01), None),
        (body(type="dog", price=10, owner="me"), "unknown field"),
        (json.dumps({"type": "d" * 9000, "price": 1}), "larger than"),
    ],
)
def test_new_pet_rejects_bad_bodies_with_a_message(raw, message):
    if message is None:
        assert validation.new_pet(raw).type in ("dog", "\u3000")
        return
    with pytest.raises(BadRequest, match=message):
        validation.new_pet(raw)


def test_purchase_needs_a_pet_id():
    pet_id = "0b4c1f7e-59a3-4f43-9d4c-3f7d7c0e2a11"
    assert validation.purchase(body(petId=pet_id.upper())) == pet_id
    with pytest.raises(BadRequest, match="petId is required"):
        validation.purchase(body())
    with pytest.raises(BadRequest, match="petId must be"):
        validation.purchase(body(petId="../etc"))
    with pytest.raises(BadRequest, match="petId must be"):
        validation.purchase(body(petId=123))


def test_purchase_refuses_a_uuid_with_a_trailing_newline():
    """Python's `$` matches before a final newline; the schema's patterns use none."""
    with pytest.raises(BadRequest, match="petId must be"):
        validation.purchase(body(petId="0b4c1f7e-59a3-4f43-9d4c-3f7d7c0e2a11\n"))
    with pytest.raises(BadRequest, match="petId must be"):
        validation.purchase(body(petId="0b4c1f7e-59a3-4f43-9d4c-3f7d7c0e2a111"))


@pytest.mark.parametrize(("params", "expected"), [
    (None, validation.PageRequest(50, None)),
    ({}, validation.PageRequest(50, None)),
    ({"limit": ["1"]}, validation.PageRequest(1, None)),
    ({"limit": ["100"]}, validation.PageRequest(100, None)),
    ({"other": ["x"]}, validation.PageRequest(50, None)),
])
def test_page_request_accepts_limits_from_1_to_100(params, expected):
    assert validation.page_request(params) == expected


@pytest.mark.parametrize("limit", ["0", "101", "-1", "+5", "5.0", "1e2", "", " 5", "abc",
                                   "99999999999999999999", "\u0665"])
def test_page_request_refuses_every_other_limit(limit):
    with pytest.raises(BadRequest, match="limit must be an integer from 1 to 100"):
        validation.page_request({"limit": [limit]})


def test_page_request_refuses_a_repeated_parameter():
    with pytest.raises(BadRequest, match="limit must be given at most once"):
        validation.page_request({"limit": ["1", "500"]})

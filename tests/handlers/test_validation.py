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
        (body(type="", price=10), "type is required"),
        (body(type="   ", price=10), "type is required"),
        (body(type=7, price=10), "type is required"),
        (body(type="x" * 65, price=10), "at most 64"),
        (body(type="dog\n", price=10), None),  # trailing whitespace is stripped: valid
        (body(type="d\x00og", price=10), "control characters"),
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
        (body(type="dog", price=10, owner="me"), "unknown field"),
        (json.dumps({"type": "d" * 9000, "price": 1}), "larger than"),
    ],
)
def test_new_pet_rejects_bad_bodies_with_a_message(raw, message):
    if message is None:
        assert validation.new_pet(raw).type == "dog"
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

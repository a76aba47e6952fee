"""The demo pets (devstack/demo_pets.py) and the warm-up `make up` does, on the session's stack:
seeding twice gives the same pets, `python -m devstack up` seeds, the stack devstack.stack.up
starts (the tests') holds none, and the warm-up call touches nothing.

Seeding here leaves no pet behind (the fixture removes every demo pet from the table), so the
other tests of the session see the stack as it started."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

import access
import devstack.__main__ as cli
from devstack import clients, demo_pets, live_matrix, stack
from devstack.demo_pets import DEMO_PETS, DemoPet
from devstack.errors import DevstackError
from devstack.idp import demo_users
from tests.support.session_stack import Local

# Seeding goes through the API: the functions must run (not on LocalStack community).
pytestmark = pytest.mark.usefixtures("lambda_runs")


def _pets(running: Any) -> list[dict[str, Any]]:
    """Every pet in the session stack's table, read with the deploy key."""
    return Local.of(running).table.items()


def _remove(running: Any, types: set[str]) -> None:
    table = clients.client("dynamodb", target=running.target)
    for pet in _pets(running):
        if pet["type"] in types:
            table.delete_item(TableName=running.outputs["tableName"],
                              Key={"petId": {"S": pet["petId"]}})


@pytest.fixture
def clean_shop(running_stack: Any) -> Iterator[Any]:
    """The session's stack; every demo pet (and test pet below) is removed afterwards."""
    yield running_stack
    _remove(running_stack, {p.type for p in DEMO_PETS} | {p.type for p in TEST_PETS})


@pytest.fixture(scope="module")
def logins(running_stack: Any) -> dict[str, live_matrix.Login]:
    return live_matrix.log_in_everyone(running_stack.outputs, target=running_stack.target,
                                       idp=running_stack.idp)


# The demo pets' shape under names of this test's own: keys no other seeding has used.
_RUN = uuid.uuid4().hex[:8]
TEST_PETS = tuple(DemoPet(f"{p.type} {_RUN}", p.price, p.buyer) for p in DEMO_PETS)


def test_every_demo_pet_has_its_own_key_and_a_buyer_who_may_buy() -> None:
    assert len({p.key for p in DEMO_PETS}) == len(DEMO_PETS)
    assert any(p.buyer for p in DEMO_PETS) and not all(p.buyer for p in DEMO_PETS)
    users, classes = demo_users.users(), live_matrix.stack_classes()
    for pet in DEMO_PETS:
        if pet.buyer:
            user = users[pet.buyer]
            granted = access.classes_of(access.TokenClaims(user.login, user.sub), classes)
            assert any(c.name in granted and c.may_call(access.PURCHASE_PET) for c in classes)


def test_the_stack_the_tests_start_holds_no_demo_pet(running_stack: Any) -> None:
    demo_types = {p.type for p in DEMO_PETS}
    assert not [p for p in _pets(running_stack) if p["type"] in demo_types]


def test_seeding_twice_gives_the_same_pets(clean_shop: Any,
                                           logins: dict[str, live_matrix.Login]) -> None:
    first = demo_pets.seed(clean_shop.outputs, logins, TEST_PETS)
    # Logged in again, as a second `devstack seed` would be: new STS sessions, same users.
    relogged = live_matrix.log_in_everyone(clean_shop.outputs, target=clean_shop.target,
                                           idp=clean_shop.idp)
    again = demo_pets.seed(clean_shop.outputs, relogged, TEST_PETS)
    assert [p["petId"] for p in again] == [p["petId"] for p in first]
    assert again == first  # the same answers: types, prices, createdAt, the sale
    stored = [p for p in _pets(clean_shop) if p["type"] in {t.type for t in TEST_PETS}]
    assert sorted(p["petId"] for p in stored) == sorted(p["petId"] for p in first)
    by_type = {p["type"]: p for p in stored}
    for pet in TEST_PETS:
        held = by_type[pet.type]
        assert float(held["price"]) == pet.price
        buyer = demo_users.users()[pet.buyer].sub if pet.buyer else None
        assert held.get("buyerSub") == buyer


def test_seeding_as_a_buyer_is_refused_by_the_api(clean_shop: Any,
                                                  logins: dict[str, live_matrix.Login]) -> None:
    bob = logins["bob"]
    # bob's buyer credentials, passed off as an admin's: the API, not the seeder, refuses.
    posing = live_matrix.Login("bob", bob.id_token, {"admin": bob.credentials["buyer"]})
    with pytest.raises(DevstackError, match=r"adding the demo pet .* as bob: the API answered "
                                            r"403, not 201"):
        demo_pets.seed(clean_shop.outputs, {"bob": posing}, TEST_PETS[:1])
    assert not [p for p in _pets(clean_shop) if p["type"] == TEST_PETS[0].type]


def test_seeding_needs_someone_who_may_add_pets(logins: dict[str, live_matrix.Login],
                                                running_stack: Any) -> None:
    buyers = {k: v for k, v in logins.items() if k != "alice"}
    with pytest.raises(DevstackError, match=r"no demo user holds a class role that may call "
                                            r"POST /pets"):
        demo_pets.seed(running_stack.outputs, buyers, TEST_PETS)


def test_the_cli_up_seeds_the_demo_pets(clean_shop: Any, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str],
                                        tmp_path: Any) -> None:
    """`python -m devstack up` as `make up` runs it, on the session's stack (stack.up itself
    is what the other tests cover): the matrix, then the demo pets, printed and stored."""
    asked: dict[str, Any] = {}
    monkeypatch.setattr(stack, "up", lambda **kwargs: asked.update(kwargs) or clean_shop)
    monkeypatch.setattr(stack, "TIMINGS_FILE", tmp_path / "up-timings.json")
    assert cli.main(["up"]) == 0
    assert asked["warm"] is True and asked["in_memory"] is True
    printed = capsys.readouterr().out
    assert ("Demo pets in the shop: tortoise 180 (sold to dave@example.com), goldfish 4.99"
            in printed)
    stored = {p["type"]: p for p in _pets(clean_shop)}
    assert {p.type for p in DEMO_PETS} <= set(stored)
    assert stored["tortoise"]["buyerSub"] == demo_users.users()["dave"].sub
    assert "seed" in (tmp_path / "up-timings.json").read_text()


def test_the_warm_up_call_reaches_every_function_and_changes_nothing(running_stack: Any
                                                                     ) -> None:
    if running_stack.apply is None:
        pytest.skip("a reused stack (PETS_USE_RUNNING_STACK=1) has no apply record")
    before = _pets(running_stack)
    functions = [r.id for r in running_stack.apply.resources if r.type == stack.FUNCTION_TYPE]
    assert len(functions) == len(access.ROUTES)
    lam = clients.client("lambda", target=running_stack.target)
    for name in functions:
        stack.warm_up(lam, name)
        answer = lam.invoke(FunctionName=name, Payload=json.dumps(stack.WARM_UP_EVENT))
        assert json.loads(answer["Payload"].read())["statusCode"] == 404, name
    assert _pets(running_stack) == before


def test_a_function_that_fails_its_warm_up_is_named() -> None:
    class FailingLambda:
        def invoke(self, **_: Any) -> dict[str, Any]:
            return {"FunctionError": "Unhandled",
                    "Payload": io.BytesIO(b'{"errorMessage": "No module named app"}')}

    with pytest.raises(DevstackError, match=r"function pets-x failed its first call: .*No module"):
        stack.warm_up(FailingLambda(), "pets-x")

"""The demo pets `python -m devstack up` (`make up`) puts in the shop, so that a buyer who
logs in has something to try: added by the demo admin and one of them bought by a demo
buyer, through the API, as the site does it.

Through the API rather than written to the table with the deploy key: the pets are exactly
what the API stores (its validation, its item shape, the list index's attributes, the buyer
taken from a verified ID token), and the shop's write paths run once on every `make up`.
That costs about 0.1 s, because `up` seeds after the access matrix: the functions are warm
and the matrix's logins are reused.

Seeding the same stack again gives the same pets, never a second copy:
- each add sends its own fixed Idempotency-Key together with the admin's ID token, so the
  key is the admin's (the API scopes keys by the token's subject, not by the STS session,
  which is new at every login), and the API answers a repeated add with its first answer
  for 24 hours (handlers/idempotency.py);
- a purchase repeated by its buyer answers that same sale (handlers/pet_store.py).
`make up` starts from an empty emulator anyway. devstack.stack.up never seeds, so the test
suite's stacks start empty.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import access
from devstack import calls
from devstack.errors import DevstackError
from devstack.live_matrix import Login, api_of
from handlers import idempotency


@dataclass(frozen=True)
class DemoPet:
    type: str
    price: float
    buyer: str | None = None  # the demo user (devstack/idp/users.json) who bought it

    @property
    def key(self) -> str:
        """Its Idempotency-Key: the same pet, the same key, at every seeding."""
        return f"demo-pet-{self.type.replace(' ', '-')}"


# Varied types and prices; dave bought the tortoise, so bob (also a buyer) sees a sold pet
# and dave sees the one he bought.
DEMO_PETS: tuple[DemoPet, ...] = (
    DemoPet("tortoise", 180, buyer="dave"),
    DemoPet("goldfish", 4.99),
    DemoPet("lop-eared rabbit", 60),
    DemoPet("budgerigar", 35.5),
    DemoPet("tabby cat", 120),
    DemoPet("beagle puppy", 249.99),  # added last: the first in the list (newest first)
)


def _api_for(route: access.Route, who: Login, outputs: Mapping[str, Any]) -> calls.Api | None:
    """The API signed with a class role `who` holds that may call `route`, if any."""
    for user_class in access.USER_CLASSES:
        if user_class.may_call(route) and user_class.name in who.credentials:
            return api_of(outputs, who.credentials[user_class.name])
    return None


def _answer(response: Any, expected: int, what: str) -> dict[str, Any]:
    if response.status_code != expected:
        raise DevstackError(f"{what}: the API answered {response.status_code}, not "
                            f"{expected}: {response.text[:300]}")
    return dict(response.json())


def seed(outputs: Mapping[str, Any], logins: Mapping[str, Login],
         pets: Sequence[DemoPet] = DEMO_PETS) -> list[dict[str, Any]]:
    """Adds `pets` as the first demo user whose class may add pets, and has each pet with a
    buyer bought by that demo user; returns the pets as the API answered (the admin's view,
    or the buyer's for a bought one).

    logins: live_matrix.log_in_everyone's answer (every demo user, logged in)."""
    adders = [(who, api) for who in logins.values()
              if (api := _api_for(access.ADD_PET, who, outputs)) is not None]
    if not adders:
        raise DevstackError(f"no demo user holds a class role that may call {access.ADD_PET.id}, "
                            "so nobody can add the demo pets (devstack/idp/users.json, "
                            "Pulumi.local.yaml's userClasses)")
    admin, shop = adders[0]
    seeded = []
    for pet in pets:
        added = _answer(shop.call(access.ADD_PET.method, access.ADD_PET.path,
                                  json={"type": pet.type, "price": pet.price},
                                  headers={idempotency.HEADER: pet.key,
                                           "X-Id-Token": admin.id_token}),
                        201, f"adding the demo pet {pet.type} as {admin.login}")
        if pet.buyer is not None:
            added = _buy(outputs, logins, pet, added["petId"])
        seeded.append(added)
    return seeded


def _buy(outputs: Mapping[str, Any], logins: Mapping[str, Login], pet: DemoPet,
         pet_id: str) -> dict[str, Any]:
    buyer = logins.get(pet.buyer or "")
    api = _api_for(access.PURCHASE_PET, buyer, outputs) if buyer else None
    if buyer is None or api is None:
        raise DevstackError(f"demo pet {pet.type}: its buyer {pet.buyer!r} is not a demo user "
                            f"holding a class role that may call {access.PURCHASE_PET.id}")
    return _answer(api.call(access.PURCHASE_PET.method, access.PURCHASE_PET.path,
                            json={"petId": pet_id}, headers={"X-Id-Token": buyer.id_token}),
                   200, f"{buyer.login} buying the demo pet {pet.type}")

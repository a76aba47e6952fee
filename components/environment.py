"""What the route functions are told by environment that comes from the access model: pure
functions of plain values, like components/policies.py, so a unit test reads them without
Pulumi and the handlers' tests give their functions the very same values."""

from __future__ import annotations

import json
from collections.abc import Iterable

import access
from components.naming import class_role_name


def pet_readers(prefix: str, classes: Iterable[access.UserClass],
                fields: tuple[access.PetField, ...] = access.PET_FIELDS) -> str:
    """PET_READERS (handlers/readers.py): per class role, by its name, the pet fields the
    class reads; what every class reads (for any other caller); what a pet's own buyer
    reads besides."""
    every = [f.name for f in fields if access.EVERY_CLASS in f.readers]
    return json.dumps({
        "roles": {class_role_name(prefix, c): list(access.readable_fields(c.name, fields=fields))
                  for c in classes},
        "anyone": every,
        "ownPurchase": [f.name for f in fields if f.buyer_reads],
    }, sort_keys=True, separators=(",", ":"))

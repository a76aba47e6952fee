"""What the caller may read of a pet: access.PET_FIELDS, as the program hands it over.

The rules come by environment (PET_READERS, written by components/environment.py from
access.py), as JSON:

    {"roles": {"pets-prod-admin": [fields...], "pets-prod-buyer": [fields...]},
     "anyone": [fields every class reads],
     "ownPurchase": [fields the pet's own buyer reads as well]}

- The caller's class is the role API Gateway authenticated with SigV4: the role-name part of
  `requestContext.identity.userArn` (`arn:aws:sts::<account>:assumed-role/<role>/<session>`),
  in the function's own account. IAM decided that role from the class's trust policy. The
  session name is chosen by the client, so it is never read. An ARN of any other shape, or
  of another account, reads what every class reads, nothing more.
- The buyer is the subject of a verified ID token (X-Id-Token), never anything the client
  states: a pet whose `buyerSub` is that subject shows its `ownPurchase` fields too.

Stdlib only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ENV = "PET_READERS"


@dataclass(frozen=True)
class Reader:
    fields: frozenset[str]  # what the caller's class reads of every pet
    own_purchase: frozenset[str]  # what they read, besides, of a pet they bought
    sub: str | None = None  # the verified ID token's subject, if one was sent

    def view(self, pet: Mapping[str, Any]) -> dict[str, Any]:
        """The pet with only the fields this caller may read."""
        fields = self.fields
        if self.sub is not None and pet.get("buyerSub") == self.sub:
            fields = fields | self.own_purchase
        return {k: v for k, v in pet.items() if k in fields}


@dataclass(frozen=True)
class Rules:
    roles: Mapping[str, frozenset[str]]
    anyone: frozenset[str]
    own_purchase: frozenset[str]

    @classmethod
    def parse(cls, text: str) -> Rules:
        try:
            raw = json.loads(text)
            return cls(
                {role: frozenset(fields) for role, fields in raw["roles"].items()},
                frozenset(raw["anyone"]), frozenset(raw["ownPurchase"]))
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise RuntimeError(f"{ENV} is not the program's read rules ({err!r})") from None

    @classmethod
    def from_environment(cls) -> Rules:
        return cls.parse(os.environ[ENV])

    def reader(self, user_arn: str | None, account: str | None, sub: str | None) -> Reader:
        role = role_of(user_arn, account)
        fields = self.roles.get(role, self.anyone) if role is not None else self.anyone
        return Reader(fields, self.own_purchase, sub)


def role_of(user_arn: str | None, account: str | None) -> str | None:
    """The role name of an assumed-role session ARN of `account`, else None."""
    if not user_arn or not account:
        return None
    parts = user_arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "sts" or parts[4] != account:
        return None
    kind, _, rest = parts[5].partition("/")
    role, _, session = rest.partition("/")
    if kind != "assumed-role" or not role or not session or "/" in session:
        return None
    return role


def account_of(function_arn: str | None) -> str | None:
    """The account of `arn:aws:lambda:<region>:<account>:function:<name>`."""
    parts = (function_arn or "").split(":")
    return parts[4] if len(parts) >= 7 and parts[2] == "lambda" and parts[4] else None

"""The two request shapes the theorems range over, as z3 variables, and back to concrete ones.

- execute-api:Invoke of an API by a role session (or by anyone else, or nobody): the resource
  ARN, the caller, `aws:PrincipalArn`, `aws:SecureTransport`.
- STS AssumeRoleWithWebIdentity with an ID token (and sts:TagSession when it carries session
  tags): the provider (from the token's issuer), `<issuer>:aud`, `:sub`, `:amr`, the session tags
  (`aws:RequestTag/<key>`, `aws:TagKeys`).

Each shape knows its condition keys; a policy naming any other key fails closed (encoding.py
key_table). `Concrete*` are the same requests with values, as a witness prints them and the
replay (prover/replay.py) sends them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import z3

from prover import encoding
from prover.encoding import ANY, KeyValue, RequestPrincipal, SymbolicRequest, concat, literal
from prover.fragment import Policy

INVOKE = "execute-api:Invoke"
ASSUME = "sts:AssumeRoleWithWebIdentity"
TAG_SESSION = "sts:TagSession"
OIDC_CLAIMS = ("aud", "sub", "amr")  # the provider's keys the fragment knows
TAG_PREFIX = "aws:requesttag/"
# STS role session names: 2-64 of [\w+=,.@-].
SESSION_NAME = z3.Union(z3.Range("a", "z"), z3.Range("A", "Z"), z3.Range("0", "9"),
                        *[literal(c) for c in "_+=,.@-"])
# Session tag keys and values as STS accepts them (letters, digits, spaces and _.:/=+-@).
TAG_CHAR = z3.Union(
    z3.Range("a", "z"), z3.Range("A", "Z"), z3.Range("0", "9"), *[literal(c) for c in " _.:/=+-@"])
_counter = itertools.count()


def _fresh(name: str) -> z3.SeqRef:
    return z3.String(f"{name}!{next(_counter)}")


def session_arn_regex(role_arn: str) -> z3.ReRef:
    """`arn:aws:sts::<acct>:assumed-role/<name>/<session>` of this role, as STS names them."""
    prefix, _, name = role_arn.partition(":role/")
    partition_and_account = prefix.split(":iam::", 1)
    return concat(literal(f"{partition_and_account[0]}:sts::{partition_and_account[1]}:"
                          f"assumed-role/{name.rsplit('/', 1)[-1]}/"),
                  z3.Loop(SESSION_NAME, 2, 64))


# --- execute-api:Invoke -----------------------------------------------------------------------


@dataclass(frozen=True)
class ConcreteInvoke:
    resource: str
    principal: str | None  # None: anonymous
    principal_arn: str | None  # the aws:PrincipalArn value given (None: absent)
    secure_transport: str

    def describe(self) -> str:
        who = "an anonymous caller" if self.principal is None else self.principal
        arn = "" if self.principal_arn in (None, self.principal) else (
            f" (aws:PrincipalArn {self.principal_arn})")
        return f"{who}{arn} invoking {self.resource}"


@dataclass
class InvokeVars:
    resource: z3.SeqRef
    principal: z3.SeqRef
    anonymous: z3.BoolRef
    principal_arn: z3.SeqRef
    secure_transport: z3.SeqRef
    constraints: list[z3.BoolRef]
    request: SymbolicRequest = field(init=False)

    def __post_init__(self) -> None:
        self.request = SymbolicRequest(INVOKE, self.resource,
                                       RequestPrincipal(self.principal, self.anonymous),
                                       encoding.key_table(self.keys()))

    def keys(self) -> dict[str, KeyValue]:
        return {"aws:PrincipalArn": KeyValue.single(z3.Not(self.anonymous), self.principal_arn),
                "aws:SecureTransport": KeyValue.single(True, self.secure_transport)}

    def strings(self) -> list[z3.SeqRef]:
        return [self.resource, self.principal, self.principal_arn]

    def concrete(self, model: z3.ModelRef) -> ConcreteInvoke:
        def value(v: z3.SeqRef) -> str:
            return model.eval(v, model_completion=True).as_string()

        anonymous = z3.is_true(model.eval(self.anonymous, model_completion=True))
        return ConcreteInvoke(value(self.resource), None if anonymous else value(self.principal),
                              None if anonymous else value(self.principal_arn),
                              value(self.secure_transport))


def _invoke_vars() -> tuple[z3.SeqRef, ...]:
    return (_fresh("resource"), _fresh("principal"), _fresh("principalArn"),
            _fresh("secureTransport"))


def _common(resource: z3.SeqRef, resource_space: z3.ReRef, secure: z3.SeqRef
            ) -> list[z3.BoolRef]:
    return [z3.InRe(resource, resource_space),
            z3.Or(secure == z3.StringVal("true"), secure == z3.StringVal("false"))]


def invoke_by_session(role_arn: str, resource_space: z3.ReRef) -> InvokeVars:
    """A session of `role_arn` invoking any ARN of `resource_space`.

    aws:PrincipalArn is the role's ARN (AWS) or the session's own ARN (what MiniStack gives):
    a theorem must hold under both.
    """
    resource, principal, principal_arn, secure = _invoke_vars()
    constraints = [
        *_common(resource, resource_space, secure),
        z3.InRe(principal, session_arn_regex(role_arn)),
        z3.Or(principal_arn == z3.StringVal(role_arn), principal_arn == principal),
    ]
    return InvokeVars(resource, principal, z3.BoolVal(False), principal_arn, secure, constraints)


def invoke_by_others(excluded_roles: Sequence[str], mentioned_roles: Iterable[str],
                     resource_space: z3.ReRef) -> InvokeVars:
    """Anyone but the sessions of `excluded_roles` (another role's session, a user, a service,
    an anonymous caller) invoking any ARN of `resource_space`.

    The caller is any printable string and aws:PrincipalArn any ARN, tied together where it
    matters: a session of a role some policy names has that role's ARN or its own as
    aws:PrincipalArn, and a caller that is no role session is its own aws:PrincipalArn.
    """
    resource, principal, principal_arn, secure = _invoke_vars()
    anonymous = z3.Bool(f"anonymous!{next(_counter)}")
    any_session = concat(literal("arn:"), z3.Star(encoding.NOT_COLON),
                         literal(":sts::"), encoding.ACCOUNT, literal(":assumed-role/"),
                         z3.Star(ANY))
    constraints = [
        *_common(resource, resource_space, secure),
        encoding.universe(principal),
        z3.Implies(z3.Not(anonymous), z3.InRe(principal_arn, encoding.PRINCIPAL_ARN)),
        z3.Implies(anonymous, z3.And(principal == z3.StringVal(""),
                                     principal_arn == z3.StringVal(""))),
        z3.Implies(z3.Not(z3.InRe(principal, any_session)), principal_arn == principal),
    ]
    for role in excluded_roles:
        sessions = encoding.role_sessions(role)
        constraints += [principal != z3.StringVal(role), principal_arn != z3.StringVal(role)]
        if sessions is not None:
            constraints += [z3.Not(z3.InRe(principal, sessions)),
                            z3.Not(z3.InRe(principal_arn, sessions))]
    for role in set(mentioned_roles) - set(excluded_roles):
        sessions = encoding.role_sessions(role)
        if sessions is not None:
            constraints.append(z3.Implies(
                z3.InRe(principal, sessions),
                z3.Or(principal_arn == z3.StringVal(role), principal_arn == principal)))
    return InvokeVars(resource, principal, anonymous, principal_arn, secure, constraints)


# --- STS AssumeRoleWithWebIdentity ------------------------------------------------------------


@dataclass(frozen=True)
class ConcreteToken:
    """A token as STS sees it: the provider it came from and the claims IAM can read."""

    provider_arn: str
    aud: str
    sub: str
    amr: tuple[str, ...] | None
    tags: tuple[tuple[str, str], ...]  # (key as spelled in the token, value)

    @property
    def provider_path(self) -> str:
        return self.provider_arn.split(":oidc-provider/", 1)[-1]

    def describe(self) -> str:
        parts = [f"sub {self.sub!r}", f"aud {self.aud!r}", f"issuer {self.provider_path}"]
        if self.amr is not None:
            parts.append(f"amr {list(self.amr)}")
        if self.tags:
            parts.append("session tags " + ", ".join(f"{k}={v!r}" for k, v in self.tags))
        return "a token with " + ", ".join(parts)

    def context(self) -> dict[str, str | list[str]]:
        """The condition keys STS gives a trust policy for this token."""
        context: dict[str, str | list[str]] = {f"{self.provider_path}:aud": self.aud,
                                               f"{self.provider_path}:sub": self.sub}
        if self.amr is not None:
            context[f"{self.provider_path}:amr"] = list(self.amr)
        if self.tags:
            context |= {f"aws:RequestTag/{k}": v for k, v in self.tags}
            context["aws:TagKeys"] = [k for k, _ in self.tags]
        return context


@dataclass
class TagVars:
    present: z3.BoolRef
    key: z3.SeqRef  # the key as the token spells it
    value: z3.SeqRef


@dataclass
class TokenVars:
    provider_arn: str
    aud: z3.SeqRef
    sub: z3.SeqRef
    amr_present: z3.BoolRef
    amr: list[tuple[z3.BoolRef, z3.SeqRef]]
    named_tags: dict[str, TagVars]  # by lower-cased key: the tag keys some policy or rule names
    other_tags: list[TagVars]
    constraints: list[z3.BoolRef]

    @property
    def tags(self) -> list[TagVars]:
        return [*self.named_tags.values(), *self.other_tags]

    @property
    def tagged(self) -> z3.BoolRef:
        """The token carries session tags: STS then also asks for sts:TagSession."""
        return z3.Or(*[t.present for t in self.tags])

    def tag(self, key: str) -> TagVars:
        return self.named_tags[key.lower()]

    def keys(self, policy_keys: Iterable[str]) -> dict[str, KeyValue]:
        path = self.provider_arn.split(":oidc-provider/", 1)[-1].lower()
        table: dict[str, KeyValue] = {}
        for key in policy_keys:
            lower = key.lower()
            prefix, _, claim = lower.rpartition(":")
            if lower.startswith(TAG_PREFIX):
                tag = self.named_tags[lower.removeprefix(TAG_PREFIX)]
                table[lower] = KeyValue.single(tag.present, tag.value)
            elif lower == "aws:tagkeys":
                table[lower] = KeyValue(self.tagged, tuple((t.present, t.key)
                                                           for t in self.tags), multi=True)
            elif claim in OIDC_CLAIMS and prefix and not lower.startswith("aws:"):
                if prefix != path:  # another provider's key: never in this request
                    table[lower] = KeyValue.single(False, "")
                elif claim == "amr":
                    table[lower] = KeyValue(self.amr_present, tuple(self.amr), multi=True)
                else:
                    table[lower] = KeyValue.single(True, self.aud if claim == "aud" else self.sub)
        return table

    def requests(self, policy_keys: Iterable[str]) -> tuple[SymbolicRequest, SymbolicRequest]:
        """(AssumeRoleWithWebIdentity, TagSession) by the provider with this token."""
        principal = RequestPrincipal(z3.StringVal(self.provider_arn), z3.BoolVal(False))
        keys = encoding.key_table(self.keys(policy_keys))
        return (SymbolicRequest(ASSUME, None, principal, keys),
                SymbolicRequest(TAG_SESSION, None, principal, keys))

    def concrete(self, model: z3.ModelRef) -> ConcreteToken:
        def value(v: z3.SeqRef) -> str:
            return model.eval(v, model_completion=True).as_string()

        def true(b: z3.BoolRef) -> bool:
            return z3.is_true(model.eval(b, model_completion=True))

        amr = (tuple(dict.fromkeys(value(v) for m, v in self.amr if true(m)))
               if true(self.amr_present) else None)
        tags = tuple((value(t.key), value(t.value)) for t in self.tags if true(t.present))
        return ConcreteToken(self.provider_arn, value(self.aud), value(self.sub), amr, tags)


def token_vars(provider_arn: str, *, tag_keys: Iterable[str], amr_slots: int,
               other_tag_slots: int) -> TokenVars:
    """Any token from `provider_arn`: every aud and sub, any amr list, any session tags.

    tag_keys: the tag keys policies or membership rules name (each gets its own variables);
    other_tag_slots: how many more tags may be told apart (one per ForAnyValue condition on
    aws:TagKeys, plus one), all differing from the named keys.
    """
    named = sorted({k.lower() for k in tag_keys})
    constraints: list[z3.BoolRef] = []
    aud, sub = _fresh("aud"), _fresh("sub")
    constraints += [encoding.universe(aud), encoding.universe(sub)]
    amr = [(z3.Bool(f"amrIn!{next(_counter)}"), _fresh("amr")) for _ in range(amr_slots)]
    constraints += [encoding.universe(v) for _, v in amr]
    amr_present = z3.Bool(f"amrPresent!{next(_counter)}")
    named_tags: dict[str, TagVars] = {}
    for key in named:
        tag = TagVars(z3.Bool(f"tagged!{next(_counter)}"), _fresh(f"key[{key}]"),
                      _fresh(f"tag[{key}]"))
        constraints += [z3.InRe(tag.key, literal(key, case_insensitive=True)),
                        z3.InRe(tag.value, z3.Loop(TAG_CHAR, 0, 256))]
        named_tags[key] = tag
    others = []
    for _ in range(other_tag_slots):
        tag = TagVars(z3.Bool(f"tagged!{next(_counter)}"), _fresh("otherKey"), _fresh("otherTag"))
        constraints += [z3.InRe(tag.key, z3.Loop(TAG_CHAR, 1, 128)),
                        z3.InRe(tag.value, z3.Loop(TAG_CHAR, 0, 256))]
        constraints += [z3.Not(z3.InRe(tag.key, literal(k, case_insensitive=True)))
                        for k in named]
        others.append(tag)
    return TokenVars(provider_arn, aud, sub, amr_present, amr, named_tags, others, constraints)


def condition_keys(policies: Iterable[Policy]) -> set[str]:
    return {c.key for p in policies for s in p.statements for c in s.conditions}


def tag_keys_named(keys: Iterable[str]) -> set[str]:
    return {k.lower().removeprefix(TAG_PREFIX) for k in keys if k.lower().startswith(TAG_PREFIX)}


def set_conditions_on(policies: Iterable[Policy], key_suffix: str) -> int:
    """How many ForAnyValue conditions name a key ending in `key_suffix` (case-insensitive)."""
    return sum(1 for p in policies for s in p.statements for c in s.conditions
               if c.set_operator == "ForAnyValue" and c.key.lower().endswith(key_suffix))


def providers(policies: Sequence[Policy], expected: str, account: str) -> list[str]:
    """Every provider that a trust policy can tell apart from the others, plus one it cannot.

    Principal Federated compares the provider's ARN exactly, and the `<provider>:` keys are
    present only for the provider whose path they name (case-insensitively): a provider named
    nowhere behaves like any other one named nowhere, and a path written in other case has the
    keys without the ARN, so these cases cover every provider of the role's account (STS uses
    no other).
    """
    found = {expected}
    paths: set[str] = {expected.split(":oidc-provider/", 1)[-1]}
    for policy in policies:
        for statement in policy.statements:
            found |= {p.value for p in statement.principals or () if p.kind == "Federated"}
            for condition in statement.conditions:
                prefix, _, claim = condition.key.rpartition(":")
                if claim.lower() in OIDC_CLAIMS and prefix and prefix.lower() != "aws":
                    paths.add(prefix)
    for path in sorted(paths):
        found.add(f"arn:aws:iam::{account}:oidc-provider/{path}")
        found.add(f"arn:aws:iam::{account}:oidc-provider/{path.swapcase()}")
    taken = {p.lower() for p in paths}
    fresh = next(f"another-issuer{i}.example/" for i in itertools.count()
                 if f"another-issuer{i}.example/" not in taken)
    found.add(f"arn:aws:iam::{account}:oidc-provider/{fresh}")
    return sorted(found)

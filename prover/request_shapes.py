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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import z3

from prover import encoding
from prover.encoding import ANY, KeyValue, RequestPrincipal, SymbolicRequest, concat, literal
from prover.fragment import Policy
from prover.witnesses import Candidate, Witness

INVOKE = "execute-api:Invoke"
ASSUME = "sts:AssumeRoleWithWebIdentity"
TAG_SESSION = "sts:TagSession"
OIDC_CLAIMS = ("aud", "sub", "amr")  # the provider's keys the fragment knows
TAG_PREFIX = "aws:requesttag/"
# STS role session names: 2-64 of [\w+=,.@-] (role names: 1-64 of the same).
SESSION_NAME = z3.Union(z3.Range("a", "z"), z3.Range("A", "Z"), z3.Range("0", "9"),
                        *[literal(c) for c in "_+=,.@-"])
# Session tag keys and values as STS accepts them (letters, digits, spaces and _.:/=+-@).
TAG_CHAR = z3.Union(
    z3.Range("a", "z"), z3.Range("A", "Z"), z3.Range("0", "9"), *[literal(c) for c in " _.:/=+-@"])
_counter = itertools.count()


def _fresh(name: str) -> z3.SeqRef:
    return z3.String(f"{name}!{next(_counter)}")


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
    """One case of the callers (`case` says which, for a witness's note), any resource."""

    case: str
    resource: z3.SeqRef
    principal: z3.SeqRef  # the caller's ARN ("" when anonymous)
    anonymous: bool
    principal_arn: z3.SeqRef  # aws:PrincipalArn ("" when anonymous: the key is absent)
    secure_transport: z3.SeqRef
    constraints: list[z3.BoolRef]
    # Readable values of the caller's variables, for witnesses tried before the solver's.
    samples: Mapping[z3.SeqRef, str] = field(default_factory=dict)
    request: SymbolicRequest = field(init=False)

    def __post_init__(self) -> None:
        keys = {"aws:PrincipalArn": KeyValue.single(not self.anonymous, self.principal_arn),
                "aws:SecureTransport": KeyValue.single(True, self.secure_transport)}
        self.request = SymbolicRequest(
            INVOKE, self.resource, RequestPrincipal(self.principal, z3.BoolVal(self.anonymous)),
            encoding.key_table(keys))

    @property
    def shown(self) -> list[z3.SeqRef]:
        """What tells two witnesses apart: the resource, and who calls unless the class does."""
        return [self.resource] if self.case.startswith(SESSION_CASE) else [
            self.resource, self.principal, self.principal_arn]

    def candidate(self, resource: str) -> Candidate:
        return Candidate({self.resource: z3.StringVal(resource),
                          self.secure_transport: z3.StringVal("true"),
                          **{var: z3.StringVal(value) for var, value in self.samples.items()}})

    def concrete(self, model: Witness) -> ConcreteInvoke:
        def value(v: z3.SeqRef) -> str:
            return model.eval(v, model_completion=True).as_string()

        if self.anonymous:
            return ConcreteInvoke(value(self.resource), None, None, value(self.secure_transport))
        return ConcreteInvoke(value(self.resource), value(self.principal),
                              value(self.principal_arn), value(self.secure_transport))


def _common(resource_space: z3.ReRef) -> tuple[z3.SeqRef, z3.SeqRef, list[z3.BoolRef]]:
    resource, secure = _fresh("resource"), _fresh("secureTransport")
    return resource, secure, [z3.InRe(resource, resource_space),
                              z3.InRe(secure, z3.Union(literal("true"), literal("false")))]


def _session_prefix(role_arn: str) -> str:
    prefix, _, name = role_arn.partition(":role/")
    partition, account = prefix.split(":iam::", 1)
    return f"{partition}:sts::{account}:assumed-role/{name.rsplit('/', 1)[-1]}/"


# Every solver question keeps each string's constraints in one regular expression: z3 decides
# one intersection of automata quickly, and can time out on the same set given as separate
# (negated) memberships.
PRINCIPAL_ARN_CASES = ("role", "session")
SESSION_CASE = "the class's session,"
SAMPLE_SESSION = "witness"


def invoke_by_session(role_arn: str, resource_space: z3.ReRef, principal_arn: str
                      ) -> InvokeVars:
    """A session of `role_arn` invoking any ARN of `resource_space`.

    principal_arn "role": aws:PrincipalArn is the role's ARN, as AWS gives it; "session": the
    session's own ARN, as MiniStack gives it. A theorem is proved for both.
    """
    resource, secure, constraints = _common(resource_space)
    session = _fresh("sessionName")
    principal = z3.Concat(z3.StringVal(_session_prefix(role_arn)), session)
    constraints.append(z3.InRe(session, z3.Loop(SESSION_NAME, 2, 64)))
    arn = z3.StringVal(role_arn) if principal_arn == "role" else principal
    return InvokeVars(f"{SESSION_CASE} aws:PrincipalArn = the {principal_arn}'s ARN", resource,
                      principal, False, arn, secure, constraints, {session: SAMPLE_SESSION})


ROLE_NAME = z3.Loop(SESSION_NAME, 1, 64)  # [\w+=,.@-]{1,64}
PARTITION = z3.Plus(z3.Union(z3.Range("a", "z"), z3.Range("A", "Z"), literal("-")))


def invoke_by_others(excluded_roles: Sequence[str], resource_space: z3.ReRef, account: str
                     ) -> list[InvokeVars]:
    """Anyone but the sessions of `excluded_roles`, in three cases that together cover every
    caller: nobody (an unsigned call), a caller that is its own aws:PrincipalArn (an IAM user,
    a federated user, the account root; any role session as MiniStack names it), and another
    role's session as AWS names it (aws:PrincipalArn its role's ARN, whatever the role's path).
    """
    excluded = [encoding.literal(r) for r in excluded_roles]
    excluded += [r for r in map(encoding.role_sessions, excluded_roles) if r is not None]
    not_ours = z3.Complement(z3.Union(*excluded)) if excluded else z3.Star(ANY)
    cases: list[InvokeVars] = []

    resource, secure, constraints = _common(resource_space)
    cases.append(InvokeVars("an anonymous caller", resource, z3.StringVal(""), True,
                            z3.StringVal(""), secure, constraints))

    resource, secure, constraints = _common(resource_space)
    caller = _fresh("caller")
    constraints.append(z3.InRe(caller, z3.Intersect(encoding.PRINCIPAL_ARN, not_ours)))
    cases.append(InvokeVars("a caller whose aws:PrincipalArn is its own ARN", resource, caller,
                            False, caller, secure, constraints,
                            {caller: f"arn:aws:iam::{account}:user/someone"}))

    # The session and its role's ARN vary independently: every real pair is among them (more
    # pairs than exist: a proof holds all the more, a counterexample may need checking).
    resource, secure, constraints = _common(resource_space)
    principal, role = _fresh("session"), _fresh("sessionRole")
    sessions = concat(literal("arn:"), PARTITION, literal(":sts::"), encoding.ACCOUNT,
                      literal(":assumed-role/"), ROLE_NAME, literal("/"),
                      z3.Loop(SESSION_NAME, 2, 64))
    roles = concat(literal("arn:"), PARTITION, literal(":iam::"), encoding.ACCOUNT,
                   literal(":role/"), z3.Star(concat(ROLE_NAME, literal("/"))), ROLE_NAME)
    constraints += [z3.InRe(principal, z3.Intersect(sessions, not_ours)),
                    z3.InRe(role, z3.Intersect(roles, not_ours))]
    cases.append(InvokeVars("another role's session (aws:PrincipalArn its role's ARN)", resource,
                            principal, False, role, secure, constraints,
                            {principal: f"arn:aws:sts::{account}:assumed-role/another-role/"
                                        f"{SAMPLE_SESSION}",
                             role: f"arn:aws:iam::{account}:role/another-role"}))
    return cases


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

    def concrete(self, model: Witness) -> ConcreteToken:
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

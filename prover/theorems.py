"""The theorems, per user class and per stack, proved for every request.

Each theorem compares what the policies decide with what the model says (access.py, the stack's
membership) over a whole request shape (prover/request_shapes.py): every ARN string, every
caller, every value of every token claim. A theorem is proved when the solver shows that no
request tells the two apart; otherwise its shortest readable counterexamples are returned
(prover/witnesses.py). A theorem's violations in one case of the request shape are asked
together first (witnesses.none_met), and searched one by one only when one may be met.
Anything outside the fragment makes it "cannot prove", never "proved".

Per class (its role's sessions; aws:PrincipalArn the role's ARN as in AWS, or the session's as
MiniStack gives it: each theorem holds under both):
- identity: the role's own policies allow execute-api:Invoke on exactly the model's ARN
  patterns of its routes, whatever the ARN (any API, stage, region, account);
- api-policy: on this API, the API's resource policy alone allows the role exactly its routes
  and the CORS preflights, and explicitly denies it everything else (a second wall);
- effective: on this API, both policies together (AWS's same-account rule) allow the role
  exactly its routes and the preflights;
- trust: the role's trust policy (with sts:TagSession for a token with tags) admits exactly the
  tokens its membership names: our issuer, our client, and the class's rules.
Per stack:
- universe: a printable character appears in no policy (encoding.py: why the proofs then
  hold beyond printable strings);
- others: the API's resource policy explicitly denies every other caller (another role's
  session, a user, an anonymous caller) everything but the preflights, which it allows;
- methods: every route is a method with AWS_IAM authorization, and the only other methods are
  the unauthenticated OPTIONS preflights of the routes' paths;
- other-roles: no other role of the stack admits any web-identity token;
- memberships: each token kind of ACCESS.md's "who becomes which class" gets the classes that
  table states, and two classes share a token exactly when access.shared_members says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import z3

import access
from iamsim.offline_matrix import concrete_path
from policy.access_doc import who_becomes_from_doc
from prover import encoding, witnesses
from prover.encoding import ANY, Outcome, concat, literal
from prover.fragment import CannotProve, Policy, Where, parse_policy
from prover.request_shapes import (
    PRINCIPAL_ARN_CASES,
    ConcreteInvoke,
    ConcreteToken,
    InvokeVars,
    TokenVars,
    condition_keys,
    invoke_by_others,
    invoke_by_session,
    providers,
    set_conditions_on,
    tag_keys_named,
    token_vars,
)
from prover.subject import Subject
from prover.verdicts import same_account, trust_verdict

Status = Literal["proved", "refuted", "cannot prove"]
MODEL = Where("access.py", "model")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


@dataclass(frozen=True)
class Counterexample:
    """One request the policies and the model decide differently."""

    theorem: str
    user_class: str | None
    finding: str  # what is wrong, e.g. "allows what the model does not grant"
    request: ConcreteInvoke | ConcreteToken | None  # None: no request shows it (method table)
    # What to replay: the policies the theorem judged (identity, resource) or (trust, role ARN).
    identity: tuple[dict, ...] = ()
    resource_policy: dict | None = None
    role_arn: str | None = None
    policies_allow: bool = False  # the theorem's side of the request (the model says the opposite)
    note: str = ""

    def describe(self) -> str:
        who = f"{self.user_class}: " if self.user_class else ""
        note = f" ({self.note})" if self.note else ""
        shown = f": {self.request.describe()}" if self.request is not None else ""
        return f"{who}{self.theorem} {self.finding}{shown}{note}"


@dataclass
class TheoremResult:
    id: str
    user_class: str | None
    statement: str
    status: Status
    counterexamples: list[Counterexample] = field(default_factory=list)
    reason: str = ""  # why it cannot be proved
    seconds: float = 0.0

    @property
    def label(self) -> str:
        return f"{self.user_class}: {self.id}" if self.user_class else self.id


# --- the model's side ----------------------------------------------------------------------


def route_patterns(subject: Subject, user_class: access.UserClass) -> list[str]:
    return [f"{subject.execution_arn}/{subject.synthesized.stage}/{r.arn_suffix}"
            for r in user_class.routes]


def _arn_path(route: access.Route) -> str:
    return route.arn_suffix.split("/", 1)[1]


def preflight_patterns(subject: Subject) -> list[str]:
    paths = sorted({_arn_path(r) for r in access.ROUTES})
    return [f"{subject.execution_arn}/{subject.synthesized.stage}/OPTIONS/{p}" for p in paths]


def _in_patterns(resource: z3.SeqRef, patterns: Iterable[str]) -> z3.BoolRef:
    hits = [encoding.resource_matches(p, resource, "identity", MODEL) for p in patterns]
    return z3.Or(*hits) if hits else z3.BoolVal(False)


def model_admits(subject: Subject, user_class: access.UserClass, token: TokenVars
                 ) -> z3.BoolRef:
    """access.Membership.admits over a symbolic token (tests/prover check the two agree)."""
    members = user_class.members
    if token.provider_arn != subject.provider_arn:
        return z3.BoolVal(False)
    by_tags = z3.And(*[z3.And(token.tag(k).present, token.tag(k).value == z3.StringVal(v))
                       for k, v in members.session_tags.items()]) if members.session_tags \
        else z3.BoolVal(False)
    by_sub = z3.Or(*[token.sub == z3.StringVal(s) for s in members.subjects],
                   *[z3.InRe(token.sub, encoding.glob(p)) for p in members.sub_patterns])
    return z3.And(token.aud == z3.StringVal(subject.client_id),
                  z3.If(token.tagged, by_tags, by_sub))


# --- parsed policies ------------------------------------------------------------------------


def _parse(document: dict, name: str, kind: str) -> Policy:
    return parse_policy(document, name, kind)  # type: ignore[arg-type]


def identity_policies(subject: Subject, user_class: str) -> list[Policy]:
    role = subject.synthesized.class_roles[user_class]
    return [_parse(d, f"{role.name}/identity-{i}", "identity")
            for i, d in enumerate(role.identity_policies)]


def api_policy(subject: Subject) -> list[Policy]:
    document = subject.synthesized.api_policy
    return [] if document is None else [_parse(document, "api-policy", "resource")]


def _outcome(policies: Sequence[Policy], request: encoding.SymbolicRequest) -> Outcome:
    return encoding.evaluate(policies, request)


# --- witnesses' shapes --------------------------------------------------------------------


def _route_arns(subject: Subject) -> list[str]:
    """ARNs of this API and stage: a known method on a path of a route (params filled)."""
    base = f"{subject.execution_arn}/{subject.synthesized.stage}/"
    paths = sorted({concrete_path(r.path).removeprefix("/") for r in access.ROUTES})
    return [f"{base}{m}/{p}" for m in METHODS for p in paths]


def _prefixed(resource: z3.SeqRef, prefix: str) -> z3.BoolRef:
    return z3.InRe(resource, concat(literal(prefix), z3.Star(ANY)))


# execute-api ARNs iam-simulate can evaluate: every part non-empty (replay.py).
REPLAYABLE = concat(literal("arn:"), z3.Plus(ANY), literal(":execute-api:"), z3.Plus(ANY),
                    literal(":"), encoding.ACCOUNT, literal(":"), z3.Plus(ANY), literal("/"),
                    z3.Plus(ANY), literal("/"), z3.Plus(ANY), literal("/"), z3.Plus(ANY))


def _invoke_shapes(subject: Subject, v: InvokeVars) -> list[z3.BoolRef]:
    stage = f"{subject.execution_arn}/{subject.synthesized.stage}/"
    replayable = z3.InRe(v.resource, REPLAYABLE)
    nice = witnesses.readable(v.resource, v.principal, v.principal_arn)
    return [z3.And(_prefixed(v.resource, stage), replayable, nice),
            z3.And(_prefixed(v.resource, f"{subject.execution_arn}/"), replayable, nice),
            z3.And(replayable, nice), nice]


def _invoke_cost(v: InvokeVars) -> z3.ArithRef:
    return z3.Length(v.resource) + z3.Length(v.principal) + z3.Length(v.principal_arn)


def _token_cost(t: TokenVars) -> z3.ArithRef:
    parts = [z3.Length(t.sub), z3.Length(t.aud)]
    parts += [z3.If(tag.present, z3.Length(tag.key) + z3.Length(tag.value) + 1, 0)
              for tag in t.tags]
    parts += [z3.If(z3.And(t.amr_present, member), z3.Length(v) + 1, 0) for member, v in t.amr]
    parts.append(z3.If(t.amr_present, 1, 0))
    return z3.Sum(*parts)


ABSENT = z3.StringVal(chr(1))  # outside the universe: no claim has this value


def _token_shown(t: TokenVars) -> list[z3.ExprRef]:
    """What tells two tokens apart: sub, aud and the tags it carries (an amr list alone makes
    no new witness)."""
    shown: list[z3.ExprRef] = [t.sub, t.aud]
    shown += [z3.If(tag.present, value, ABSENT) for tag in t.tags for value in (tag.key,
                                                                                tag.value)]
    return shown


def _token_readable(t: TokenVars) -> z3.BoolRef:
    return witnesses.readable(t.sub, t.aud, *[x for tag in t.tags for x in (tag.key, tag.value)],
                              *[v for _, v in t.amr])


def _token_shapes(t: TokenVars) -> list[z3.BoolRef]:
    """Readable claims, tag keys spelled as the policies name them, no empty sub or aud."""
    spelled = [tag.key == z3.StringVal(key) for key, tag in t.named_tags.items()]
    filled = [z3.Length(t.sub) > 0, z3.Length(t.aud) > 0]
    plain = [z3.Not(t.amr_present), *[z3.Not(tag.present) for tag in t.other_tags]]
    return [z3.And(_token_readable(t), *spelled, *filled, *plain),
            z3.And(_token_readable(t), *spelled, *filled), _token_readable(t)]


# --- running one theorem --------------------------------------------------------------------


def _timed(theorem_id: str, user_class: str | None, statement: str,
           body: Callable[[], list[Counterexample]]) -> TheoremResult:
    started = time.perf_counter()
    try:
        found = body()
        status: Status = "refuted" if found else "proved"
        result = TheoremResult(theorem_id, user_class, statement, status, found)
    except CannotProve as err:
        result = TheoremResult(theorem_id, user_class, statement, "cannot prove", [], str(err))
    result.seconds = time.perf_counter() - started
    return result


InvokeChecks = Callable[[InvokeVars], list[tuple[str, z3.BoolRef, bool]]]


def invoke_witnesses(
    subject: Subject, cases: Sequence[InvokeVars], checks: InvokeChecks, *, theorem: str,
    user_class: str | None, identity: Sequence[dict], resource: dict | None, limit: int,
) -> list[Counterexample]:
    """Witnesses of each check (finding, violation, whether the policies allow), in every case
    of the callers, at most `limit` per finding."""
    found: list[Counterexample] = []
    for v in cases:
        listed = checks(v)
        if witnesses.none_met(v.constraints, [violation for _, violation, _ in listed]):
            continue
        for finding, violation, policies_allow in listed:
            room = limit - len([c for c in found if c.finding == finding])
            if room <= 0:
                continue
            search = witnesses.Search(v.constraints, violation, v.shown, _invoke_cost(v),
                                      _invoke_shapes(subject, v),
                                      [v.candidate(r) for r in _route_arns(subject)])
            for model in witnesses.shortest(search, room):
                found.append(Counterexample(theorem, user_class, finding, v.concrete(model),
                                            tuple(identity), resource, None, policies_allow,
                                            v.case))
    return found


def sessions(subject: Subject, user_class: str, space: z3.ReRef) -> list[InvokeVars]:
    return [invoke_by_session(subject.role_arn(user_class), space, semantics)
            for semantics in PRINCIPAL_ARN_CASES]


LIMIT = 3  # witnesses per finding


def _identity(subject: Subject, user_class: access.UserClass) -> TheoremResult:
    patterns = route_patterns(subject, user_class)
    statement = ("its role's own policies allow execute-api:Invoke on exactly "
                 + ", ".join(patterns) + ", whatever the ARN")

    def body() -> list[Counterexample]:
        name = user_class.name
        policies = identity_policies(subject, name)

        def checks(v: InvokeVars) -> list[tuple[str, z3.BoolRef, bool]]:
            own = _outcome(policies, v.request).allowed
            model = _in_patterns(v.resource, patterns)
            return [("allows what the model does not grant", z3.And(own, z3.Not(model)), True),
                    ("refuses what the model grants", z3.And(z3.Not(own), model), False)]

        return invoke_witnesses(
            subject, sessions(subject, name, encoding.RESOURCE_ARN), checks, theorem="identity",
            user_class=name, limit=LIMIT,
            identity=subject.synthesized.class_roles[name].identity_policies, resource=None)

    return _timed("identity", user_class.name, statement, body)


def api_space(subject: Subject) -> z3.ReRef:
    return concat(literal(f"{subject.execution_arn}/"), z3.Star(ANY))


def _api_policy_theorem(subject: Subject, user_class: access.UserClass) -> TheoremResult:
    routes = ", ".join(r.id for r in user_class.routes)
    statement = (f"on this API, the resource policy alone allows its role exactly {routes} and "
                 "the CORS preflights, and explicitly denies it everything else")

    def body() -> list[Counterexample]:
        name = user_class.name
        policies = api_policy(subject)

        def checks(v: InvokeVars) -> list[tuple[str, z3.BoolRef, bool]]:
            wall = _outcome(policies, v.request)
            target = z3.Or(_in_patterns(v.resource, route_patterns(subject, user_class)),
                           _in_patterns(v.resource, preflight_patterns(subject)))
            return [
                ("allows what the model does not grant", z3.And(wall.allowed, z3.Not(target)),
                 True),
                ("refuses what the model grants", z3.And(z3.Not(wall.allowed), target), False),
                ("does not explicitly deny what the model refuses (no second wall)",
                 z3.And(z3.Not(wall.denies), z3.Not(target)), True),
            ]

        return invoke_witnesses(subject, sessions(subject, name, api_space(subject)),
                                       checks, theorem="api-policy", user_class=name,
                                       identity=(), resource=subject.synthesized.api_policy,
                                       limit=LIMIT)

    return _timed("api-policy", user_class.name, statement, body)


def _effective(subject: Subject, user_class: access.UserClass) -> TheoremResult:
    routes = ", ".join(r.id for r in user_class.routes)
    statement = (f"on this API, its role's policies and the resource policy together allow "
                 f"it exactly {routes} and the CORS preflights")

    def body() -> list[Counterexample]:
        name = user_class.name
        own_policies, api = identity_policies(subject, name), api_policy(subject)

        def checks(v: InvokeVars) -> list[tuple[str, z3.BoolRef, bool]]:
            allowed = encoding.same_account_invoke(_outcome(own_policies, v.request),
                                                   _outcome(api, v.request))
            target = z3.Or(_in_patterns(v.resource, route_patterns(subject, user_class)),
                           _in_patterns(v.resource, preflight_patterns(subject)))
            return [("allows what the model does not grant", z3.And(allowed, z3.Not(target)),
                     True),
                    ("refuses what the model grants", z3.And(z3.Not(allowed), target), False)]

        return invoke_witnesses(
            subject, sessions(subject, name, api_space(subject)), checks, theorem="effective",
            user_class=name, limit=LIMIT,
            identity=subject.synthesized.class_roles[name].identity_policies,
            resource=subject.synthesized.api_policy)

    return _timed("effective", user_class.name, statement, body)


def _others(subject: Subject) -> TheoremResult:
    statement = ("the API's resource policy explicitly denies everyone but the class roles' "
                 "sessions (other roles, users, anonymous callers) everything on this API but "
                 "the CORS preflights, which it allows")

    def body() -> list[Counterexample]:
        policies = api_policy(subject)
        class_roles = [r.arn for r in subject.synthesized.class_roles.values()]

        def checks(v: InvokeVars) -> list[tuple[str, z3.BoolRef, bool]]:
            wall = _outcome(policies, v.request)
            preflight = _in_patterns(v.resource, preflight_patterns(subject))
            return [("does not explicitly deny another caller",
                     z3.And(z3.Not(wall.denies), z3.Not(preflight)), True),
                    ("refuses a CORS preflight", z3.And(preflight, z3.Not(wall.allowed)),
                     False)]

        return invoke_witnesses(
            subject, invoke_by_others(class_roles, api_space(subject), subject.account), checks,
            theorem="others", user_class=None, identity=(),
            resource=subject.synthesized.api_policy, limit=LIMIT)

    return _timed("others", None, statement, body)


def _methods(subject: Subject) -> TheoremResult:
    statement = ("every route is a method with AWS_IAM authorization; the only other methods "
                 "are the OPTIONS preflights of the routes' paths, without authorization")

    def body() -> list[Counterexample]:
        # Not a solver question: the method table is finite.
        problems: list[str] = []
        declared = dict(subject.synthesized.method_authorization)
        for route in access.ROUTES:
            wanted = "NONE" if route.public else "AWS_IAM"
            found = declared.pop((route.method, route.path), None)
            if found != wanted:
                problems.append(f"{route.id} has authorization {found or 'none: no method'}, "
                                f"not {wanted}")
        paths = {r.path for r in access.ROUTES}
        for (method, path), found in sorted(declared.items()):
            if not (method == "OPTIONS" and path in paths and found == "NONE"):
                problems.append(f"{method} {path} (authorization {found}) is no route of the "
                                "model")
        return [Counterexample("methods", None, p, None) for p in problems]

    return _timed("methods", None, statement, body)


# --- trust ------------------------------------------------------------------------------------


def trust_policy(subject: Subject, role_name: str, document: dict) -> Policy:
    return _parse(document, f"{role_name}/trust", "trust")


def token_space(classes: Sequence[access.UserClass], policies: Sequence[Policy], provider: str
                ) -> TokenVars:
    """Any token of `provider`, with variables for every tag the policies or the classes'
    membership rules name."""
    keys = condition_keys(policies)
    model_tags = {k.lower() for c in classes for k in c.members.session_tags}
    return token_vars(provider, tag_keys=tag_keys_named(keys) | model_tags,
                      amr_slots=set_conditions_on(policies, ":amr") + 1,
                      other_tag_slots=set_conditions_on(policies, "aws:tagkeys") + 1)


def sts_admits(trust: Policy, role_arn: str, token: TokenVars) -> z3.BoolRef:
    """AssumeRoleWithWebIdentity succeeds: the trust policy allows it, and sts:TagSession too
    when the token carries tags; only providers of the role's account."""
    if not same_account(token.provider_arn, role_arn):
        return z3.BoolVal(False)
    assume, tag = token.requests(condition_keys([trust]))
    first = encoding.evaluate([trust], assume).allowed
    second = encoding.evaluate([trust], tag).allowed
    return z3.And(first, z3.Implies(token.tagged, second))


def token_witnesses(
    subject: Subject, policies: Sequence[Policy],
    checks: Callable[[TokenVars], list[tuple[str, z3.BoolRef, bool]]], *, theorem: str,
    user_class: str | None, trust_document: dict, role_arn: str, limit: int,
    classes: Sequence[access.UserClass] | None = None,
) -> list[Counterexample]:
    """Witness tokens of each check, from every provider that matters (at most `limit` per
    finding); `classes` name the tags to tell apart (default: the subject's)."""
    found: list[Counterexample] = []
    for provider in providers(policies, subject.provider_arn, subject.account):
        token = token_space(subject.classes if classes is None else classes, policies,
                            provider)
        listed = checks(token)
        if witnesses.none_met(token.constraints, [violation for _, violation, _ in listed]):
            continue
        for finding, violation, policies_allow in listed:
            if len([c for c in found if c.finding == finding]) >= limit:
                continue
            search = witnesses.Search(token.constraints, violation, _token_shown(token),
                                      _token_cost(token), _token_shapes(token))
            for model in witnesses.shortest(search, limit):
                found.append(Counterexample(theorem, user_class, finding, token.concrete(model),
                                            (), trust_document, role_arn, policies_allow))
    return found


def _rules(subject: Subject, user_class: access.UserClass) -> str:
    m = user_class.members
    rules = [f"sub like {p}" for p in m.sub_patterns] + [f"sub = {s}" for s in m.subjects]
    rules += [f"session tag {k}={v}" for k, v in sorted(m.session_tags.items())]
    return (f"issuer {subject.issuer}, aud {subject.client_id}, and " + " or ".join(rules))


def _trust(subject: Subject, user_class: access.UserClass) -> TheoremResult:
    statement = (f"its role's trust policy admits exactly the tokens its membership names: "
                 f"{_rules(subject, user_class)}")

    def body() -> list[Counterexample]:
        role = subject.synthesized.class_roles[user_class.name]
        trust = trust_policy(subject, role.name, role.trust_policy)

        def checks(token: TokenVars) -> list[tuple[str, z3.BoolRef, bool]]:
            admits = sts_admits(trust, role.arn, token)
            model = model_admits(subject, user_class, token)
            return [("admits a token the membership does not name",
                     z3.And(admits, z3.Not(model)), True),
                    ("refuses a token the membership names", z3.And(z3.Not(admits), model),
                     False)]

        found = token_witnesses(subject, [trust], checks, theorem="trust",
                                       user_class=user_class.name,
                                       trust_document=role.trust_policy, role_arn=role.arn,
                                       limit=LIMIT)
        return [_with_reason(subject, user_class, c) for c in found]

    return _timed("trust", user_class.name, statement, body)


def _with_reason(subject: Subject, user_class: access.UserClass, found: Counterexample
                 ) -> Counterexample:
    """Says which part of the model the token misses (issuer, client, no rule, no grant)."""
    token = found.request
    if not isinstance(token, ConcreteToken) or not found.policies_allow:
        return found
    grant = dict(user_class.members.session_tags)
    if token.provider_arn != subject.provider_arn:
        note = "a token from another issuer"
    elif token.aud != subject.client_id:
        note = "a token for another client"
    elif token.tags:
        note = (f"its session tags are not the grant {grant}" if grant
                else f"no rule of {user_class.name} is a session tag")
    elif user_class.manages_shop:
        note = (f"sub {token.sub!r} is no listed subject, and {user_class.name} manages the "
                "shop: its members need an explicit grant")
    else:
        note = f"no membership rule names sub {token.sub!r}"
    return Counterexample(found.theorem, found.user_class, found.finding, token, found.identity,
                          found.resource_policy, found.role_arn, found.policies_allow, note)


def _other_roles(subject: Subject) -> TheoremResult:
    statement = "no other role of the stack admits any web-identity token"

    def body() -> list[Counterexample]:
        found: list[Counterexample] = []
        for role in subject.synthesized.other_roles:
            trust = trust_policy(subject, role.name, role.trust_policy)
            found += token_witnesses(
                subject, [trust],
                lambda token, trust=trust, role=role: [
                    (f"role {role.name} admits a web-identity token",
                     sts_admits(trust, role.arn, token), True)],
                theorem="other-roles", user_class=None, trust_document=role.trust_policy,
                role_arn=role.arn, limit=1)
        return found

    return _timed("other-roles", None, statement, body)


def _memberships(subject: Subject) -> TheoremResult:
    statement = ("each token kind gets the classes ACCESS.md's 'who becomes which class' "
                 "states, and two classes share a token exactly when access.shared_members "
                 "says so")

    def body() -> list[Counterexample]:
        classes = subject.classes
        roles = subject.synthesized.class_roles
        trusts = {c.name: trust_policy(subject, roles[c.name].name, roles[c.name].trust_policy)
                  for c in classes}
        found: list[Counterexample] = []
        documented = _documented(subject.root, subject.stack)
        for kind in access.token_kinds(classes):
            token = _token_of(subject, kind)
            becomes = [c.name for c in classes
                       if trust_verdict(token, trusts[c.name], roles[c.name].arn).admitted]
            if becomes != documented.get(kind.label):
                found.append(Counterexample(
                    "memberships", None, f"'{kind.label}' becomes {becomes or 'no class'}, "
                    f"ACCESS.md says {documented.get(kind.label, 'nothing')}", token))
        for i, a in enumerate(classes):
            for b in classes[i + 1:]:
                found += _shared(subject, a, b, trusts)
        return found

    return _timed("memberships", None, statement, body)


def _documented(root: Path, stack: str) -> dict[str, list[str]]:
    tables = who_becomes_from_doc(root / "ACCESS.md")
    if stack not in tables:
        raise CannotProve(f"ACCESS.md has no 'who becomes which class' table for stack {stack} "
                          "(run `make access`)")
    return tables[stack]


OTHER_AUDIENCE = "some-other-client"
OTHER_ISSUER_PATH = "someone-else.example.com/"


def _token_of(subject: Subject, kind: access.TokenClaims) -> ConcreteToken:
    provider = (subject.provider_arn if kind.own_issuer else
                f"arn:aws:iam::{subject.account}:oidc-provider/{OTHER_ISSUER_PATH}")
    return ConcreteToken(provider, subject.client_id if kind.own_client else OTHER_AUDIENCE,
                         kind.sub, None, tuple(sorted(kind.session_tags.items())))


def _shared(subject: Subject, a: access.UserClass, b: access.UserClass,
            trusts: dict[str, Policy]) -> list[Counterexample]:
    stated = access.shared_members(a.members, b.members)
    roles = subject.synthesized.class_roles
    both = [trusts[a.name], trusts[b.name]]
    for provider in providers(both, subject.provider_arn, subject.account):
        token = token_space(subject.classes, both, provider)
        shared = z3.And(sts_admits(trusts[a.name], roles[a.name].arn, token),
                        sts_admits(trusts[b.name], roles[b.name].arn, token))
        search = witnesses.Search(token.constraints, shared, _token_shown(token),
                                  _token_cost(token), _token_shapes(token))
        models = witnesses.shortest(search, 1)
        if models and not stated:
            return [Counterexample("memberships", None, f"a token reaches both {a.name} and "
                                   f"{b.name}, which access.shared_members does not state",
                                   token.concrete(models[0]))]
        if models:
            return []
    if stated:
        return [Counterexample("memberships", None, f"no token reaches both {a.name} and "
                               f"{b.name}, but access.shared_members states {list(stated)}",
                               None)]
    return []


# --- all of them ------------------------------------------------------------------------------


def _universe(subject: Subject) -> TheoremResult:
    statement = ("a printable character appears in no policy, so what holds for every printable "
                 "string holds for every string without control characters")

    def body() -> list[Counterexample]:
        roles = [*subject.synthesized.class_roles.values(), *subject.synthesized.other_roles]
        policies = [*api_policy(subject),
                    *[_parse(r.trust_policy, f"{r.name}/trust", "trust") for r in roles]]
        policies += [p for name in subject.synthesized.class_roles
                     for p in identity_policies(subject, name)]
        encoding.spare_character(policies, [subject.issuer, subject.client_id])
        return []

    return _timed("universe", None, statement, body)


Theorem = tuple[str, Callable[[], TheoremResult]]  # (label, run it)


def theorems(subject: Subject) -> list[Theorem]:
    """Every theorem of the stack by label (`buyer: trust`, `others`), each run on demand."""
    found: list[Theorem] = []
    for user_class in subject.classes:
        name = user_class.name
        if name not in subject.synthesized.class_roles:
            found.append((f"{name}: role", lambda c=user_class: TheoremResult(
                "role", c.name, "the class has a role", "refuted",
                [Counterexample("role", c.name, "has no role in the stack's `roles` output",
                                None)])))
            continue
        found += [(f"{name}: {label}", lambda c=user_class, t=t: t(subject, c))
                  for label, t in (("identity", _identity), ("api-policy", _api_policy_theorem),
                                   ("effective", _effective), ("trust", _trust))]
    found += [(label, lambda t=t: t(subject)) for label, t in (
        ("universe", _universe), ("others", _others), ("methods", _methods),
        ("other-roles", _other_roles), ("memberships", _memberships))]
    return found


def prove(subject: Subject, only: Iterable[str] | None = None) -> list[TheoremResult]:
    """The theorems' results, all of them or those labelled in `only`."""
    wanted = None if only is None else set(only)
    return [run() for label, run in theorems(subject) if wanted is None or label in wanted]

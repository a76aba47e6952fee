"""The offline IAM engine (iamsim) on hand-written policies of the shapes the pets stack produces.

No emulator: every decision comes from @cloud-copilot/iam-simulate through iamsim/simulate.mjs.
Each "denied" expectation sits in the same batch as an "allowed" control on the same policy, so an
engine (or bridge) that always answers one way fails.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from typing import Any

import pytest

from harness_core.mock_runtime import oidc_provider_arn, oidc_provider_path
from harness_core.node import NodeUnavailable, ensure_packages
from iamsim import engine as engine_module
from iamsim.builders import execute_api_arn, invoke_request, web_identity_requests
from iamsim.engine import PACKAGE_DIR, SimRequest, SimResult, SimulationError, simulate

ACCOUNT = "000000000000"
API = "a1b2c3d4e5"
STAGE = "prod"
CLIENT_ID = "pets-spa"
ADMIN_ROLE = f"arn:aws:iam::{ACCOUNT}:role/pets-admin"
BUYER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/pets-buyer"
ADMIN_SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/pets-admin/alice"
ISSUERS = ["https://tenant.auth0.com/", "http://127.0.0.1:9443"]

Policy = Mapping[str, Any]


def arn(method: str, path: str, *, api: str = API, stage: str = STAGE) -> str:
    return execute_api_arn(api, stage, method, path, region="us-east-1", account=ACCOUNT)


def invoke_policy(*grants: tuple[str, str]) -> Policy:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "execute-api:Invoke",
                "Resource": [arn(m, p) for m, p in grants],
            }
        ],
    }


ADMIN_POLICY = invoke_policy(("GET", "/pets"), ("POST", "/pets"), ("DELETE", "/pets/*"))
BUYER_POLICY = invoke_policy(("GET", "/pets"))


def trust_policy(
    issuer: str, sub_patterns: list[str], *, exact_subs: list[str] | None = None
) -> Policy:
    provider = oidc_provider_path(issuer)
    statements: list[dict[str, Any]] = [
        {
            "Effect": "Allow",
            "Principal": {"Federated": oidc_provider_arn(issuer, account=ACCOUNT)},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {f"{provider}:aud": CLIENT_ID},
                "StringLike": {f"{provider}:sub": sub_patterns},
            },
        }
    ]
    if exact_subs:
        statements.append(
            {
                "Effect": "Allow",
                "Principal": {"Federated": oidc_provider_arn(issuer, account=ACCOUNT)},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {f"{provider}:aud": CLIENT_ID, f"{provider}:sub": exact_subs}
                },
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def admin_trust(issuer: str) -> Policy:
    return trust_policy(issuer, ["auth0|*"])


def buyer_trust(issuer: str) -> Policy:
    return trust_policy(issuer, ["google-oauth2|*", "github|*"], exact_subs=["auth0|carol"])


def by_id(results: list[SimResult]) -> dict[str, SimResult]:
    return {r.id: r for r in results if r.id is not None}


# --------------------------------------------------------------------------- execute-api:Invoke

INVOKE_CASES: dict[str, tuple[Policy, str, str]] = {
    # id: (identity policy, resource ARN, expected decision)
    "GET /pets": (ADMIN_POLICY, arn("GET", "/pets"), "Allowed"),
    "POST /pets": (ADMIN_POLICY, arn("POST", "/pets"), "Allowed"),
    "DELETE /pets/123 via DELETE/pets/*": (ADMIN_POLICY, arn("DELETE", "/pets/123"), "Allowed"),
    # IAM "*" spans "/": the grant also covers deeper paths. Documented here so nobody is surprised.
    "DELETE /pets/123/x via DELETE/pets/*": (ADMIN_POLICY, arn("DELETE", "/pets/123/x"), "Allowed"),
    "DELETE /pets (no id)": (ADMIN_POLICY, arn("DELETE", "/pets"), "ImplicitlyDenied"),
    "GET /pets on other stage": (
        ADMIN_POLICY,
        arn("GET", "/pets", stage="dev"),
        "ImplicitlyDenied",
    ),
    "GET /pets on other api": (
        ADMIN_POLICY,
        arn("GET", "/pets", api="zzzzzzzzzz"),
        "ImplicitlyDenied",
    ),
    # The library matches the first resource segment with startsWith (util.getResourceSegments):
    # an api id that extends ours must still be denied.
    "GET /pets on api id with our id as prefix": (
        ADMIN_POLICY,
        arn("GET", "/pets", api=API + "x"),
        "ImplicitlyDenied",
    ),
    "POST /pets/ (trailing slash)": (ADMIN_POLICY, arn("POST", "/pets/"), "ImplicitlyDenied"),
    "get /pets (lowercase method)": (ADMIN_POLICY, arn("get", "/pets"), "ImplicitlyDenied"),
    "PUT /pets (method not granted)": (ADMIN_POLICY, arn("PUT", "/pets"), "ImplicitlyDenied"),
    "other region": (
        ADMIN_POLICY,
        execute_api_arn(API, STAGE, "GET", "/pets", region="eu-west-1", account=ACCOUNT),
        "ImplicitlyDenied",
    ),
    "other account": (
        ADMIN_POLICY,
        execute_api_arn(API, STAGE, "GET", "/pets", region="us-east-1", account="111111111111"),
        "ImplicitlyDenied",
    ),
    # "*" in a request ARN is literal: only a policy wildcard matches it.
    "* as method": (ADMIN_POLICY, arn("*", "/pets"), "ImplicitlyDenied"),
    "* as path": (ADMIN_POLICY, arn("GET", "/*"), "ImplicitlyDenied"),
    "* as stage": (ADMIN_POLICY, arn("GET", "/pets", stage="*"), "ImplicitlyDenied"),
    "* as api id": (ADMIN_POLICY, arn("GET", "/pets", api="*"), "ImplicitlyDenied"),
    "literal * under DELETE/pets/*": (ADMIN_POLICY, arn("DELETE", "/pets/*"), "Allowed"),
    "buyer GET /pets": (BUYER_POLICY, arn("GET", "/pets"), "Allowed"),
    "buyer DELETE /pets/123": (BUYER_POLICY, arn("DELETE", "/pets/123"), "ImplicitlyDenied"),
    "buyer POST /pets": (BUYER_POLICY, arn("POST", "/pets"), "ImplicitlyDenied"),
}


@pytest.fixture(scope="module")
def invoke_results() -> dict[str, SimResult]:
    requests = [
        invoke_request(
            principal=ADMIN_SESSION, identity_policies=[policy], resource=resource, id=case_id
        )
        for case_id, (policy, resource, _) in INVOKE_CASES.items()
    ]
    return by_id(simulate(requests))


@pytest.mark.parametrize("case_id", list(INVOKE_CASES))
def test_invoke_matrix(invoke_results: dict[str, SimResult], case_id: str) -> None:
    expected = INVOKE_CASES[case_id][2]
    result = invoke_results[case_id]
    assert result.decision == expected, result.describe()
    assert result.engine == "runSimulation"  # no custom keys: the library's validated path


def test_invoke_explain_names_the_mismatch(invoke_results: dict[str, SimResult]) -> None:
    explain = invoke_results["get /pets (lowercase method)"].explain
    assert explain is not None
    [statement] = explain["identity"]["statements"]
    assert statement["actionMatch"] is True
    assert statement["resourceMatch"] is False
    assert {r["mismatchReason"] for r in statement["resources"]} == {"resourceIdMismatch"}


def test_explicit_deny_is_reported_as_such() -> None:
    deny = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": arn("DELETE", "/pets/*")}
        ],
    }
    results = simulate(
        [
            invoke_request(
                principal=ADMIN_SESSION,
                identity_policies=[ADMIN_POLICY, deny],
                resource=arn("DELETE", "/pets/1"),
                id="deny",
            ),
            invoke_request(
                principal=ADMIN_SESSION,
                identity_policies=[ADMIN_POLICY, deny],
                resource=arn("GET", "/pets"),
                id="control",
            ),
        ]
    )
    assert [r.decision for r in results] == ["ExplicitlyDenied", "Allowed"]


@pytest.mark.parametrize(
    ("resource", "error"),
    [
        ("*", r"request\.invalid.*no account"),  # not even an ARN
        (f"arn:aws:execute-api:us-east-1:{ACCOUNT}:*", r"no\.resource\.types"),
        (f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{API}/{STAGE}/*", r"no\.resource\.types"),
    ],
)
def test_star_resources_without_method_are_refused_not_answered(resource: str, error: str) -> None:
    # Taken literally these are not execute-api method ARNs; the library finds no resource type.
    request = SimRequest(
        id=resource,
        action="execute-api:Invoke",
        resource=resource,
        principal=ADMIN_SESSION,
        identity_policies=(ADMIN_POLICY,),
    )
    with pytest.raises(SimulationError, match=error):
        simulate([request])


# --------------------------------------------------------------------------- trust policies


def _assume(
    issuer: str, role: str, trust: Policy, sub: str | None, aud: str | None, **kw: Any
) -> list[SimRequest]:
    return web_identity_requests(
        role_arn=role,
        trust_policy=trust,
        issuer_url=issuer,
        sub=sub,
        aud=aud,
        account=ACCOUNT,
        **kw,
    )


def trust_cases(issuer: str) -> dict[str, tuple[list[SimRequest], bool]]:
    admin, buyer = admin_trust(issuer), buyer_trust(issuer)
    return {
        "alice -> admin": (_assume(issuer, ADMIN_ROLE, admin, "auth0|alice", CLIENT_ID), True),
        "alice -> buyer": (_assume(issuer, BUYER_ROLE, buyer, "auth0|alice", CLIENT_ID), False),
        "bob(google) -> buyer": (
            _assume(issuer, BUYER_ROLE, buyer, "google-oauth2|bob", CLIENT_ID),
            True,
        ),
        "dan(github) -> buyer": (_assume(issuer, BUYER_ROLE, buyer, "github|dan", CLIENT_ID), True),
        "bob(google) -> admin": (
            _assume(issuer, ADMIN_ROLE, admin, "google-oauth2|bob", CLIENT_ID),
            False,
        ),
        "alice wrong aud -> admin": (
            _assume(issuer, ADMIN_ROLE, admin, "auth0|alice", "other-client"),
            False,
        ),
        "alice no aud -> admin": (_assume(issuer, ADMIN_ROLE, admin, "auth0|alice", None), False),
        "no sub -> admin": (_assume(issuer, ADMIN_ROLE, admin, None, CLIENT_ID), False),
        # Exact-sub statement (StringEquals on :sub) on the buyer role.
        "carol(exact) -> buyer": (
            _assume(issuer, BUYER_ROLE, buyer, "auth0|carol", CLIENT_ID),
            True,
        ),
        "carol2 -> buyer": (_assume(issuer, BUYER_ROLE, buyer, "auth0|carol2", CLIENT_ID), False),
        "carol wrong aud -> buyer": (
            _assume(issuer, BUYER_ROLE, buyer, "auth0|carol", "other-client"),
            False,
        ),
        # StringLike is case-sensitive.
        "AUTH0|alice -> admin": (
            _assume(issuer, ADMIN_ROLE, admin, "AUTH0|alice", CLIENT_ID),
            False,
        ),
    }


@pytest.fixture(scope="module", params=ISSUERS, ids=["auth0-trailing-slash", "loopback-with-port"])
def trust_results(
    request: pytest.FixtureRequest,
) -> tuple[str, dict[str, tuple[list[SimResult], bool]]]:
    issuer: str = request.param
    cases = trust_cases(issuer)
    flat = [req for reqs, _ in cases.values() for req in reqs]
    results = iter(simulate(flat))
    return issuer, {
        case_id: ([next(results) for _ in reqs], expected)
        for case_id, (reqs, expected) in cases.items()
    }


@pytest.mark.parametrize("case_id", list(trust_cases(ISSUERS[0])))
def test_trust_matrix(
    trust_results: tuple[str, dict[str, tuple[list[SimResult], bool]]], case_id: str
) -> None:
    issuer, cases = trust_results
    results, expected = cases[case_id]
    assert all(r.allowed for r in results) is expected, "\n".join(r.describe() for r in results)
    provider = oidc_provider_path(issuer)
    for result in results:
        # runSimulation drops custom-issuer keys; the bridge must notice and use the core path.
        assert result.engine == "authorize"
        present = [k for k in (f"{provider}:sub", f"{provider}:aud") if k in result.request.context]
        assert sorted(result.raw["libraryIgnoredContextKeys"]) == sorted(present)


def test_denied_trust_explains_the_failing_condition() -> None:
    [result] = simulate(
        _assume(ISSUERS[1], ADMIN_ROLE, admin_trust(ISSUERS[1]), "auth0|alice", "other-client")
    )
    assert result.decision == "ImplicitlyDenied"
    assert result.explain is not None
    [statement] = result.explain["resource"]["statements"]
    assert statement["principalMatch"] == "Match"
    failing = {c["conditionKeyValue"]: c["matches"] for c in statement["conditions"]}
    assert failing == {"127.0.0.1:9443:aud": False, "127.0.0.1:9443:sub": True}


def test_other_provider_is_not_trusted() -> None:
    # Token from a different issuer, claims otherwise fine for that issuer's keys.
    other = "https://evil.example.com/"
    trust = admin_trust(ISSUERS[0])
    reqs = _assume(other, ADMIN_ROLE, trust, "auth0|alice", CLIENT_ID) + _assume(
        ISSUERS[0], ADMIN_ROLE, trust, "auth0|alice", CLIENT_ID
    )
    results = simulate(reqs)
    assert [r.decision for r in results] == ["ImplicitlyDenied", "Allowed"]
    assert results[0].explain["resource"]["statements"][0]["principalMatch"] == "NoMatch"  # type: ignore[index]


def test_key_prefix_without_trailing_slash_never_matches_and_is_flagged() -> None:
    issuer = "https://tenant.auth0.com/"
    wrong = trust_policy("https://tenant.auth0.com", ["auth0|*"])  # keys "tenant.auth0.com:aud"
    wrong["Statement"][0]["Principal"]["Federated"] = oidc_provider_arn(issuer, account=ACCOUNT)
    results = simulate(
        _assume(issuer, ADMIN_ROLE, wrong, "auth0|alice", CLIENT_ID)
        + _assume(issuer, ADMIN_ROLE, admin_trust(issuer), "auth0|alice", CLIENT_ID)
    )
    assert [r.decision for r in results] == ["ImplicitlyDenied", "Allowed"]
    assert any("trailing" in w for w in results[0].warnings)
    assert results[1].warnings == ()


def test_well_known_issuer_goes_through_validated_path() -> None:
    # accounts.google.com:* keys are in the library's action data, so runSimulation keeps them.
    issuer = "https://accounts.google.com"
    trust = trust_policy(issuer, ["1234*"])
    results = simulate(
        _assume(issuer, ADMIN_ROLE, trust, "12345", CLIENT_ID)
        + _assume(issuer, ADMIN_ROLE, trust, "999", CLIENT_ID)
    )
    assert [(r.decision, r.engine) for r in results] == [
        ("Allowed", "runSimulation"),
        ("ImplicitlyDenied", "runSimulation"),
    ]


def tagged_trust(issuer: str, *, allow_tag_session: bool) -> Policy:
    provider = oidc_provider_path(issuer)
    actions = ["sts:AssumeRoleWithWebIdentity"] + (["sts:TagSession"] if allow_tag_session else [])
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": oidc_provider_arn(issuer, account=ACCOUNT)},
                "Action": actions,
                "Condition": {
                    "StringEquals": {
                        f"{provider}:aud": CLIENT_ID,
                        "aws:RequestTag/pets-class": "admin",
                    },
                    "ForAllValues:StringEquals": {"aws:TagKeys": ["pets-class"]},
                },
            }
        ],
    }


@pytest.mark.parametrize("issuer", ISSUERS)
@pytest.mark.parametrize(
    ("tags", "allow_tag_session", "expected"),
    [
        ({"pets-class": "admin"}, True, [True, True]),
        ({"pets-class": "buyer"}, True, [False, False]),
        (None, True, [False]),  # no tag claim: aws:RequestTag/pets-class absent
        (
            {"pets-class": "admin", "extra": "x"},
            True,
            [False, False],
        ),  # ForAllValues on aws:TagKeys
        ({"pets-class": "admin"}, False, [True, False]),  # trust lacks sts:TagSession
    ],
)
def test_session_tag_condition(
    issuer: str, tags: dict[str, str] | None, allow_tag_session: bool, expected: list[bool]
) -> None:
    trust = tagged_trust(issuer, allow_tag_session=allow_tag_session)
    results = simulate(
        _assume(issuer, ADMIN_ROLE, trust, "auth0|alice", CLIENT_ID, session_tags=tags)
    )
    assert [r.allowed for r in results] == expected, "\n".join(r.describe() for r in results)


# --------------------------------------------------------------------------- failing loudly


def _invoke(request_id: str, **changed: Any) -> SimRequest:
    """The admin invoking GET /pets, with `changed` fields."""
    return SimRequest(**{"id": request_id, "action": "execute-api:Invoke",
                         "resource": arn("GET", "/pets"), "principal": ADMIN_SESSION,
                         "identity_policies": (ADMIN_POLICY,), **changed})


def _assume_admin(request_id: str, **changed: Any) -> SimRequest:
    """A token from our issuer assuming the admin role, with `changed` fields."""
    return SimRequest(**{"id": request_id, "action": "sts:AssumeRoleWithWebIdentity",
                         "resource": ADMIN_ROLE,
                         "principal": oidc_provider_arn(ISSUERS[0], account=ACCOUNT),
                         "resource_policy": admin_trust(ISSUERS[0]), **changed})


@pytest.mark.parametrize(
    ("request_", "error"),
    [
        (_invoke("unknown key", context={"tenant.auth0.com/:aud": CLIENT_ID}),
         "context.key.unknown"),
        (_invoke("key not for action", context={"sts:RoleSessionName": "alice"}),
         "context.key.not.applicable"),
        (_invoke("list for single-valued key", context={"aws:SourceIp": ["10.0.0.1", "10.0.0.2"]}),
         "context.value.invalid"),
        (_assume_admin("list for oidc aud", context={"tenant.auth0.com/:aud": [CLIENT_ID, "x"]}),
         "context.value.invalid"),
        (_assume_admin("Resource in trust policy", resource_policy={
            "Version": "2012-10-17",
            "Statement": [{**admin_trust(ISSUERS[0])["Statement"][0], "Resource": "*"}]}),
         "library.validation"),
        (_invoke("typo in action", action="execute-api:invok"), "library.validation"),
        (_invoke("policy without Resource", identity_policies=({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke"}]},)),
         "library.validation"),
    ],
    ids=lambda v: v.id if isinstance(v, SimRequest) else v,
)
def test_unevaluable_requests_raise(request_: SimRequest, error: str) -> None:
    control = invoke_request(
        principal=ADMIN_SESSION,
        identity_policies=[ADMIN_POLICY],
        resource=arn("GET", "/pets"),
        id="control",
    )
    with pytest.raises(SimulationError) as info:
        simulate([control, request_])
    assert [(e["id"], e["error"]) for e in info.value.errors] == [(request_.id, error)]


# --------------------------------------------------------------------------- batching and speed


def test_one_node_process_answers_every_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    ensure_packages(PACKAGE_DIR)  # keep a possible `npm ci` out of the count
    started: list[list[str]] = []
    real_popen = subprocess.Popen

    def counting_popen(cmd: list[str], *args: Any, **kwargs: Any) -> Any:
        started.append([str(c) for c in cmd])
        return real_popen(cmd, *args, **kwargs)

    monkeypatch.setattr(engine_module.subprocess, "Popen", counting_popen)
    fresh = engine_module.NodeProcess(engine_module._simulate_command)
    monkeypatch.setattr(engine_module, "ENGINE", fresh)
    requests: list[SimRequest] = []
    for i in range(50):
        requests.append(
            invoke_request(
                principal=ADMIN_SESSION,
                identity_policies=[ADMIN_POLICY],
                resource=arn("DELETE", f"/pets/{i}"),
                id=f"inv-{i}",
            )
        )
    for i in range(25):
        issuer = ISSUERS[i % 2]
        requests += _assume(
            issuer, ADMIN_ROLE, admin_trust(issuer), f"auth0|user{i}", CLIENT_ID, id=f"adm-{i}"
        )
        requests += _assume(
            issuer, BUYER_ROLE, buyer_trust(issuer), f"auth0|user{i}", CLIENT_ID, id=f"buy-{i}"
        )
    assert len(requests) == 100

    results = simulate(requests)
    again = simulate(requests[:10])

    assert [r.id for r in results] == [r.id for r in requests]
    assert sum(r.allowed for r in results) == 75  # 50 invokes + 25 admin assumptions
    assert [r.decision for r in again] == [r.decision for r in results[:10]]
    assert [c for c in started if "simulate.mjs" in c[-2]] == [started[0]], started
    fresh.close()


def _node_running(script: str) -> engine_module.NodeProcess:
    return engine_module.NodeProcess(lambda: ["node", "-e", script])


def test_an_engine_that_exits_is_unavailable_with_its_stderr_then_started_again() -> None:
    dying = _node_running("process.stderr.write('no more'); process.exit(3)")
    for _ in range(2):  # each batch meets a new process, which exits again
        with pytest.raises(engine_module.EngineUnavailable, match=r"exited 3:\nno more"):
            dying.ask("[]", timeout=10)


def test_an_engine_that_does_not_answer_in_time_is_unavailable() -> None:
    silent = _node_running("process.stdin.resume()")
    with pytest.raises(engine_module.EngineUnavailable, match="no answer in 1 s"):
        silent.ask("[]", timeout=1)


def test_missing_node_gives_an_actionable_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("harness_core.node.shutil.which", lambda name: None)
    # A process whose engine has not started yet (this one's may have).
    monkeypatch.setattr(engine_module, "ENGINE",
                        engine_module.NodeProcess(engine_module._simulate_command))
    with pytest.raises(NodeUnavailable, match=r"Node\.js >= 20"):
        simulate([SimRequest(action="execute-api:Invoke", resource="x", principal="y")])

"""Anything outside the IAM fragment fails closed, naming the construct and where it is."""

from __future__ import annotations

from typing import Any

import pytest

from prover.fragment import CannotProve, parse_policy
from prover.request_shapes import ConcreteInvoke
from prover.verdicts import InvokeJudge

ARN = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/v1/GET/pets"


def _policy(**statement: Any) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "Widened", "Effect": "Allow", "Action": "execute-api:Invoke", "Resource": ARN,
         **statement}]}


def _judge(document: dict[str, Any], kind: str = "identity") -> InvokeJudge:
    policy = parse_policy(document, "role/invoke", kind)  # type: ignore[arg-type]
    return InvokeJudge([policy] if kind == "identity" else [], None if kind == "identity"
                       else policy)


@pytest.mark.parametrize(("statement", "message"), [
    ({"Condition": {"StringEqualsIfExists": {"aws:PrincipalArn": "x"}}},
     "cannot prove: operator StringEqualsIfExists in role/invoke/Widened"),
    ({"Condition": {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}},
     "cannot prove: operator NumericLessThan in role/invoke/Widened"),
    ({"Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}},
     "cannot prove: operator IpAddress in role/invoke/Widened"),
    ({"Condition": {"StringEquals": {"aws:SourceVpc": "vpc-1"}}},
     "cannot prove: condition key aws:SourceVpc in role/invoke/Widened"),
    ({"Condition": {"StringLike": {"aws:PrincipalArn": "${aws:username}"}}},
     "cannot prove: policy variable in StringLike aws:PrincipalArn '${aws:username}' in "
     "role/invoke/Widened"),
    ({"Resource": "arn:aws:execute-api:eu-west-1:123456789012:*/v1/GET/pets"},
     "cannot prove: wildcard in the resource-type part '*/' of Resource"),
    ({"Resource": "execute-api:/v1/GET/pets"},
     "cannot prove: Resource 'execute-api:/v1/GET/pets' (neither * nor an ARN)"),
    ({"Resource": "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/v1/GET/pétś"},
     "cannot prove: character U+00E9 outside printable ASCII in Resource"),
    ({"Condition": {"ForAnyValue:Bool": {"aws:SecureTransport": "true"}}},
     "cannot prove: operator ForAnyValue:Bool in role/invoke/Widened"),
    ({"Condition": {"ArnLike": {"aws:PrincipalArn": "not-an-arn"}}},
     "cannot prove: ArnLike value 'not-an-arn' is no ARN in role/invoke/Widened"),
    ({"NotAction": "s3:*"}, "a statement needs exactly one of Action and NotAction"),
])
def test_outside_the_fragment_an_identity_policy_cannot_be_proved(statement: dict[str, Any],
                                                                  message: str) -> None:
    with pytest.raises(CannotProve) as refused:
        _judge(_policy(**statement))
    assert message in str(refused.value)
    assert str(refused.value).startswith("cannot prove: ")


@pytest.mark.parametrize(("principal", "message"), [
    ({"AWS": "123456789012"}, "cannot prove: account principal 123456789012 in api/Widened"),
    ({"AWS": "arn:aws:iam::123456789012:root"}, "account principal"),
    ({"AWS": "arn:aws:iam::123456789012:user/bob"}, "principal arn:aws:iam::123456789012:user/bob"
                                                    " (IAM users and unique ids)"),
    ({"CanonicalUser": "abc"}, "cannot prove: principal type CanonicalUser in api/Widened"),
    ({"AWS": "arn:aws:iam::123456789012:role/pets-*"}, "wildcard in principal"),
])
def test_outside_the_fragment_a_resource_policy_cannot_be_proved(principal: Any,
                                                                 message: str) -> None:
    document = _policy(Principal=principal)
    with pytest.raises(CannotProve) as refused:
        policy = parse_policy(document, "api", "resource")
        InvokeJudge([], policy)
    assert message in str(refused.value)


def test_a_single_valued_operator_on_a_multi_valued_key_is_refused() -> None:
    from prover.request_shapes import ConcreteToken
    from prover.verdicts import trust_verdict

    trust = {"Version": "2012-10-17", "Statement": [{
        "Sid": "Mfa", "Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::1:x"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {"tenant/:amr": "mfa"}}}]}
    token = ConcreteToken("arn:aws:iam::123456789012:oidc-provider/tenant/", "a", "s", ("mfa",),
                          ())
    with pytest.raises(CannotProve, match="StringEquals on the multi-valued key tenant/:amr "
                                          r"\(use ForAnyValue or ForAllValues\) in trust/Mfa"):
        trust_verdict(token, parse_policy(trust, "trust", "trust"), "arn:aws:iam::1:role/r")


def test_inside_the_fragment_the_same_policy_is_judged() -> None:
    """The control: the policy every refusal above starts from."""
    judge = _judge(_policy())
    session = "arn:aws:sts::123456789012:assumed-role/r/s"
    assert judge.verdict(ConcreteInvoke(ARN, session, session, "true")) == "Allowed"
    assert judge.verdict(ConcreteInvoke(ARN + "/x", session, session, "true")) == (
        "ImplicitlyDenied")

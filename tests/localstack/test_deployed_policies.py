"""LocalStack stores IAM but never enforces it, so the access matrix cannot be measured
there. The policies it holds are judged instead: the offline engine (iam-simulate)
evaluates the DEPLOYED trust and inline policies, read back from LocalStack, for every
class, route and demo identity, against access.py."""

from __future__ import annotations

import access
from iamsim.deployed import read_deployed
from iamsim.offline_matrix import compute_offline_matrices
from tests.support.deployed import Deployed


def test_deployed_policies_give_each_class_exactly_its_routes(deployed: Deployed) -> None:
    live = read_deployed("local", deployed.config(), deployed.outputs, {
        service: deployed.client(service) for service in ("iam", "apigateway", "sts")})
    matrices = compute_offline_matrices(live)
    assert matrices.ok, matrices.render()  # the problems come last


def test_deployed_policies_are_the_class_roles_of_the_model(deployed: Deployed) -> None:
    assert set(deployed.outputs["roles"]) == {c.name for c in access.USER_CLASSES}


def test_a_widened_deployed_policy_is_reported(deployed: Deployed) -> None:
    """The check above reads what LocalStack holds, not what the program declares: widen the
    deployed buyer role's policies and it must name the difference."""
    with deployed.buyer_invokes_everything():
        live = read_deployed("local", deployed.config(), deployed.outputs, {
            service: deployed.client(service) for service in ("iam", "apigateway", "sts")})
        problems = compute_offline_matrices(live).problems()
    assert any("Invoke matrix differs" in p for p in problems), problems
    assert any("must be denied but is allowed" in p for p in problems), problems

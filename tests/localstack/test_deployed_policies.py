"""LocalStack stores IAM but never enforces it, so the access matrix cannot be measured
there. The policies it holds are judged instead: the offline engine (iam-simulate)
evaluates the DEPLOYED trust and inline policies, read back from LocalStack, for every
class, route and demo identity, against access.py."""

from __future__ import annotations

from iamsim.deployed import read_deployed
from iamsim.matrix import compute_offline_matrices
from tests.localstack.conftest import Deployed


def test_deployed_policies_give_each_class_exactly_its_routes(deployed: Deployed) -> None:
    live = read_deployed("local", deployed.config(), deployed.outputs, {
        service: deployed.client(service) for service in ("iam", "apigateway", "sts")})
    matrices = compute_offline_matrices(live)
    assert matrices.ok, matrices.render()  # the problems come last


def test_deployed_policies_are_the_class_roles_of_the_model(deployed: Deployed) -> None:
    import access

    assert set(deployed.outputs["roles"]) == {c.name for c in access.USER_CLASSES}

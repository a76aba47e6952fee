"""The access proof on what LocalStack stores: LocalStack never enforces IAM, so the proof of
its deployed documents (every request, every token) is this leg's strongest access check.
The fresh stack's proof is tests/integration/test_prove_deployed.py's, which this leg runs
too; here, a widened policy that LocalStack cannot evaluate live."""

from __future__ import annotations

from devstack import proof
from prover.request_shapes import ConcreteInvoke
from tests.support.deployed import Deployed


def test_a_widened_deployed_policy_is_refuted_and_not_replayed_live(deployed: Deployed) -> None:
    """The proof reads what LocalStack holds: a widened buyer policy is refuted with its
    witness; LocalStack cannot evaluate it live, and the replay says why."""
    with deployed.buyer_invokes_everything():
        report = proof.prove_running(deployed.outputs, deployed.target, deployed.idp)
    assert report.exit_code == 1, report.render()
    refuted = [r for r in report.results if r.status == "refuted"]
    assert [r.label for r in refuted] == ["buyer: identity"], report.render()
    witness = refuted[0].counterexamples[0].request
    assert isinstance(witness, ConcreteInvoke)
    live = [r for r in report.replays if r.engine.startswith("live")]
    assert live and all(r.outcome == "not replayed" for r in live), report.render()
    assert not report.disagreements, report.render()

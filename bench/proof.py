"""The access proof's time (prover/, `make prove`): per stack file, the program's synthesis
under mocks and the proof of every theorem over every request, then one refuted theorem (the
buyer's trust widened to `auth0|z*`) with its witness search and its replay through
iam-simulate. Nothing runs an emulator."""

from __future__ import annotations

import copy
import dataclasses

from bench.common import Args, Json, med_range, spread, table, timed
from devstack import paths
from harness_core.stack_files import stack_names
from prover import replay
from prover.subject import Subject, synthesized_subject
from prover.theorems import prove


def _widened(subject: Subject) -> Subject:
    s = subject.synthesized
    buyer = s.class_roles["buyer"]
    trust = copy.deepcopy(buyer.trust_policy)
    statement = next(x for x in trust["Statement"] if x.get("Sid") == "MembersBySubPattern")
    [key] = statement["Condition"]["StringLike"]
    statement["Condition"]["StringLike"][key] = [*statement["Condition"]["StringLike"][key],
                                                 "auth0|z*"]
    roles = {**s.class_roles, "buyer": dataclasses.replace(buyer, trust_policy=trust)}
    return Subject(dataclasses.replace(s, class_roles=roles), "bench mutant")


def measure(args: Args) -> Json:
    stacks: Json = {}
    for stack in stack_names(paths.REPO):
        synth, proof, theorems = [], [], []
        for _ in range(args.repeats):
            seconds, subject = timed(lambda stack=stack: synthesized_subject(stack))
            synth.append(seconds)
            seconds, results = timed(lambda subject=subject: prove(subject))
            proof.append(seconds)
            assert all(r.status == "proved" for r in results), [r.label for r in results]
            theorems.append(len(results))
        stacks[stack] = {"synthesis": spread(synth), "proof": spread(proof),
                         "theorems": theorems[0]}
    mutant = _widened(synthesized_subject("local"))
    refute, replayed = [], []
    for _ in range(args.repeats):
        seconds, [result] = timed(lambda: prove(mutant, only=["buyer: trust"]))
        refute.append(seconds)
        assert result.status == "refuted"
        seconds, _ = timed(lambda result=result: replay.offline(result.counterexamples))
        replayed.append(seconds)
    return {"stacks": stacks, "refuted": {"witnesses": len(result.counterexamples),
                                          "prove": spread(refute), "replay": spread(replayed)}}


def report(r: Json) -> None:
    table("6. access proof, no emulator (s): per stack file, synthesis under mocks and every "
          "theorem over every request",
          ["stack", "theorems", "synthesis", "proof"],
          [[stack, str(s["theorems"]), med_range(s["synthesis"]), med_range(s["proof"])]
           for stack, s in r["stacks"].items()])
    refuted = r["refuted"]
    table("   one refuted theorem (local, buyer trust + auth0|z*), "
          f"{refuted['witnesses']} shortest witnesses (s)",
          ["refute + witnesses", "replay (iam-simulate)"],
          [[med_range(refuted["prove"]), med_range(refuted["replay"])]])

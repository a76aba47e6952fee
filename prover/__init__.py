"""The access proof: IAM policies encoded for the z3 SMT solver, theorems proved over every request.

fragment.py        the IAM fragment, parsed from policy documents; anything else fails closed
encoding.py        the fragment as z3 formulas (globs, ARN segments, operators, principals)
request_shapes.py  the two request shapes as variables: execute-api:Invoke, STS web identity
verdicts.py        the same formulas with every variable fixed: one concrete request's verdict
subject.py         what a proof is about: a stack's documents, synthesized or deployed
theorems.py        the theorems per class and per stack, and their counterexamples
witnesses.py       shortest readable counterexamples
replay.py          counterexamples replayed through iam-simulate (devstack/proof.py: live)
report.py          a stack's proof as text, and its exit status
revision.py        the program at another git revision, synthesized beside this one
diff.py            what a change grants and revokes (make access-diff)
cli.py             python -m prover prove | diff

prover imports harness_core, iamsim and the product; devstack (python -m devstack prove) and
bench import it.
"""

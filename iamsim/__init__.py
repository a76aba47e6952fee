"""The offline IAM engine: @cloud-copilot/iam-simulate asked about what the program deploys.

engine.py    the bridge to Node: one process per batch of SimRequests (`simulate`)
builders.py  requests of the two shapes asked about: execute-api Invoke, STS web identity
synth.py     the program recorded under mocks -> its roles, policies and methods
matrix.py    the offline Invoke and trust matrices, compared with access.py (`offline_matrices`)
deployed.py  the same documents read back from a running emulator (also what prover/ proves)
report.py    matrix tables and the comparison of two engines' matrices

The CLI is `python -m devstack matrix --offline`. iamsim imports harness_core and the product only.
"""

"""The access proof: IAM policies encoded for the z3 SMT solver, theorems proved for every request.
"""

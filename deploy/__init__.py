"""`make preview` / `make deploy`: the stack's settings, a preflight against the AWS account,
then the Pulumi CLI.

- preflight.py: what only the account can tell (and placeholders left in the stack file),
  checked before anything is created; pure checks over boto3 clients and plain values.
- state.py: what the stack's recorded state says about the next `pulumi up` (routes the
  model dropped that the stage still serves).
- cli.py: the driver (`python -m deploy preview|up --stack S`).

Product code: it reads access.py and components/, never the harness.
"""

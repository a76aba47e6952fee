"""The local apply: run the Pulumi program, unchanged, under the SDK's mock runtime
(harness_core/mock_runtime.py, the runner the recorder uses too) and create every resource it
declares in the emulator with boto3.

    from devstack.apply import apply_program
    result = apply_program(Path("."), "local", client_factory, {"oidcIssuer": "http://127.0.0.1:9555"})
    result.outputs["apiUrl"]; result.resources; result.seconds

`python -m devstack up` runs it against the local stack's emulator.

    program.py       apply_program / apply_function / load_config: the entry points
    mocks.py         the pulumi.runtime.Mocks that turns registrations into AWS calls
    kinds.py         how a resource type is declared: its inputs, once, Pulumi -> AWS
    services/        one module per AWS service: the kinds it creates; type token -> kind
    target.py        the apply's target (ApplyTarget): clients, region, account
    ordering.py      post-apply check that deployments came after what they deploy
    jitter.py        seeded delays and holds before creates (tests), so ordering.py sees
                     the orders a missing depends_on allows
    errors.py        the errors an apply raises; results.py what it returns
    SUPPORT.md       what each resource type maps to, and what the apply refuses
"""

from devstack.apply.errors import ApplyError, ResourceError
from devstack.apply.program import apply_function, apply_program, load_config, project_name
from devstack.apply.results import ApplyResult
from devstack.apply.target import ClientFactory

__all__ = ["ApplyError", "ApplyResult", "ClientFactory", "ResourceError", "apply_function",
           "apply_program", "load_config", "project_name"]

"""The machinery behind devstack/apply.py: run the Pulumi program under the SDK's mock
runtime (harness_core/mock_runtime.py, the runner the recorder uses too) and create every
resource it declares in the emulator with boto3.

    mocks.py         the pulumi.runtime.Mocks that turns registrations into AWS calls
    kinds.py         how a resource type is declared: its inputs, once, Pulumi -> AWS
    services/        one module per AWS service: the kinds it creates; type token -> kind
    target.py        the apply's target (ApplyTarget): clients, region, account
    ordering.py      post-apply check that deployments came after what they deploy
    jitter.py        seeded delays and holds before creates (tests), so ordering.py sees
                     the orders a missing depends_on allows
    errors.py        the errors an apply raises; results.py what it returns
"""

"""The machinery behind devstack/apply.py: run the Pulumi program under the SDK's mock
runtime (harness_core/mock_runtime.py, the runner the recorder uses too) and create every
resource it declares in the emulator with boto3.

    mocks.py         the pulumi.runtime.Mocks that turns registrations into AWS calls
    kinds.py         how a resource type is declared: its inputs, once, Pulumi -> AWS
    registry.py      resource type token -> its kind
    services/*.py    one module per AWS service: the kinds it creates
    target.py        the apply's target (ApplyTarget): clients, region, account, partition
    archives.py      Pulumi assets and archives -> bytes / in-memory zip
    ordering.py      post-apply check that deployments came after what they deploy
    errors.py        the errors an apply raises; results.py what it returns
"""

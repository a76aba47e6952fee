"""The machinery behind devstack/apply.py: run the Pulumi program under the SDK's mock
runtime and create every resource it declares in the emulator with boto3.

    runtime.py       run a program in an isolated SDK runtime, capture its exports
    mocks.py         the pulumi.runtime.Mocks that turns registrations into AWS calls
    registry.py      resource type token -> handler (and the inputs each handler honours)
    services/*.py    one module per AWS service: inputs -> boto3 calls -> outputs
    target.py        the AWS target: clients, region, account, partition
    archives.py      Pulumi assets and archives -> bytes / in-memory zip
    stack_config.py  Pulumi.yaml + Pulumi.<stack>.yaml -> the runtime's config map
    ordering.py      post-apply check that deployments came after what they deploy
    errors.py        the errors an apply raises; results.py what it returns
"""

"""DynamoDB for LocalStack community without Java: every operation served by moto.

LocalStack registers service providers as plugins under the `localstack.aws.provider`
entry point, and PROVIDER_OVERRIDE_<SERVICE>=<name> picks one. Its built-in `dynamodb`
providers proxy to DynamoDB Local (a Java download). This one hands the generated API
skeleton an empty implementation, so LocalStack's MotoFallbackDispatcher routes every
operation to moto's DynamoDB backend (conditional writes, PITR and table settings
included), the same way LocalStack serves many other services.
"""

from localstack.services.plugins import Service, aws_provider


@aws_provider(api="dynamodb", name="moto")
def dynamodb_moto() -> Service:
    from localstack.aws.api.dynamodb import DynamodbApi
    from localstack.services.moto import MotoFallbackDispatcher

    return Service.for_provider(DynamodbApi(), dispatch_table_factory=MotoFallbackDispatcher)

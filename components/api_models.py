"""API Gateway's request validation, from handlers/shapes.py.

A route with a JSON body gets its schema as a model (draft-04, the dialect API Gateway
speaks) and the API's one body validator, so a malformed body is refused at the gateway:
the function is never invoked, nor billed. The refusal is the gateway response
BAD_REQUEST_BODY, which keeps the API's JSON error shape and CORS headers (a browser must
be able to read why). The functions check again (handlers/validation.py), with the same
schemas, for what reaches them by other paths (a test event, a gateway that does not
validate, a rule JSON Schema cannot state the same in every validator).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

import access
from handlers import shapes

CONTENT_TYPE = "application/json"
# Static text: $context.error.validationErrorString would say which rule failed, but it
# carries unescaped quotes (breaking the JSON) and MiniStack does not render it.
BAD_BODY_MESSAGE = "invalid request body: it does not match the route's schema (openapi.json)"
BAD_BODY_TEMPLATE = json.dumps({"error": BAD_BODY_MESSAGE})


def models_needed(routes: Sequence[access.Route]) -> list[str]:
    """Schema names of the routes' bodies, in route order, each once."""
    names = [shapes.ROUTE_SHAPES[r.id].body for r in routes if r.id in shapes.ROUTE_SHAPES]
    return list(dict.fromkeys(n for n in names if n))


def model_document(name: str) -> str:
    return json.dumps(shapes.draft4(shapes.SCHEMAS[name]), sort_keys=True)


@dataclass
class RequestValidation:
    """The models and the body validator of one API."""

    validator: aws.apigateway.RequestValidator | None
    models: dict[str, aws.apigateway.Model]  # by schema name

    def method_args(self, route: access.Route) -> dict[str, pulumi.Input[object]]:
        """Method inputs that make API Gateway check the route's body, if it has one."""
        shape = shapes.ROUTE_SHAPES.get(route.id)
        if shape is None or shape.body is None or self.validator is None:
            return {}
        return {"request_models": {CONTENT_TYPE: self.models[shape.body].name},
                "request_validator_id": self.validator.id}

    @property
    def resources(self) -> list[pulumi.Resource]:
        return [*self.models.values(), *([self.validator] if self.validator else [])]


def request_validation(name: str, rest_api: aws.apigateway.RestApi,
                       routes: Sequence[access.Route],
                       opts: pulumi.ResourceOptions) -> RequestValidation:
    names = models_needed(routes)
    models = {
        model: aws.apigateway.Model(
            f"{name}-model-{model.lower()}",
            rest_api=rest_api.id,
            name=model,  # models are named per API, so the schema's own name is unique
            content_type=CONTENT_TYPE,
            description=shapes.SCHEMAS[model].get("description", ""),
            schema=model_document(model),
            opts=opts,
        )
        for model in names
    }
    validator = aws.apigateway.RequestValidator(
        f"{name}-validator-body",
        rest_api=rest_api.id,
        name="body",
        validate_request_body=True,
        validate_request_parameters=False,
        opts=opts,
    ) if names else None
    return RequestValidation(validator, models)


def bad_body_response(name: str, rest_api: aws.apigateway.RestApi,
                      response_parameters: Mapping[str, pulumi.Input[str]],
                      opts: pulumi.ResourceOptions) -> aws.apigateway.Response:
    """BAD_REQUEST_BODY as the API's JSON error, with the gateway's CORS headers
    (`gatewayresponse.header.<name>` -> a quoted value)."""
    return aws.apigateway.Response(
        f"{name}-gateway-bad-request-body",
        rest_api_id=rest_api.id,
        response_type="BAD_REQUEST_BODY",
        status_code="400",
        response_parameters=response_parameters,
        response_templates={CONTENT_TYPE: BAD_BODY_TEMPLATE},
        opts=opts,
    )

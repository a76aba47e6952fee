"""After an apply: did every API deployment come after what it deploys?

A deployment snapshots the API as it is when it is created. If a method, integration or
gateway response of the same API is created after it (a missing depends_on), AWS serves
the stage without it, while MiniStack routes to live resources and hides the bug. The
apply records when each resource started and finished, so the check is exact.
"""

from __future__ import annotations

from collections.abc import Sequence

from devstack.apply.results import CreatedResource

DEPLOYMENT = "aws:apigateway/deployment:Deployment"
# Type -> the input naming its REST API.
DEPLOYED_PARTS = {
    "aws:apigateway/resource:Resource": "restApi",
    "aws:apigateway/method:Method": "restApi",
    "aws:apigateway/integration:Integration": "restApi",
    "aws:apigateway/methodResponse:MethodResponse": "restApi",
    "aws:apigateway/integrationResponse:IntegrationResponse": "restApi",
    "aws:apigateway/response:Response": "restApiId",
    # API Gateway applies a resource policy with the next deployment.
    "aws:apigateway/restApiPolicy:RestApiPolicy": "restApiId",
    "aws:apigateway/model:Model": "restApi",
    "aws:apigateway/requestValidator:RequestValidator": "restApi",
}


def late_parts(resources: Sequence[CreatedResource]) -> list[str]:
    """One line per API part that did not finish before a deployment of its API started."""
    problems = []
    for deployment in (r for r in resources if r.type == DEPLOYMENT):
        api_id = deployment.outputs.get("restApi")
        for part in resources:
            key = DEPLOYED_PARTS.get(part.type)
            if key and part.outputs.get(key) == api_id and part.finished > deployment.started:
                problems.append(
                    f"{part.type} '{part.name}' was created after {DEPLOYMENT} '{deployment.name}' "
                    f"started: on AWS that deployment would not contain it (add it to the "
                    f"deployment's depends_on)"
                )
    return problems

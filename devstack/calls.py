"""Calling the API the way users do: ID token -> STS -> SigV4-signed requests.

STS AssumeRoleWithWebIdentity is an unsigned call (the token is the proof);
API calls are signed with botocore's SigV4 signer and the role's session
credentials, never with the emulator's root key.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from devstack import clients
from devstack.clients import Target

SERVICE = "execute-api"


def assume_role(
    role_arn: str,
    id_token: str,
    *,
    session_name: str = "pets-devstack",
    duration_seconds: int = 900,
    target: Target | None = None,
) -> dict[str, Any]:
    """Session credentials for `role_arn`; raises botocore ClientError when refused."""
    response = clients.unsigned_client("sts", target=target).assume_role_with_web_identity(
        RoleArn=role_arn,
        RoleSessionName=session_name,
        WebIdentityToken=id_token,
        DurationSeconds=duration_seconds,
    )
    return response["Credentials"]


def assume_role_unless_refused(role_arn: str, id_token: str, **kwargs: Any
                               ) -> dict[str, Any] | None:
    """Session credentials, or None when STS refuses the token (AccessDenied); any other
    error is raised."""
    try:
        return assume_role(role_arn, id_token, **kwargs)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "AccessDenied":
            return None
        raise


@dataclass
class Api:
    """The pets API at `base_url`, called with (or without) SigV4 credentials."""

    base_url: str  # the stage URL, e.g. http://127.0.0.1:4566/_aws/execute-api/<id>/<stage>
    region: str
    credentials: Mapping[str, Any] | None = None  # None: unsigned
    timeout: float = 30.0

    def prepare(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: str | bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> requests.PreparedRequest:
        """The request as it will be sent: signed when there are credentials."""
        body = jsonlib.dumps(json) if json is not None else data
        all_headers = {"Content-Type": "application/json"} if body is not None else {}
        all_headers.update(headers or {})
        url = self.base_url.rstrip("/") + path
        if self.credentials is not None:
            credentials = Credentials(self.credentials["AccessKeyId"],
                                      self.credentials["SecretAccessKey"],
                                      self.credentials.get("SessionToken"))
            aws_request = AWSRequest(method=method, url=url, data=body, headers=all_headers)
            SigV4Auth(credentials, SERVICE, self.region).add_auth(aws_request)
            all_headers = dict(aws_request.headers.items())
        return requests.Request(method, url, data=body, headers=all_headers).prepare()

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        with requests.Session() as session:
            return session.send(self.prepare(method, path, **kwargs), timeout=self.timeout)

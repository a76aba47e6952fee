"""The real pack over the analyzer protocol, as the Pulumi engine talks to it.

Starts policy/__main__.py (the real PolicyPack and its gRPC server) and sends
Analyze/AnalyzeStack requests built like the engine's: camelCase provider
property names in a Struct, unknowns as the engine's sentinel strings, and
property dependencies by URN. Shows the rules see what the engine sends.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import struct_pb2
from pulumi.runtime.proto import analyzer_pb2 as proto
from pulumi.runtime.proto import analyzer_pb2_grpc
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from tests.support.pack import urn

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def analyzer(tmp_path_factory) -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    cwd = tmp_path_factory.mktemp("pack")
    process = subprocess.Popen([sys.executable, str(ROOT / "policy" / "__main__.py")], cwd=cwd,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        line = process.stdout.readline().decode().strip()
        assert line.isdigit(), f"the pack did not start: {line!r} {process.stderr.read1()!r}"
        channel = grpc.insecure_channel(f"127.0.0.1:{line}")
        grpc.channel_ready_future(channel).result(timeout=30)
        yield analyzer_pb2_grpc.AnalyzerStub(channel)
        channel.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def struct(props: dict) -> struct_pb2.Struct:
    value = struct_pb2.Struct()
    value.update(props)
    return value


def analyze(stub, resource_type: str, name: str, props: dict) -> list[proto.AnalyzeDiagnostic]:
    request = proto.AnalyzeRequest(type=resource_type, name=name, urn=urn(resource_type, name),
                                   properties=struct(props))
    return list(stub.Analyze(request, timeout=30).diagnostics)


def test_unsigned_method_is_a_mandatory_violation(analyzer):
    diagnostics = analyze(analyzer, "aws:apigateway/method:Method", "m",
                          {"restApi": UNKNOWN_STRING_VALUE, "resourceId": UNKNOWN_STRING_VALUE,
                           "httpMethod": "GET", "authorization": "NONE"})
    assert [(d.policyName, d.enforcementLevel) for d in diagnostics] == [
        ("api-methods-use-aws-iam", proto.MANDATORY)]
    assert "set authorization='AWS_IAM'" in diagnostics[0].message


def test_signed_method_passes(analyzer):
    assert analyze(analyzer, "aws:apigateway/method:Method", "m",
                   {"httpMethod": "GET", "authorization": "AWS_IAM"}) == []


def test_unknown_document_is_reported_as_not_checkable_in_preview(analyzer):
    diagnostics = analyze(analyzer, "aws:iam/rolePolicy:RolePolicy", "p",
                          {"role": UNKNOWN_STRING_VALUE, "policy": UNKNOWN_STRING_VALUE})
    assert [(d.policyName, d.enforcementLevel) for d in diagnostics] == [
        ("iam-no-broad-invoke", proto.ADVISORY)]
    assert "can't run policy 'iam-no-broad-invoke'" in diagnostics[0].message
    assert "during preview" in diagnostics[0].message


def test_stack_rule_traces_paths_through_dependencies_in_preview(analyzer):
    api = urn("aws:apigateway/restApi:RestApi", "api")
    pets = urn("aws:apigateway/resource:Resource", "pets")
    method = urn("aws:apigateway/method:Method", "get-pets")

    def resource(resource_type: str, resource_urn: str, props: dict, deps: dict | None = None):
        return proto.AnalyzerResource(
            type=resource_type, urn=resource_urn, name=resource_urn.rsplit("::", 1)[1],
            properties=struct(props),
            propertyDependencies={k: proto.AnalyzerPropertyDependencies(urns=v)
                                  for k, v in (deps or {}).items()})

    request = proto.AnalyzeStackRequest(resources=[
        resource("aws:apigateway/restApi:RestApi", api,
                 {"name": "pets", "id": UNKNOWN_STRING_VALUE,
                  "rootResourceId": UNKNOWN_STRING_VALUE}),
        resource("aws:apigateway/resource:Resource", pets,
                 {"pathPart": "pets", "parentId": UNKNOWN_STRING_VALUE,
                  "restApi": UNKNOWN_STRING_VALUE, "id": UNKNOWN_STRING_VALUE},
                 {"parentId": [api], "restApi": [api]}),
        resource("aws:apigateway/method:Method", method,
                 {"httpMethod": "GET", "authorization": "NONE",
                  "resourceId": UNKNOWN_STRING_VALUE, "restApi": UNKNOWN_STRING_VALUE},
                 {"resourceId": [pets], "restApi": [api]}),
    ])
    diagnostics = list(analyzer.AnalyzeStack(request, timeout=30).diagnostics)
    # The crafted API also lacks a resource policy (api-resource-policy says so); this test
    # is about the path traced through the dependencies.
    diagnostics = [d for d in diagnostics if d.urn != api]
    assert [(d.policyName, d.enforcementLevel, d.urn) for d in diagnostics] == [
        ("api-public-methods-match-model", proto.MANDATORY, method)]
    assert "(GET /pets) uses authorization 'NONE'" in diagnostics[0].message


@pytest.mark.parametrize("protect", [True, False])
def test_table_protect_option_reaches_the_pack(analyzer, protect):
    """The engine sends `protect` in the request's options; the pack reads it there."""
    props = {"name": "pets-x-pets", "deletionProtectionEnabled": True,
             "pointInTimeRecovery": {"enabled": True}, "serverSideEncryption": {"enabled": True}}
    request = proto.AnalyzeRequest(
        type="aws:dynamodb/table:Table", name="t", urn=urn("aws:dynamodb/table:Table", "t"),
        properties=struct(props), options=proto.AnalyzerResourceOptions(protect=protect))
    diagnostics = list(analyzer.Analyze(request, timeout=30).diagnostics)
    names = [d.policyName for d in diagnostics]
    assert names == ([] if protect else ["dynamodb-deletion-protection"])

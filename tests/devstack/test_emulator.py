"""The emulator harness: start, health, identity, isolation, errors, clean stop."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import signal
import socket
import sys
import time
import zipfile
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from devstack import clients, paths
from devstack.clients import EXTERNAL_ENDPOINT_ENV, Target
from devstack.errors import DevstackError
from devstack.processes import emulator, procs
from devstack.processes.procs import PortInUseError, StartupError
from tests.support.private import private_name, service_trust
from tests.support.processes import alive, family_pids, installed, listeners, pins

ACCOUNT = "000000000000"

PROBE_HANDLER = """
import importlib.util
import sys


def handler(event, context):
    print("probe")  # one log line: MiniStack answers ~50 ms sooner when a handler logs
    found = {m: importlib.util.find_spec(m) is not None
             for m in ("boto3", "requests", "jwcrypto", "pulumi", "moto", "ministack")}
    return {"python": list(sys.version_info[:2]), "executable": sys.executable, "found": found}
"""


def deploy_and_invoke_probe(target: Target, function: str) -> dict[str, Any]:
    """Create (as root) a Lambda that reports its interpreter, invoke it, return its answer."""
    iam = clients.client("iam", target=target)
    role = iam.create_role(RoleName=f"{function}-role", AssumeRolePolicyDocument=json.dumps(
        service_trust("lambda.amazonaws.com")))
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("probe.py", PROBE_HANDLER)
    lam = clients.client("lambda", target=target)
    lam.create_function(
        FunctionName=function,
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="probe.handler",
        Code={"ZipFile": archive.getvalue()},
    )
    answer = lam.invoke(FunctionName=function)
    assert "FunctionError" not in answer, answer["Payload"].read()
    return dict(json.loads(answer["Payload"].read()))


def test_health_reports_the_services_the_app_uses(emulator_target: Target) -> None:
    health = emulator.ENGINES["ministack"].health_path
    response = requests.get(emulator_target.endpoint_url + health, timeout=5)
    assert response.status_code == 200
    services = response.json()["services"]
    for service in ("sts", "iam", "lambda", "dynamodb", "apigateway", "s3", "logs"):
        assert services.get(service) == "available", service


def test_root_caller_identity_is_the_local_account(emulator_target: Target) -> None:
    assert emulator_target.account_id == ACCOUNT
    assert emulator_target.started and not emulator_target.external
    identity = clients.client("sts", target=emulator_target).get_caller_identity()
    assert identity["Account"] == ACCOUNT
    assert identity["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"


def test_emulator_listens_on_loopback_only(emulator_target: Target) -> None:
    assert emulator_target.pid is not None
    sockets = listeners(family_pids(emulator_target.pid))
    port = int(emulator_target.endpoint_url.rsplit(":", 1)[1])
    assert ("tcp", "127.0.0.1", port) in sockets  # the scan sees the gateway itself
    assert {address for _, address, _ in sockets} == {"127.0.0.1"}, sockets


def test_lambda_runs_on_the_emulator_venv_with_only_boto3(emulator_target: Target) -> None:
    answer = deploy_and_invoke_probe(emulator_target, "devstack-probe")
    assert answer["python"] == [3, 12]
    assert answer["executable"].startswith(str(paths.EMULATOR_VENV))
    found = answer["found"]
    assert found["boto3"] is True
    # The project venv's packages must not leak into handlers (as on AWS, only the zip).
    assert not any(found[m] for m in ("requests", "jwcrypto", "pulumi", "moto")), found


def test_emulator_venv_holds_exactly_the_pinned_requirements() -> None:
    frozen = installed(emulator.ensure_venv("ministack"))
    pinned = pins(paths.EMULATOR_REQUIREMENTS.read_text().splitlines())
    assert frozen == pinned


def test_role_credentials_are_passed_and_enforced(emulator_target: Target) -> None:
    iam = clients.client("iam", target=emulator_target)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = iam.create_role(
        RoleName="devstack-test-reader", AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]
    allow_list_tables = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "dynamodb:ListTables", "Resource": "*"}],
    }
    iam.put_role_policy(
        RoleName=role["RoleName"],
        PolicyName="list-tables",
        PolicyDocument=json.dumps(allow_list_tables),
    )
    sts = clients.client("sts", target=emulator_target)
    creds = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="probe")["Credentials"]

    who = clients.client("sts", creds, target=emulator_target).get_caller_identity()
    assert who["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/devstack-test-reader/probe"
    clients.client("dynamodb", creds, target=emulator_target).list_tables()  # allowed
    with pytest.raises(ClientError) as denied:
        clients.client("iam", creds, target=emulator_target).list_roles()
    assert denied.value.response["Error"]["Code"] in ("AccessDenied", "AccessDeniedException")


def test_start_refuses_while_one_runs_under_the_name(
    emulator_target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(EXTERNAL_ENDPOINT_ENV, raising=False)
    with pytest.raises(DevstackError, match=r"already running.*stop it first"):
        emulator.start(name=private_name("emulator"))
    recorded = clients.recorded_emulator(private_name("emulator"))
    assert recorded is not None and recorded.pid == emulator_target.pid  # left running


def test_aws_endpoint_url_is_used_and_nothing_started(
    emulator_target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(EXTERNAL_ENDPOINT_ENV, emulator_target.endpoint_url + "/")
    name = private_name("emulator-external")
    target = emulator.start(name=name)
    assert target.external and not target.started and target.pid is None
    assert target.endpoint_url == emulator_target.endpoint_url
    assert target.account_id == ACCOUNT
    assert procs.running(name) is None
    assert clients.current_target() == target
    assert emulator.stop(name) is False


def test_port_in_use_error_names_the_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(EXTERNAL_ENDPOINT_ENV, raising=False)
    name = private_name("emulator-busy")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(PortInUseError, match=rf"port {port} on 127\.0\.0\.1 is already in use"):
            emulator.start(port, name=name)
    assert procs.running(name) is None


def test_failed_start_reports_the_log_tail(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(EXTERNAL_ENDPOINT_ENV, raising=False)
    name = private_name("emulator-broken")
    # MiniStack passes LOG_LEVEL to logging, which raises on an unknown level and exits 1.
    ministack = emulator.ENGINES["ministack"]
    broken = dataclasses.replace(
        ministack, environment=lambda *a: {**ministack.environment(*a), "LOG_LEVEL": "NOPE"})
    monkeypatch.setitem(emulator.ENGINES, "ministack", broken)
    with pytest.raises(StartupError) as failure:
        emulator.start(procs.free_port(), name=name, engine="ministack")
    message = str(failure.value)
    assert "exited with code 1" in message
    assert str(paths.log_file(name)) in message
    assert "ValueError: Unknown level" in message  # the emulator's own words, from the log
    assert procs.running(name) is None
    assert not (paths.TMP / name).exists()


STUBBORN = """
import signal, subprocess, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)  # inherited by the child: both ignore SIGTERM
child = subprocess.Popen(["sleep", "60"])
print("ready", child.pid, flush=True)
time.sleep(60)
"""


def test_stop_escalates_to_sigkill_for_the_whole_family() -> None:
    name = private_name("stubborn")
    procs.stop(name)
    proc = procs.spawn(
        name, [sys.executable, "-c", STUBBORN], env={"PATH": os.environ["PATH"]}, info={}
    )
    procs.wait_ready(name, proc, lambda: "ready" in paths.log_file(name).read_text(), 10)
    child = int(paths.log_file(name).read_text().split()[1])
    assert alive(child)
    assert procs.stop(name, timeout=0.5) is True
    assert proc.poll() == -signal.SIGKILL  # it ignored SIGTERM: stop escalated
    assert not alive(child)
    assert procs.running(name) is None


def test_stop_ends_the_emulator_and_its_lambda_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(EXTERNAL_ENDPOINT_ENV, raising=False)
    name = private_name("emulator-stop")
    emulator.stop(name)
    port = procs.free_port()
    target = emulator.start(port, name=name)
    assert target.pid is not None
    deploy_and_invoke_probe(target, "devstack-stop-probe")  # leaves a warm worker process
    family = family_pids(target.pid)
    assert len(family) >= 2, family  # the gateway and at least one Lambda worker

    assert emulator.stop(name) is True
    left = [pid for pid in family if alive(pid)]
    assert left == []
    assert not paths.pid_file(name).exists()
    assert not (paths.TMP / name).exists()
    deadline = time.monotonic() + 30  # the copy moved aside is deleted in the background
    while list(paths.TMP.glob(f".trash-{name}-*")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not list(paths.TMP.glob(f".trash-{name}-*"))
    procs.check_port_free(port, "after stop")  # raises if anything still listens
    assert emulator.stop(name) is False


def test_engine_is_chosen_by_argument_then_pets_target(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(emulator.TARGET_ENV, raising=False)
    assert emulator.engine_named().name == "ministack"
    monkeypatch.setenv(emulator.TARGET_ENV, "localstack")
    assert emulator.engine_named().name == "localstack"
    assert emulator.engine_named("ministack").name == "ministack"


def test_unknown_engine_names_the_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(emulator.TARGET_ENV, "moto")
    with pytest.raises(DevstackError, match=r"unknown emulator 'moto'.*ministack, localstack"):
        emulator.engine_named()

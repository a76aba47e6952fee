"""The whole local stack: emulator + identity provider + the program applied to them.

`up` always starts from a clean state (everything `up` started before is
stopped first; the emulator keeps no state), so two `up`s in a row behave the
same. `down` stops exactly what `up` started, by pid.

What can overlap does: the identity provider starts as soon as the program's outputs are
known, while the apply waits for the functions to become Active; with warm_up, each function
gets its first call (its cold start) right after it is created, while the apply goes on.
"""

from __future__ import annotations

import functools
import json
import os
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devstack import clients, paths, pulumi_engine
from devstack.apply import ApplyResult, ClientFactory, apply_program, load_config
from devstack.apply.results import CreatedResource
from devstack.clients import Target
from devstack.errors import DevstackError
from devstack.idp import idp_process
from devstack.processes import emulator, procs
from harness_core import mock_runtime
from harness_core.node import ensure_packages
from iamsim import engine as iam_engine

STACK = "local"
BASELINE_DIR = paths.REPO / "account"  # the account baseline, applied before the app
OUTPUTS_FILE = paths.STATE / "outputs.json"
TIMINGS_FILE = paths.STATE / "up-timings.json"  # `devstack up`'s where-the-time-went, as data
OUTPUT_KEYS = ("endpoint", "engine", "region", "apiUrl", "restApiId", "stage", "roles",
               "oidcIssuer", "oidcClientId", "oidcClient", "classGrants", "tableName", "siteUrl")
DEPLOYERS = ("apply", "pulumi")  # the local apply (default), or the real engine (Pulumi CLI)
FUNCTION_TYPE = "aws:lambda/function:Function"
# A request no route matches: the function starts its first worker (MiniStack unpacks the
# package, starts Python, imports the handler) and answers 404, reading and writing nothing.
WARM_UP_EVENT = {"httpMethod": "GET", "path": "/devstack-warm-up", "resource": "/devstack-warm-up",
                 "headers": {}, "multiValueHeaders": {}, "queryStringParameters": None,
                 "body": None, "requestContext": {"requestId": "devstack-warm-up",
                                                  "identity": {}}}


@dataclass(frozen=True)
class Stack:
    target: Target
    idp: idp_process.Idp
    outputs: dict[str, Any]
    apply: ApplyResult | None  # None for a stack found running, or deployed by the Pulumi CLI
    idp_name: str = idp_process.NAME
    outputs_file: Path | None = OUTPUTS_FILE
    baseline: ApplyResult | None = None  # the account baseline's apply, as `apply`
    # Where up's time went (seconds): emulator, apply (baseline + app), then what was still
    # to wait for after the apply: idp.
    timings: Mapping[str, float] = field(default_factory=dict)
    warming: tuple[Future[None], ...] = ()  # the functions' first calls (up(warm=True))

    def wait_warm(self) -> float:
        """Wait until every function had its first call; the seconds waited. Raises what a
        warm-up raised (a function that cannot even answer it)."""
        started = time.monotonic()
        for warming in self.warming:
            warming.result()
        return time.monotonic() - started


def baseline_overrides(app_config: Mapping[str, str]) -> dict[str, Any]:
    """The account baseline's settings for an app stack's config: its issuer's provider,
    listing its client id (`pets-account:` keys, as overrides of account/Pulumi.<stack>.yaml)."""
    issuer, client_id = app_config["pets:oidcIssuer"], app_config["pets:oidcClientId"]
    return {"issuers": {issuer: {"clientIds": [client_id]}}}


def apply_local(factory: ClientFactory, overrides: Mapping[str, Any] | None = None, *,
                allow_failed_functions: bool = False,
                on_created: Callable[[CreatedResource], None] | None = None,
                on_outputs: Callable[[dict[str, Any]], None] | None = None,
                ) -> tuple[ApplyResult, ApplyResult]:
    """The account baseline, then the `local` app stack, into the target the factory's clients
    reach: as on AWS, the app finds the issuer's OIDC provider the baseline created.

    overrides: `pets:` settings over Pulumi.local.yaml; the baseline trusts the issuer and
    client id they end up with. on_created, on_outputs: the app's apply's (apply_function)."""
    app_config = load_config(paths.REPO, STACK, overrides)
    shared = functools.cache(factory)  # boto3 clients are thread-safe: made once for both
    baseline = apply_program(BASELINE_DIR, STACK, shared, baseline_overrides(app_config))
    app = apply_program(paths.REPO, STACK, shared, overrides,
                        allow_failed_functions=allow_failed_functions,
                        on_created=on_created, on_outputs=on_outputs)
    return baseline, app


def warm_up(lambda_client: Any, function_name: str) -> None:
    """Calls the function once (WARM_UP_EVENT), so that its first worker is running before
    anyone needs it; a DevstackError if the function cannot even answer that."""
    answer = lambda_client.invoke(FunctionName=function_name,
                                  Payload=json.dumps(WARM_UP_EVENT).encode())
    payload = answer["Payload"].read()
    if answer.get("FunctionError"):
        raise DevstackError(f"function {function_name} failed its first call: "
                            f"{payload[:500].decode(errors='replace')}")


def install(engine: str | None = None) -> None:
    """Everything the local stack and the tests need beyond the project venv (Chromium for the
    browser tests: `make chromium`). The parts are independent and mostly wait on their
    installers (uv, two `npm ci`), so they run side by side: every test waits for them."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        parts = [pool.submit(emulator.ensure_venv, engine),
                 pool.submit(ensure_packages, paths.IDP_SOURCE),
                 pool.submit(idp_process.signing_key),
                 pool.submit(ensure_packages, iam_engine.PACKAGE_DIR)]
        for part in parts:
            part.result()


def _require_built() -> None:
    if not (paths.REPO / "build" / "lambda" / "code" / "app.py").is_file():
        raise DevstackError("the Lambda package is not built: run `make package` (or `make up`)")
    if not (paths.REPO / "site" / "vendor").is_dir():
        raise DevstackError("the site's libraries are not vendored: run `make site` "
                            "(or `make up`)")


def up(*, emulator_name: str = clients.EMULATOR_NAME, idp_name: str = idp_process.NAME,
       idp_port: int | None = None, outputs_file: Path | None = OUTPUTS_FILE,
       engine: str | None = None, config: Mapping[str, str] | None = None,
       deployer: str = "apply", warm: bool = False, in_memory: bool = False) -> Stack:
    """Start the emulator and identity provider, apply the account baseline and the `local`
    stack (apply_local), write outputs.

    engine: ministack or localstack (default $PETS_TARGET, else ministack); ignored when
    AWS_ENDPOINT_URL names the user's own emulator.
    config: `pets:` settings over the stack file's (e.g. a short idTokenLifetimeSeconds).
    deployer: "apply" (the local apply of the `local` stacks) or "pulumi" (`pulumi up` of the
    `localstack` stacks, baseline first, with the Automation API; needs the Pulumi CLI).
    warm: give each function its first call as soon as it exists (warm_up), on a target that
    runs functions (MiniStack), so that the first calls after `up` find them running. `make
    up` does; the tests do not, and so meet the cold starts a fresh deployment has. `up`
    returns while they may still run: Stack.wait_warm waits for them.
    in_memory: the emulator unpacks Lambda packages in memory where there is room
    (emulator.start), which makes each new worker cheaper; `make up` and the tests' session
    stack do.
    """
    if deployer not in DEPLOYERS:
        raise DevstackError(f"deployer {deployer!r}: use one of {', '.join(DEPLOYERS)}")
    if deployer == "pulumi" and (reason := pulumi_engine.unavailable()):
        raise DevstackError(f"--engine pulumi: {reason}")
    _require_built()
    down(emulator_name=emulator_name, idp_name=idp_name, outputs_file=outputs_file)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="emulator") as starter:
        starting = starter.submit(emulator.start, name=emulator_name, engine=engine,
                                  in_memory=in_memory)
        if deployer == "apply":  # the program's libraries load while the emulator starts
            mock_runtime.preload(paths.REPO)
        target = starting.result()
    timings = {"emulator": time.monotonic() - started}
    # MiniStack takes an http issuer and runs every function. AWS and LocalStack register
    # only https OIDC providers, and LocalStack without Docker stores functions but cannot
    # run them: the apply goes on and says so (what needs a running function is probed).
    ministack = target.engine == "ministack"
    try:
        port = idp_port or int(os.environ.get(idp_process.PORT_ENV) or idp_process.DEFAULT_PORT)
        procs.check_port_free(port, "identity provider")
        issuer = f"{'http' if ministack else 'https'}://{procs.LOOPBACK}:{port}"
        # The identity provider is never contacted during the apply: its issuer is config.
        overrides = {"oidcIssuer": issuer, "stsEndpoint": target.endpoint_url, **(config or {})}
        # Threads: the IdP's start and the warm-ups wait on other processes, not our CPU.
        pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="up")
        idp_started: list[Future[idp_process.Idp]] = []

        def start_idp(program_outputs: Mapping[str, Any]) -> None:
            # The identity provider registers only what the program declares: the client,
            # its registration and the grants are the program's, not the harness's.
            idp_started.append(pool.submit(
                idp_process.start, port, name=idp_name, tls=not ministack,
                client_id=program_outputs.get("oidcClientId", ""),
                registration=program_outputs.get("oidcClient") or {},
                class_grants=program_outputs.get("classGrants")))

        warm_ups: list[Future[None]] = []
        lambda_client = clients.client("lambda", target=target) if warm and ministack else None

        def warm_function(resource: CreatedResource) -> None:
            if lambda_client is not None and resource.type == FUNCTION_TYPE:
                warm_ups.append(pool.submit(warm_up, lambda_client, resource.id))

        try:
            applying = time.monotonic()
            result = baseline = None
            if deployer == "pulumi":
                app_config = load_config(paths.REPO, pulumi_engine.STACK, overrides)
                program_outputs = pulumi_engine.up(target.endpoint_url, overrides,
                                                   baseline_overrides(app_config))
            else:
                baseline, result = apply_local(
                    lambda service: clients.client(service, target=target), overrides,
                    allow_failed_functions=not ministack, on_created=warm_function,
                    on_outputs=start_idp)
                program_outputs = result.outputs
            timings["apply"] = time.monotonic() - applying
            outputs = {"endpoint": target.endpoint_url, "engine": target.engine,
                       **program_outputs}
            if missing := set(OUTPUT_KEYS) - set(outputs):
                raise DevstackError(f"the program exported no {sorted(missing)}")
            if not idp_started:  # the Pulumi CLI tells the outputs only at its end
                start_idp(outputs)
            waiting = time.monotonic()
            idp = idp_started[0].result()
            timings["idp"] = time.monotonic() - waiting
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)  # nothing still starting below
            raise
        pool.shutdown(wait=False)  # the warm-ups go on: Stack.wait_warm waits for them
    except BaseException:
        idp_process.stop(idp_name)
        emulator.stop(emulator_name)
        raise
    if outputs_file is not None:
        outputs_file.parent.mkdir(parents=True, exist_ok=True)
        outputs_file.write_text(json.dumps({k: outputs[k] for k in OUTPUT_KEYS}, indent=2) + "\n")
    return Stack(target, idp, outputs, result, idp_name, outputs_file, baseline, timings,
                 tuple(warm_ups))


def down(*, emulator_name: str = clients.EMULATOR_NAME, idp_name: str = idp_process.NAME,
         outputs_file: Path | None = OUTPUTS_FILE) -> list[str]:
    """Stop what `up` started; returns what was stopped."""
    stopped = []
    if idp_process.stop(idp_name):
        stopped.append("identity provider")
    if emulator.stop(emulator_name):
        stopped.append("emulator")
    if outputs_file is not None:
        outputs_file.unlink(missing_ok=True)
        if outputs_file == OUTPUTS_FILE:
            TIMINGS_FILE.unlink(missing_ok=True)
    return stopped


def load_outputs(path: Path = OUTPUTS_FILE) -> dict[str, Any]:
    if not path.is_file():
        raise DevstackError(f"{path} not found: the local stack is not up (run `make up`)")
    return dict(json.loads(path.read_text()))

"""The one runner of a Pulumi program under the SDK's mock runtime, isolated from every
other run: the local apply (devstack) and the recorder (recorder.py) both run on it.

The SDK keeps its runtime state (settings, root stack, config) in context variables and
runs on the thread's asyncio loop. Each run therefore gets its own thread, a fresh empty
context and a fresh loop, and is torn down completely afterwards: successive runs in
one process (tests) do not see each other's stack, config or pending tasks, and the
caller's own context (e.g. unit tests using set_mocks) is never touched.

Runs are serialised with a lock because a program run from a folder needs the
process-wide current directory and sys.path, as under the Pulumi CLI.
"""

from __future__ import annotations

import ast
import asyncio
import concurrent.futures
import contextlib
import contextvars
import importlib
import logging
import os
import runpy
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks as sdk_mocks
from pulumi.runtime import resource as sdk_resource
from pulumi.runtime import settings as sdk_settings
from pulumi.runtime import stack as sdk_stack
from pulumi.runtime.proto import source_pb2

from harness_core.errors import ProgramRunError

log = logging.getLogger(__name__)
_RUN_LOCK = threading.Lock()
_REGISTRATION_THREADS = 32
GET_REGION = "aws:index/getRegion:getRegion"
GET_CALLER_IDENTITY = "aws:index/getCallerIdentity:getCallerIdentity"
GET_OIDC_PROVIDER = "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider"
# What a Mocks.call returns: the answer, or (answer, failures) where a failure is
# (property, reason): the SDK raises it in the program, as for a provider's failed invoke.
CallResult = dict[str, Any] | tuple[dict[str, Any], list[tuple[str, str]]]


@dataclass(frozen=True)
class OidcProvider:
    """An IAM OIDC provider of the account, as a lookup reads it."""

    arn: str
    url: str  # as the target stores it: AWS without the scheme, MiniStack with it
    client_ids: tuple[str, ...]
    thumbprints: tuple[str, ...] = ()


def oidc_provider_path(issuer_url: str) -> str:
    """Issuer URL without its scheme: the provider part of the ARN and of the condition keys.

    `https://tenant.auth0.com/` -> `tenant.auth0.com/` (the trailing slash is kept: IAM names
    the provider, and its keys, after the URL as registered; with or without it is another
    provider). AWS takes only https; emulators also take http.
    """
    return issuer_url.split("://", 1)[-1]


def oidc_provider_arn(issuer_url: str, *, account: str) -> str:
    return f"arn:aws:iam::{account}:oidc-provider/{oidc_provider_path(issuer_url)}"


def _oidc_provider_answer(args: Mapping[str, Any],
                          providers: Callable[[], Iterable[OidcProvider]]) -> CallResult:
    """As pulumi-aws 7's data source (terraform-provider-aws): by `arn`, or by `url`: the
    provider named `<url without https://>` exactly (so `https://x/` and `https://x` are two
    providers). The provider compares that name with the ARN's, which on AWS is the stored URL
    without its scheme; MiniStack drops a trailing slash from the ARN but keeps the URL as
    given, so the stored URL is compared here. None found is the provider's error."""
    arn, url = args.get("arn"), str(args.get("url") or "")
    for provider in providers():
        if (provider.arn == arn if arn
                else oidc_provider_path(provider.url) == oidc_provider_path(url)):
            return {"arn": provider.arn, "id": provider.arn,
                    "url": oidc_provider_path(provider.url),  # as AWS answers it
                    "clientIdLists": list(provider.client_ids),
                    "thumbprintLists": list(provider.thumbprints), "tags": {}}
    what = "arn" if arn else "url"
    return {}, [(what, f"reading IAM OIDC Provider ({args.get(what)}): couldn't find resource")]


def invoke_answer(
    token: str,
    args: Mapping[str, Any],
    *,
    account: str,
    region: str,
    caller_arn: str,
    oidc_providers: Callable[[], Iterable[OidcProvider]],
) -> CallResult | None:
    """AWS's answer to one of the program's invokes (region, caller identity, an IAM OIDC
    provider by URL); None for any other, which the Mocks must refuse: unmocked, the SDK
    answers {} silently. oidc_providers: the account's, asked only for that lookup."""
    if token == GET_REGION:
        return {"region": region, "name": region, "id": region}
    if token == GET_CALLER_IDENTITY:
        return {"accountId": account, "arn": caller_arn, "userId": account, "id": account}
    if token == GET_OIDC_PROVIDER:
        return _oidc_provider_answer(args, oidc_providers)
    return None


def program_from_folder(program_dir: Path) -> Callable[[], None]:
    main = program_dir / "__main__.py"
    if not main.is_file():
        raise ProgramRunError(f"{main} not found")

    def run() -> None:
        runpy.run_path(str(main), run_name="__main__")

    return run


def preload(program_dir: Path) -> None:
    """Import what the program in `program_dir` imports (its __main__.py's top-level import
    statements) without running it, in the program's environment, so that its own modules
    are forgotten afterwards as after a run: the libraries it uses (pulumi_aws, pulumi_auth0:
    about 0.4 s of imports for the app) stay loaded and a run that follows starts at once.
    For a caller with time to fill, e.g. while an emulator starts.

    A failing import is left to the run, which reports it as the program's failure."""
    source = Path(program_dir) / "__main__.py"
    tree = ast.parse(source.read_text(), str(source))
    names = [alias.name for node in tree.body if isinstance(node, ast.Import)
             for alias in node.names]
    names += [node.module for node in tree.body
              if isinstance(node, ast.ImportFrom) and node.module and node.level == 0]
    with _RUN_LOCK, _program_environment(Path(program_dir)):
        for name in names:
            try:
                importlib.import_module(name)
            except Exception:  # the run imports it again and says what failed
                log.debug("preload: importing %s failed", name, exc_info=True)


def run_under_mocks(
    program: Callable[[], None],
    mocks: pulumi.runtime.Mocks,
    *,
    project: str,
    stack: str,
    config: Mapping[str, str],
    program_dir: Path | None = None,
    timeout: float = 300.0,
    monitor: sdk_mocks.MockMonitor | None = None,
) -> dict[str, Any]:
    """Run `program` with `mocks` as the resource monitor; return the resolved exports.

    program_dir: the folder to run in (cwd and first on sys.path, as the CLI does).
    monitor: the SDK's MockMonitor (or a subclass that sees each request) built on
    `mocks`; default a plain one.
    Raises the error the program or a registration (the Mocks) raised, as it was raised;
    ProgramRunError if the run does not finish within `timeout` seconds.
    """
    outcome: dict[str, Any] = {}

    def body() -> None:
        try:
            outcome["outputs"] = _run_in_fresh_runtime(
                program, mocks, project, stack, config, monitor
            )
        except BaseException as exc:  # handed to the calling thread
            outcome["error"] = exc

    with _RUN_LOCK, _program_environment(program_dir), _no_stack_traces():
        worker = threading.Thread(
            target=lambda: contextvars.Context().run(body),
            name=f"pulumi-run-{stack}",
            daemon=True,
        )
        worker.start()
        worker.join(timeout)
        if worker.is_alive():
            raise ProgramRunError(
                f"the program did not finish within {timeout:.0f} s (a registration or output "
                "never resolved)"
            )
    if "error" in outcome:
        raise outcome["error"]
    return dict(outcome["outputs"])


def _run_in_fresh_runtime(
    program: Callable[[], None],
    mocks: pulumi.runtime.Mocks,
    project: str,
    stack: str,
    config: Mapping[str, str],
    monitor: sdk_mocks.MockMonitor | None,
) -> Any:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    # The SDK runs every registration (and so every AWS call) in the loop's default
    # executor, which asyncio sizes at cpu_count + 4: six threads here, for 80 resources
    # whose calls mostly wait on the emulator. The CLI's engine runs resource operations
    # with unbounded parallelism by default; a wider pool comes closer.
    loop.set_default_executor(
        concurrent.futures.ThreadPoolExecutor(
            max_workers=_REGISTRATION_THREADS, thread_name_prefix="registration"
        )
    )
    # A failed registration fails every output that depends on it; asyncio would log each
    # of those futures as "exception never retrieved". The first error is re-raised to
    # the caller, so the rest is noise.
    loop.set_exception_handler(_quiet_exception_handler)
    try:
        # Full settings first (set_mocks alone leaves some fields unset in a new context).
        sdk_settings.reset_options(project=project, stack=stack, preview=False)
        pulumi.runtime.set_all_config(dict(config))
        sdk_mocks.set_mocks(mocks, project=project, stack=stack, preview=False, monitor=monitor)
        # set_mocks made a root stack for mocked unit tests; run_in_stack makes the real
        # one, as the language host does, so drop the first.
        sdk_settings.ROOT.set(None)
        captured: dict[str, Any] = {}

        def program_in_stack() -> None:
            captured["stack"] = sdk_settings.get_root_resource()
            program()

        loop.run_until_complete(sdk_stack.run_in_stack(program_in_stack))
        stack_resource = captured["stack"]
        exports = pulumi.Output.from_input(dict(stack_resource.outputs))
        return loop.run_until_complete(exports.future())
    finally:
        _shutdown(loop)


def _quiet_exception_handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    log.debug("asyncio: %s", context.get("message"), exc_info=context.get("exception"))


def _shutdown(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what is left (dependents of a failed resource wait forever otherwise), let
    in-flight AWS calls finish so none lands after the apply returned, close the loop."""
    try:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        asyncio.set_event_loop(None)
        loop.close()


@contextlib.contextmanager
def _no_stack_traces() -> Iterator[None]:
    """The SDK sends the engine each registration's Python stack, for the CLI to show where a
    resource was declared. Mocks ignore it, and taking it (traceback.extract_stack, source
    lines included) is about 5% of a run. The runs hold _RUN_LOCK, so no other run
    sees the swap."""
    saved = sdk_resource._get_stack_trace
    sdk_resource._get_stack_trace = _EMPTY_STACK_TRACE
    try:
        yield
    finally:
        sdk_resource._get_stack_trace = saved


def _EMPTY_STACK_TRACE() -> Any:  # noqa: N802 (stands in for the SDK's function)
    return source_pb2.StackTrace()


@contextlib.contextmanager
def _program_environment(program_dir: Path | None) -> Iterator[None]:
    """cwd = program folder and the folder first on sys.path, as under the Pulumi CLI;
    modules the program imported from its folder are forgotten afterwards so the next
    run imports them afresh (a run must not see state a previous run left in them)."""
    if program_dir is None:
        yield
        return
    folder = program_dir.resolve()
    before = set(sys.modules)
    old_cwd = os.getcwd()
    sys.path.insert(0, str(folder))
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(old_cwd)
        with contextlib.suppress(ValueError):
            sys.path.remove(str(folder))
        for name in set(sys.modules) - before:
            if _is_program_module(sys.modules.get(name), folder):
                del sys.modules[name]


def _is_program_module(module: Any, folder: Path) -> bool:
    file = getattr(module, "__file__", None)
    if not file:
        return False
    path = Path(file).resolve()
    # The project venv usually lives inside the program folder: its packages stay.
    return path.is_relative_to(folder) and "site-packages" not in path.parts

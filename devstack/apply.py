"""The local apply: run the Pulumi program, unchanged, under the SDK's mock runtime and
create every resource it declares in the emulator (or any AWS endpoint) with boto3.

    from devstack.apply import apply_program
    result = apply_program(Path("."), "local", client_factory, {"oidcIssuer": "http://127.0.0.1:9555"})
    result.outputs["apiUrl"]; result.resources; result.seconds

Or from the shell, against the running dev-stack emulator:

    .venv/bin/python -m devstack.apply [--stack local] [--config key=value ...]

There is no state and no update: an apply creates everything, so it targets a fresh
emulator. Anything the apply cannot create faithfully fails it, naming the resource type
and name: unsupported types, inputs the handler would drop, AWS errors (with AWS's
message), invokes other than caller identity / region / partition.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from devstack.applier import ordering, stack_config
from devstack.applier.errors import (
    ApplyError,
    ApplyTimeoutError,
    AwsCallError,
    ConfigError,
    OrderingError,
    ProgramError,
    ResourceError,
    TargetError,
    UnsupportedInputError,
    UnsupportedInvokeError,
    UnsupportedResourceError,
)
from devstack.applier.mocks import EmulatorMocks
from devstack.applier.registry import KINDS
from devstack.applier.results import ApplyResult, CreatedResource
from devstack.applier.runtime import program_from_folder, run_program
from devstack.applier.target import ClientFactory

__all__ = [
    "SUPPORTED_TYPES",
    "ApplyError",
    "ApplyResult",
    "ApplyTimeoutError",
    "AwsCallError",
    "ClientFactory",
    "ConfigError",
    "CreatedResource",
    "OrderingError",
    "ProgramError",
    "ResourceError",
    "TargetError",
    "UnsupportedInputError",
    "UnsupportedInvokeError",
    "UnsupportedResourceError",
    "apply_function",
    "apply_program",
    "load_config",
]

SUPPORTED_TYPES = tuple(sorted(KINDS))
DEFAULT_TIMEOUT_SECONDS = 300.0


def load_config(
    program_dir: Path, stack: str, overrides: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """The config map the program sees: Pulumi.yaml defaults, Pulumi.<stack>.yaml, then
    overrides (`key` means `<project>:key`; object values become JSON like the CLI's)."""
    project = stack_config.project_name(program_dir)
    return stack_config.with_overrides(
        stack_config.stack_config(program_dir, stack), overrides or {}, project
    )


def apply_program(
    program_dir: Path,
    stack: str,
    client_factory: ClientFactory,
    config_overrides: Mapping[str, Any] | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    allow_failed_functions: bool = False,
) -> ApplyResult:
    """Apply the program in `program_dir` (its __main__.py, Pulumi.yaml and
    Pulumi.<stack>.yaml) to the target the factory's clients reach.

    allow_failed_functions: a function the target leaves in state Failed (it stores
    functions but cannot run them) is a warning, not an error."""
    program_dir = Path(program_dir)
    started = time.perf_counter()
    project = stack_config.project_name(program_dir)
    config = load_config(program_dir, stack, config_overrides)
    return _apply(
        program_from_folder(program_dir),
        client_factory,
        project=project,
        stack=stack,
        config=config,
        program_dir=program_dir,
        timeout=timeout,
        started=started,
        allow_failed_functions=allow_failed_functions,
    )


def apply_function(
    program: Callable[[], None],
    client_factory: ClientFactory,
    *,
    project: str = "pets",
    stack: str = "local",
    config: Mapping[str, Any] | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    allow_failed_functions: bool = False,
) -> ApplyResult:
    """Apply a program given as a function (tests, small tools). Config keys without a
    namespace get the project's."""
    started = time.perf_counter()
    return _apply(
        program,
        client_factory,
        project=project,
        stack=stack,
        config=stack_config.with_overrides({}, config or {}, project),
        program_dir=None,
        timeout=timeout,
        started=started,
        allow_failed_functions=allow_failed_functions,
    )


def _apply(
    program: Callable[[], None],
    client_factory: ClientFactory,
    *,
    project: str,
    stack: str,
    config: Mapping[str, str],
    program_dir: Path | None,
    timeout: float,
    started: float,
    allow_failed_functions: bool = False,
) -> ApplyResult:
    mocks = EmulatorMocks(client_factory, allow_failed_functions=allow_failed_functions)
    target = mocks.target
    connected = time.perf_counter()
    configured_region = config.get("aws:region")
    if configured_region and configured_region != target.region:
        mocks.warnings.append(
            f"config aws:region is {configured_region} but the target's region is "
            f"{target.region}: resources go to {target.region}"
        )
    try:
        outputs = run_program(
            program,
            mocks,
            project=project,
            stack=stack,
            config=config,
            program_dir=program_dir,
            timeout=timeout,
        )
    except ApplyError as exc:
        exc.resources = list(mocks.created)
        raise
    except Exception as exc:
        # Raised inside an apply() callback or by the SDK: still the program's failure.
        error = ProgramError(f"the program failed: {type(exc).__name__}: {exc}")
        error.resources = list(mocks.created)
        raise error from exc
    ran = time.perf_counter()
    try:
        mocks.finish()
    except ApplyError as exc:
        exc.resources = list(mocks.created)
        raise
    finished = time.perf_counter()
    late = ordering.late_parts(mocks.created)
    if late:
        error = OrderingError("resources created out of order:\n  " + "\n  ".join(late))
        error.resources = list(mocks.created)
        raise error
    return ApplyResult(
        outputs=outputs,
        resources=list(mocks.created),
        seconds=finished - started,
        warnings=list(mocks.warnings),
        phases={
            "connect": connected - started,  # clients and caller identity
            "program": ran - connected,  # the program and every registration
            "settle": finished - ran,  # deferred waits (functions becoming Active)
        },
    )


def _parse_overrides(pairs: Sequence[str]) -> dict[str, str]:
    overrides = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"--config expects key=value, got {pair!r}")
        overrides[key] = value
    return overrides


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devstack.apply", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--stack", default="local")
    parser.add_argument("--program-dir", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--config", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)

    from devstack import clients  # the dev stack's target: its emulator or AWS_ENDPOINT_URL

    target = clients.current_target()
    try:
        result = apply_program(
            args.program_dir,
            args.stack,
            lambda service: clients.client(service, target=target),
            _parse_overrides(args.config),
        )
    except ApplyError as exc:
        print(
            f"apply failed after creating {len(exc.resources)} resource(s): {exc}", file=sys.stderr
        )
        return 1
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(json.dumps(result.outputs, indent=2, sort_keys=True, default=str))
    phases = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in result.phases.items())
    print(
        f"applied {len(result.resources)} resources to {target.endpoint_url} "
        f"in {result.seconds:.2f} s ({phases})",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

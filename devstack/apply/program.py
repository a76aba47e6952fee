"""The local apply's entry points: a program folder (apply_program) or a function
(apply_function) run under the SDK's mock runtime, every resource created in the target.

There is no state and no update: an apply creates everything, so it targets a fresh
emulator. Anything the apply cannot create faithfully fails it, naming the resource type
and name (devstack/apply/SUPPORT.md). With PETS_APPLY_JITTER set (the tests set it),
each create waits a random, seeded time first, so that a missing depends_on shows as an
ordering error instead of hiding behind the usual order (devstack/apply/jitter.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

import yaml

from components.config import NAMESPACE, ConfigError
from devstack.apply import ordering
from devstack.apply.errors import ApplyError
from devstack.apply.jitter import Jitter
from devstack.apply.mocks import EmulatorMocks
from devstack.apply.results import ApplyResult, CreatedResource
from devstack.apply.target import ClientFactory
from harness_core.errors import ProgramRunError
from harness_core.mock_runtime import program_from_folder, run_under_mocks
from harness_core.stack_files import config_text, stack_file_config

DEFAULT_TIMEOUT_SECONDS = 300.0
FROM_ENVIRONMENT = "environment"
JitterChoice = Jitter | Literal["environment"] | None


def project_name(program_dir: Path) -> str:
    """The project's name in its Pulumi.yaml: its config namespace, as under the CLI (`pets`
    for the app, `pets-account` for the account baseline in account/)."""
    path = Path(program_dir) / "Pulumi.yaml"
    try:
        name = (yaml.safe_load(path.read_text()) or {}).get("name")
    except FileNotFoundError as exc:
        raise ApplyError(f"{path} not found: the program folder needs its Pulumi.yaml") from exc
    if not isinstance(name, str) or not name:
        raise ApplyError(f"{path}: no project `name`")
    return name


def load_config(
    program_dir: Path, stack: str, overrides: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """The config map the program sees: Pulumi.<stack>.yaml, then overrides (`key` means
    `<project>:key`, the project named in Pulumi.yaml; object values become JSON like the
    CLI's)."""
    namespace = project_name(program_dir)
    path = Path(program_dir) / f"Pulumi.{stack}.yaml"
    try:
        return {**stack_file_config(path, namespace), **_qualified(overrides or {}, namespace)}
    except FileNotFoundError as exc:
        raise ApplyError(f"{path} not found: create it, or apply another stack (--stack)") from exc
    except ConfigError as exc:
        raise ApplyError(f"{path}: {exc}") from exc


def _qualified(config: Mapping[str, Any], namespace: str = NAMESPACE) -> dict[str, str]:
    qualified = {k if ":" in k else f"{namespace}:{k}": v for k, v in config.items()}
    return {k: config_text(k, v) for k, v in qualified.items()}


def apply_program(
    program_dir: Path,
    stack: str,
    client_factory: ClientFactory,
    config_overrides: Mapping[str, Any] | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    allow_failed_functions: bool = False,
    jitter: JitterChoice = FROM_ENVIRONMENT,
    on_created: Callable[[CreatedResource], None] | None = None,
    on_outputs: Callable[[dict[str, Any]], None] | None = None,
) -> ApplyResult:
    """Apply the program in `program_dir` (its __main__.py, Pulumi.yaml and
    Pulumi.<stack>.yaml) to the target the factory's clients reach."""
    program_dir = Path(program_dir)
    return apply_function(
        program_from_folder(program_dir),
        client_factory,
        stack=stack,
        project=project_name(program_dir),
        config=load_config(program_dir, stack, config_overrides),
        program_dir=program_dir,
        timeout=timeout,
        allow_failed_functions=allow_failed_functions,
        jitter=jitter,
        on_created=on_created,
        on_outputs=on_outputs,
    )


def apply_function(
    program: Callable[[], None],
    client_factory: ClientFactory,
    *,
    stack: str = "local",
    project: str = NAMESPACE,
    config: Mapping[str, Any] | None = None,
    program_dir: Path | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    allow_failed_functions: bool = False,
    jitter: JitterChoice = FROM_ENVIRONMENT,
    on_created: Callable[[CreatedResource], None] | None = None,
    on_outputs: Callable[[dict[str, Any]], None] | None = None,
) -> ApplyResult:
    """Apply `program` (a function; tests and small tools call this directly).

    project: the project's name (Pulumi.yaml), which is also its config namespace.
    config: the program's config; keys without a namespace are the project's.
    program_dir: the folder it runs in (cwd and first on sys.path, as under the CLI).
    allow_failed_functions: a function the target leaves in state Failed (it stores
    functions but cannot run them) is a warning, not an error.
    jitter: a random delay before each create (Jitter), None for none; by default what
    PETS_APPLY_JITTER says (jitter.py). Its seed is in the result and in any failure.
    on_created: called with each resource once it exists (from the SDK's threads), e.g. to
    start using a function while the apply goes on. It must not raise.
    on_outputs: called with the stack's outputs as soon as the program has run, before the
    apply waits for its functions to become Active (about 0.5 s on MiniStack), e.g. to start
    what needs only the outputs. It must not raise.
    """
    started = time.perf_counter()
    config = _qualified(config or {}, project)
    jitter = Jitter.from_environment() if isinstance(jitter, str) else jitter
    mocks = EmulatorMocks(client_factory, allow_failed_functions=allow_failed_functions,
                          jitter=jitter, on_created=on_created)
    configured_region = config.get("aws:region")
    if configured_region and configured_region != mocks.target.region:
        mocks.warnings.append(
            f"config aws:region is {configured_region} but the target's region is "
            f"{mocks.target.region}: resources go to {mocks.target.region}"
        )
    try:
        outputs = run_under_mocks(
            program,
            mocks,
            project=project,
            stack=stack,
            config=config,
            program_dir=program_dir,
            timeout=timeout,
        )
        if on_outputs is not None:
            on_outputs(dict(outputs))
        mocks.finish()  # deferred waits (functions becoming Active)
        late = ordering.late_parts(mocks.created)
        if late:
            replay = f" (jitter seed {jitter.seed}: {jitter.replay()} replays it)" if jitter else ""
            raise ApplyError(f"resources created out of order{replay}:\n  " + "\n  ".join(late))
    except ProgramRunError as exc:
        exc.resources = list(mocks.created)
        _note_jitter(exc, jitter)
        raise
    except Exception as exc:
        # Raised by the program, inside an apply() callback or by the SDK: the program's.
        error = ProgramRunError(f"the program failed: {type(exc).__name__}: {exc}")
        error.resources = list(mocks.created)
        _note_jitter(error, jitter)
        raise error from exc
    return ApplyResult(
        outputs=outputs,
        resources=list(mocks.created),
        seconds=time.perf_counter() - started,
        warnings=list(mocks.warnings),
        jitter=jitter,
    )


def _note_jitter(error: BaseException, jitter: Jitter | None) -> None:
    """Any failure may depend on the order the jitter chose: say how to get it again."""
    if jitter is not None and jitter.replay() not in str(error):
        error.add_note(f"apply jitter seed {jitter.seed}: {jitter.replay()} replays this order")

"""The pulumi.runtime.Mocks that applies: every resource registration becomes boto3 calls
against the target, and every invoke the program makes is answered by the target."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import botocore.exceptions
import pulumi
from pulumi.runtime import rpc

from devstack.apply.errors import KINDS_HOME, ApplyError, ResourceError
from devstack.apply.jitter import Jitter
from devstack.apply.kinds import CreateRequest, ResourceKind
from devstack.apply.results import CreatedResource
from devstack.apply.services import KIND_BY_TYPE, SERVICES
from devstack.apply.target import ApplyTarget, ClientFactory
from harness_core.mock_runtime import CallResult, OidcProvider, invoke_answer

T = TypeVar("T")
# How the SDK marks a secret inside deserialized properties (pulumi.runtime.rpc).
_SIG_KEY = rpc._special_sig_key
_SECRET_SIG = rpc._special_secret_sig
STACK_TYPE = "pulumi:pulumi:Stack"


def _attributed(type_: str, name: str, work: Callable[[], T]) -> T:
    """Run a handler's work; any failure becomes a ResourceError naming type and name."""
    try:
        return work()
    except ApplyError:
        raise
    except botocore.exceptions.ClientError as exc:
        error = exc.response.get("Error", {})
        raise ResourceError(
            type_,
            name,
            f"{exc.operation_name} failed: {error.get('Code', 'Unknown')}: "
            f"{error.get('Message', exc)} (AWS's answer: fix the input it names, or the "
            "target's state if the resource exists already)",
        ) from exc
    except Exception as exc:  # botocore's parameter validation, connection failures, a bug
        raise ResourceError(type_, name, f"{type(exc).__name__}: {exc}") from exc


def _plain(value: Any) -> Any:
    """Inputs as AWS wants them.

    - Secrets arrive wrapped in the SDK's signature dict; AWS gets the value. (The state
      handed back keeps the wrapped inputs, so outputs stay secret for the program.)
    - The SDK sends every number as a protobuf double (7 -> 7.0); boto3 refuses a float
      where AWS wants an integer, so whole numbers become ints again.
    """
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        if value.get(_SIG_KEY) == _SECRET_SIG:
            return _plain(value.get("value"))
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _is_set(value: Any) -> bool:
    """An input the program actually gave (False/empty collections are provider defaults)."""
    return value is not None and value is not False and value != [] and value != {}


def unsupported_inputs(kind: ResourceKind, inputs: Mapping[str, Any]) -> list[str]:
    """The inputs given that the kind does not map (and keys of a mapped object that are
    not its fields, as `input.key`): applying without them would build something else."""
    unknown = [k for k, v in inputs.items() if _is_set(v) and k not in kind.inputs]
    for key, to in kind.mapped().items():
        value = inputs.get(key)
        if to.fields is None or not _is_set(value):
            continue
        for item in value if isinstance(value, list) else [value]:
            unknown += [f"{key}.{k}" for k, v in item.items() if _is_set(v) and k not in to.fields]
    return sorted(set(unknown))


class EmulatorMocks(pulumi.runtime.Mocks):
    """Called by the SDK from its executor threads, several at once.

    Shared state (the record, the tick counter, warnings) is guarded by one lock; AWS
    calls run outside it so independent resources are created concurrently. With jitter,
    `_activity` tracks how many creates are under way and when anything last happened,
    which is what a held create waits on (jitter.py).
    """

    def __init__(
        self,
        target: ApplyTarget | ClientFactory,
        *,
        allow_failed_functions: bool = False,
        jitter: Jitter | None = None,
        on_created: Callable[[CreatedResource], None] | None = None,
    ) -> None:
        """target: a connected target (tests), or the client factory that makes the boto3
        client for a service name (all made here, up front). allow_failed_functions: see
        CreateRequest. jitter: a random delay before each create (jitter.py). on_created:
        called with each resource once it exists (must not raise)."""
        if not isinstance(target, ApplyTarget):
            try:
                target = ApplyTarget.connect(target, SERVICES)
            except Exception as exc:  # whatever the factory or the endpoint raised
                raise ApplyError(
                    f"cannot use the AWS target: {type(exc).__name__}: {exc}; check that it "
                    "runs (python -m devstack up) and that the client factory reaches it"
                ) from exc
        self.target = target
        self.allow_failed_functions = allow_failed_functions
        self.jitter = jitter
        self.on_created = on_created
        self._lock = threading.Lock()
        self._activity = threading.Condition()
        self._creating = 0
        self._last_activity = time.monotonic()
        self._tick = 0
        self.created: list[CreatedResource] = []
        self.warnings: list[str] = []
        self._deferred: list[tuple[str, str, Callable[[], None]]] = []

    # -- resources ---------------------------------------------------------------------

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        self._touch()
        if args.resource_id:
            # Resource.get(...) (which the SDK reports with custom unset) or the import
            # option: reading or adopting existing resources is not done locally.
            raise ResourceError(
                args.typ,
                args.name,
                f"reading or importing the existing id {args.resource_id!r} is not supported by "
                "the local apply (it creates everything): declare the resource in the program",
            )
        if args.typ == STACK_TYPE or not args.custom:
            # Component resources (and the stack) group resources; nothing to create.
            return "", dict(args.inputs)

        kind = KIND_BY_TYPE.get(args.typ)
        if kind is None:
            raise ResourceError(
                args.typ,
                args.name,
                "resource type not supported by the local apply: declare a ResourceKind for it "
                f"in {KINDS_HOME}, or turn the feature off in the stack the apply runs",
            )
        inputs = _plain(dict(args.inputs))
        unknown = unsupported_inputs(kind, inputs)
        if unknown:
            raise ResourceError(
                args.typ,
                args.name,
                f"input(s) {', '.join(unknown)} not supported by the local apply: map them in "
                f"the kind's `inputs` in {KINDS_HOME} (a unit test checks the mapping against "
                "botocore), or leave them out of the program",
            )

        self._wait_turn(args.typ, args.name)
        try:
            started = self._next_tick()
            request = CreateRequest(
                kind,
                args.name,
                inputs,
                self.target,
                warn=self._warn,
                defer=lambda work: self._defer(args.typ, args.name, work),
                allow_failed_functions=self.allow_failed_functions,
            )
            created = _attributed(args.typ, args.name, lambda: kind.create(request))
        finally:
            self._created_one()

        computed = {**created.outputs, "id": created.id}
        with self._lock:
            self._tick += 1
            record = CreatedResource(
                type=args.typ,
                name=args.name,
                id=created.id,
                outputs={**inputs, **computed},  # plain values, for readers of the result
                started=started,
                finished=self._tick,
            )
            self.created.append(record)
        if self.on_created is not None:
            self.on_created(record)
        # The program gets its inputs back as it sent them (secrets still marked secret),
        # plus the computed outputs.
        return created.id, {**args.inputs, **computed}

    # -- jitter (jitter.py) ---------------------------------------------------------------

    def _wait_turn(self, type_: str, name: str) -> None:
        """Before a create: with jitter, a hold until the apply is quiet if the seed holds
        this resource, then its short delay. Counts as creating from the delay on."""
        jitter = self.jitter
        if jitter is not None and jitter.holds(type_, name):
            self._wait_until_quiet(jitter)
        with self._activity:
            self._creating += 1
            self._last_activity = time.monotonic()
        if jitter is not None:
            time.sleep(jitter.delay(type_, name))

    def _wait_until_quiet(self, jitter: Jitter) -> None:
        deadline = time.monotonic() + jitter.max_hold_seconds
        with self._activity:
            while True:
                now = time.monotonic()
                quiet = self._creating == 0 and now - self._last_activity >= jitter.quiet_seconds
                if quiet or now >= deadline:
                    return
                self._activity.wait(timeout=jitter.quiet_seconds / 5)

    def _created_one(self) -> None:
        with self._activity:
            self._creating -= 1
            self._last_activity = time.monotonic()

    def _touch(self) -> None:
        """A registration or an invoke arrived: the program is still under way."""
        with self._activity:
            self._last_activity = time.monotonic()

    def _defer(self, type_: str, name: str, work: Callable[[], None]) -> None:
        with self._lock:
            self._deferred.append((type_, name, work))

    def finish(self) -> None:
        """Run the deferred work (after the program finished), in creation order."""
        with self._lock:
            deferred, self._deferred = self._deferred, []
        for type_, name, work in deferred:
            _attributed(type_, name, work)

    def _next_tick(self) -> int:
        with self._lock:
            self._tick += 1
            return self._tick

    def _warn(self, message: str) -> None:
        with self._lock:
            self.warnings.append(message)

    # -- invokes -----------------------------------------------------------------------

    def call(self, args: pulumi.runtime.MockCallArgs) -> CallResult:
        self._touch()
        target = self.target
        answer = invoke_answer(args.token, args.args, account=target.account_id,
                               region=target.region, caller_arn=target.caller_arn,
                               oidc_providers=self._oidc_providers)
        if answer is None:
            raise ApplyError(
                f"invoke {args.token} not supported by the local apply: answer it in "
                "harness_core/mock_runtime.py (invoke_answer) from the target, or avoid it "
                "in the program"
            )
        return answer if isinstance(answer, tuple) else (answer, [])

    def _oidc_providers(self) -> list[OidcProvider]:
        """The target's IAM OIDC providers (what the account baseline created there), with
        their URLs as stored: MiniStack answers them with the scheme, AWS without (and
        MiniStack's ARNs drop a trailing slash that AWS keeps), see invoke_answer."""
        iam = self.target.client("iam")
        found = []
        for entry in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]:
            provider = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=entry["Arn"])
            found.append(OidcProvider(entry["Arn"], provider["Url"],
                                      tuple(provider.get("ClientIDList") or ()),
                                      tuple(provider.get("ThumbprintList") or ())))
        return found

"""The program recorded under Pulumi's mocks, once per configuration for the whole session.

A recording runs the whole program (harness_core.recorder.record_program: a few tenths of a
second each), and the unit, policy, offline, prover and apply-kinds tests read the same few
configurations: each is recorded once per pytest process and shared.

A shared recording is read-only. A test that changes the program (monkeypatches a module,
passes transformations) or needs a second, independent recording calls record_program itself.
Each recording is fingerprinted when made and checked again when the session ends
(tests/conftest.py `shared_recordings_unchanged`), so a test that edits a shared one fails the
run instead of leaking into whichever test reads it next.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import access
from components import naming
from harness_core.mock_runtime import OidcProvider
from harness_core.recorder import ProgramRun, record_program
from harness_core.stack_files import stack_file_config
from iamsim.synth import Synthesized, synthesize
from prover.subject import Subject, synthesized_subject

ROOT = Path(__file__).resolve().parents[2]

# A managed-elsewhere stack (no tenant of ours): the smallest config the program accepts.
ISSUER = "https://pets-test.eu.auth0.com/"
CLIENT_ID = "test-client-id"
BASE_CONFIG: dict[str, str] = {
    "pets:oidcIssuer": ISSUER,
    "pets:oidcClientId": CLIENT_ID,
    "pets:stage": "v1",
}
# Without CloudFront, as on the emulator: the site bucket is public-read.
LOCAL_CONFIG = {**BASE_CONFIG, "pets:siteCdn": "false"}
# A throwaway stack: the table's protections switched off.
THROWAWAY_CONFIG = {**BASE_CONFIG, "pets:dataProtection": "false"}
# Every kind of membership rule and the production options.
FULL_CONFIG = {
    **BASE_CONFIG,
    "pets:alarmEmail": "oncall@example.com",
    "pets:waf": "true",
    "pets:reservedConcurrency": json.dumps({"list_pets": 20, "purchase_pet": 10}),
    "pets:userClasses": json.dumps({
        "admin": {"subjects": ["auth0|root"], "sessionTags": {"pets-class": "admin"}},
        "buyer": {"subPatterns": ["google-oauth2|*"], "sessionTags": {"pets-class": "buyer"}},
    }),
}

_Key = tuple[tuple[tuple[str, str], ...], str, tuple[OidcProvider, ...] | None]
_fingerprints: dict[_Key, tuple[ProgramRun, str]] = {}


UNIT_STACK = "unit"  # recorded()'s stack unless told: its names start `pets-unit-`


def unit_function_name(route: access.Route) -> str:
    """A route's function name in a recording of stack `unit` (`pets-unit-list-pets`)."""
    return naming.function_name(naming.stack_prefix(UNIT_STACK), route)


def recorded(config: Mapping[str, str], stack: str = UNIT_STACK, *,
             oidc_providers: Sequence[OidcProvider] | None = None) -> ProgramRun:
    """record_program(config, stack, oidc_providers=...), once per session for equal
    arguments (the config compared by content)."""
    return _recorded(tuple(sorted(config.items())), stack,
                     None if oidc_providers is None else tuple(oidc_providers))


@functools.cache
def _recorded(items: tuple[tuple[str, str], ...], stack: str,
              oidc_providers: tuple[OidcProvider, ...] | None) -> ProgramRun:
    run = record_program(dict(items), stack, oidc_providers=oidc_providers)
    _fingerprints[(items, stack, oidc_providers)] = (run, _fingerprint(run))
    return run


def stack_file(stack: str) -> ProgramRun:
    """The program as Pulumi.<stack>.yaml configures it."""
    return recorded(stack_file_config(ROOT / f"Pulumi.{stack}.yaml"), stack)


@functools.cache
def synthesized(stack: str, config_items: tuple[tuple[str, str], ...] | None = None
                ) -> Synthesized:
    """iamsim's reading of a recording (roles, policies, methods): of Pulumi.<stack>.yaml,
    or of the config given as sorted items."""
    config = (stack_file_config(ROOT / f"Pulumi.{stack}.yaml") if config_items is None
              else dict(config_items))
    return synthesize(config, stack, record=recorded)


@functools.cache
def subject(stack: str) -> Subject:
    """What the prover proves for Pulumi.<stack>.yaml (prover.subject.synthesized_subject)."""
    return synthesized_subject(stack, record=recorded)


def _fingerprint(run: ProgramRun) -> str:
    return json.dumps([[d.type, d.name, d.inputs, d.outputs] for d in run.declared]
                      + [run.outputs], sort_keys=True, default=repr)


def edited_recordings() -> list[str]:
    """The shared recordings some test changed since they were made (should be none)."""
    return [f"stack {stack!r}, config {dict(items)}"
            for (items, stack, _), (run, before) in _fingerprints.items()
            if _fingerprint(run) != before]

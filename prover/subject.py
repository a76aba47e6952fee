"""What a proof is about: one stack's IAM documents, as the program synthesizes them from a
stack file (iamsim.synth, the recording run under Pulumi's mocks) or as a running stack holds
them (iamsim.deployed, read back from the emulator)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import access
from components.config import Settings
from harness_core.recorder import ProgramRun, record_program
from harness_core.stack_files import stack_file_config
from iamsim.builders import oidc_provider_arn
from iamsim.deployed import read_deployed
from iamsim.synth import Synthesized, synthesize

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Subject:
    synthesized: Synthesized
    source: str  # how the documents were obtained, for the report
    root: Path = ROOT  # the checkout whose ACCESS.md states the memberships

    @property
    def stack(self) -> str:
        return self.synthesized.stack

    @property
    def settings(self) -> Settings:
        return self.synthesized.settings

    @property
    def classes(self) -> tuple[access.UserClass, ...]:
        return self.settings.user_classes

    @property
    def account(self) -> str:
        return self.synthesized.account

    @property
    def issuer(self) -> str:
        return self.settings.oidc_issuer

    @property
    def client_id(self) -> str:
        return self.synthesized.client_id

    @property
    def execution_arn(self) -> str:
        s = self.synthesized
        return f"arn:aws:execute-api:{s.region}:{s.account}:{s.api_id}"

    @property
    def provider_arn(self) -> str:
        """The OIDC provider our issuer is registered as (the model's issuer, independently of
        how the program writes its trust policies)."""
        return oidc_provider_arn(self.issuer, account=self.account)

    def role_arn(self, user_class: str) -> str:
        return self.synthesized.class_roles[user_class].arn


def synthesized_subject(
    stack: str, root: Path = ROOT, overrides: Mapping[str, str] | None = None, *,
    record: Callable[[Mapping[str, str], str], ProgramRun] = record_program,
) -> Subject:
    """The documents `Pulumi.<stack>.yaml` makes the program declare (config values in
    `overrides`, keys `pets:...`, over the file's); `record` runs the program."""
    config = {**stack_file_config(root / f"Pulumi.{stack}.yaml"), **(overrides or {})}
    return Subject(synthesize(config, stack, record=record),
                   f"synthesized from Pulumi.{stack}.yaml", root)


def deployed_subject(stack: str, config: Mapping[str, str], outputs: Mapping[str, Any],
                     clients: Mapping[str, Any], where: str) -> Subject:
    """The documents a running stack holds, read back with `clients` (iam, apigateway, sts)."""
    return Subject(read_deployed(stack, config, outputs, clients),
                   f"deployed, read back from {where}")

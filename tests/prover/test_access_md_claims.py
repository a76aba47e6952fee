"""ACCESS.md states, per stack, what is proved for every request; the prover proves exactly
those claims (the same labels, in the same order), no more and no fewer."""

from __future__ import annotations

import pytest

from harness_core.stack_files import stack_names
from policy.access_doc import proved_from_doc
from prover.subject import ROOT
from prover.theorems import theorems
from tests.support.programs import subject


@pytest.mark.parametrize("stack", stack_names(ROOT))
def test_access_md_claims_what_the_prover_proves(stack: str) -> None:
    documented = proved_from_doc(ROOT / "ACCESS.md")
    assert stack in documented, f"ACCESS.md has no proof section for {stack}: run `make access`"
    labels = [label for label, _ in theorems(subject(stack))]
    assert documented[stack] == labels

"""Every Pulumi.<stack>.yaml's synthesized policies give each class exactly its access, over
every request: what `make prove` prints, asserted (a failure shows the same report)."""

from __future__ import annotations

import pytest

from harness_core.stack_files import stack_names
from prover.report import prove_subject
from prover.subject import ROOT
from tests.support.programs import subject


@pytest.mark.parametrize("stack", stack_names(ROOT))
def test_every_theorem_is_proved_for_the_stack_file(stack: str) -> None:
    report = prove_subject(subject(stack), replay=True)
    assert report.exit_code == 0, report.render()

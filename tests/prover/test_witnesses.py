"""witnesses.none_met: one solver call says that no violation of a theorem can be met, and
says so only when the solver decided it."""

from __future__ import annotations

import pytest
import z3

from prover import witnesses
from prover.fragment import CannotProve

X, Y, Z = z3.Ints("x y z")
POSITIVE = [X > 0, Y > 0, Z > 0]


def test_none_met_when_every_violation_is_impossible() -> None:
    assert witnesses.none_met([X > 0], [X < 0, X == -1])


def test_not_when_one_violation_can_be_met() -> None:
    assert not witnesses.none_met([X > 0], [X < 0, X == 1])


def test_nothing_to_meet() -> None:
    assert witnesses.none_met([X > 0], [])


def test_an_undecided_call_is_not_a_proof(monkeypatch: pytest.MonkeyPatch) -> None:
    """x³ + y³ = z³ has no positive solution, which the solver cannot show in 200 ms: the
    answer is not "none met", and the search that follows then says it cannot prove."""
    monkeypatch.setattr(witnesses, "CHECK_MILLISECONDS", 200)
    fermat = X * X * X + Y * Y * Y == Z * Z * Z
    assert not witnesses.none_met(POSITIVE, [fermat])
    with pytest.raises(CannotProve):
        witnesses.shortest(witnesses.Search(POSITIVE, fermat, [X, Y, Z], X + Y + Z))

"""Counterexamples a person can read: printable, from the most telling shape, shortest first.

A violated theorem has infinitely many witnesses; the solver's first model is arbitrary (often
long, full of odd characters). So a search first tries a few telling requests outright (each a
concrete assignment, say a known method on a known path of this API, judged by simplification
as verdicts.py does), then asks the solver under preferred shapes, in order (an ARN of this
API, then any readable one, then anything), and within the first shape that has a witness
binary-searches the smallest total length of what the witness shows. Each further witness
differs in what is shown, so the list reads shortest first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import z3

from prover.fragment import CannotProve

# One solver call's limit; a theorem whose check runs out is not proved (CannotProve).
CHECK_MILLISECONDS = 30_000
# Shortening a witness found is best effort: a few rounds, each with a shorter limit.
SHORTEN_ROUNDS = 8
SHORTEN_MILLISECONDS = 3_000
FURTHER_SLACK = 4  # characters a further witness may be longer than the first
# Characters of a readable witness, tried before any printable one.
READABLE = z3.Union(z3.Range("a", "z"), z3.Range("A", "Z"), z3.Range("0", "9"),
                    *[z3.Re(z3.StringVal(c)) for c in "|._/:@-"])

Assignment = Mapping[z3.ExprRef, z3.ExprRef]


def readable(*strings: z3.ExprRef) -> z3.BoolRef:
    return z3.And(*[z3.InRe(s, z3.Star(READABLE)) for s in strings])


class Witness(Protocol):
    """A z3 model, or a candidate assignment: both evaluate a term to its value."""

    def eval(self, term: z3.ExprRef, model_completion: bool = ...) -> z3.ExprRef: ...


@dataclass(frozen=True)
class Candidate:
    """A concrete request tried before the solver: every variable of the search assigned."""

    values: Assignment

    def eval(self, term: z3.ExprRef, model_completion: bool = True) -> z3.ExprRef:
        return z3.simplify(z3.substitute(term, *self.values.items()))


@dataclass(frozen=True)
class Search:
    """What to ask: the constraints of the request shape and the violation, the terms a witness
    shows (a further witness differs in one), the length to minimise, the candidates to try
    first and the preferred shapes, best first."""

    constraints: Sequence[z3.BoolRef]
    violation: z3.BoolRef
    shown: Sequence[z3.ExprRef]
    cost: z3.ArithRef
    preferred: Sequence[z3.BoolRef] = ()
    candidates: Sequence[Candidate] = field(default_factory=tuple)


def _check(solver: z3.Solver) -> z3.CheckSatResult:
    answer = solver.check()
    if answer == z3.unknown:
        raise CannotProve(f"the solver gave up ({solver.reason_unknown()})")
    return answer


def _solver() -> z3.Solver:
    solver = z3.Solver()
    solver.set(timeout=CHECK_MILLISECONDS)
    return solver


def holds(search: Search) -> bool:
    """True when no request violates the theorem (the proof); CannotProve if undecided."""
    solver = _solver()
    solver.add(*search.constraints, search.violation)
    return _check(solver) == z3.unsat


def none_met(constraints: Sequence[z3.BoolRef], violations: Sequence[z3.BoolRef]) -> bool:
    """True when no request meets any of the violations: one solver call for them all, where
    a theorem that holds would take one per violation (each a search of its own, about four
    times the solver's time in all). False when one may be met, or when the call is
    undecided: then each violation is searched on its own, and an undecided search raises
    CannotProve there, so this never decides more than the searches would."""
    if not violations:
        return True
    solver = _solver()
    solver.add(*constraints, z3.Or(*violations))
    return solver.check() == z3.unsat


def _minimal(solver: z3.Solver, total: z3.ArithRef) -> z3.ModelRef:
    model = solver.model()
    best = model.eval(total, model_completion=True).as_long()
    low = 0
    solver.set(timeout=SHORTEN_MILLISECONDS)
    for _ in range(SHORTEN_ROUNDS):
        if low >= best:
            break
        middle = (low + best) // 2
        solver.push()
        solver.add(total <= middle)
        if solver.check() == z3.sat:
            model = solver.model()
            best = model.eval(total, model_completion=True).as_long()
        else:
            low = middle + 1  # unsat, or unknown: keep the witness found so far
        solver.pop()
    solver.set(timeout=CHECK_MILLISECONDS)
    return model


def _key(witness: Witness, shown: Sequence[z3.ExprRef]) -> tuple[str, ...]:
    return tuple(str(witness.eval(t, model_completion=True)) for t in shown)


def shortest(search: Search, limit: int = 3) -> list[Witness]:
    """Up to `limit` witnesses, shortest first; [] when the theorem holds."""
    solver = _solver()
    solver.add(*search.constraints, search.violation)
    if _check(solver) == z3.unsat:
        return []
    claim = z3.And(*search.constraints, search.violation)
    hits = [c for c in search.candidates if z3.is_true(c.eval(claim))]
    if hits:
        hits.sort(key=lambda c: c.eval(search.cost).as_long())
        unique = {_key(c, search.shown): c for c in reversed(hits)}
        return sorted(unique.values(), key=lambda c: c.eval(search.cost).as_long())[:limit]
    for shape in [*search.preferred, z3.BoolVal(True)]:
        solver.push()
        solver.add(shape)
        found: list[Witness] = []
        if solver.check() == z3.sat:
            first = _minimal(solver, search.cost)
            found.append(first)
            # The others: as short give or take a few characters, found in one call each.
            solver.add(search.cost <= first.eval(search.cost, model_completion=True).as_long()
                       + FURTHER_SLACK)
            solver.set(timeout=SHORTEN_MILLISECONDS)
            while len(found) < limit:
                last = found[-1]
                solver.add(z3.Or(*[t != last.eval(t, model_completion=True)
                                   for t in search.shown]) if search.shown
                           else z3.BoolVal(False))
                if solver.check() != z3.sat:
                    break
                found.append(solver.model())
            solver.set(timeout=CHECK_MILLISECONDS)
        solver.pop()
        if found:
            return found
    raise CannotProve("the solver found a violation but no witness of it")  # pragma: no cover

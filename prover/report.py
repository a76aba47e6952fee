"""A stack's proof as people read it, and what it means for an exit status.

0: every theorem proved (and every replay agreed); 1: a theorem is false, its counterexamples
name the class; 2: the prover could not decide (a construct outside the fragment, a solver
timeout) or the engines disagree on a counterexample: neither proof nor refutation is trusted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from prover import replay as replays
from prover.replay import Replay
from prover.subject import Subject
from prover.theorems import TheoremResult, theorems

MARKS = {"proved": "✔", "refuted": "✘", "cannot prove": "?"}


@dataclass
class ProofReport:
    subject: Subject
    results: list[TheoremResult]
    replays: list[Replay] = field(default_factory=list)
    seconds: float = 0.0
    replay_seconds: float = 0.0

    @property
    def counterexamples(self) -> list:
        return [c for r in self.results for c in r.counterexamples]

    @property
    def disagreements(self) -> list[Replay]:
        return [r for r in self.replays if r.outcome == "disagrees"]

    @property
    def exit_code(self) -> int:
        if self.disagreements or any(r.status == "cannot prove" for r in self.results):
            return 2
        return 1 if any(r.status == "refuted" for r in self.results) else 0

    def render(self) -> str:
        s = self.subject
        lines = [f"Stack `{s.stack}` ({s.source}): issuer {s.issuer}, client {s.client_id}, "
                 f"API {s.synthesized.api_id} stage {s.synthesized.stage} in "
                 f"{s.synthesized.region}, account {s.account}"]
        by_counterexample: dict[int, list[Replay]] = {}
        for done in self.replays:
            by_counterexample.setdefault(id(done.counterexample), []).append(done)
        for result in self.results:
            lines.append(f"  {MARKS[result.status]} {result.label}: {result.statement} "
                         f"[{result.status}, {result.seconds * 1000:.0f} ms]")
            if result.reason:
                lines.append(f"      {result.reason}")
            for found in result.counterexamples:
                lines.append(f"      counterexample: {found.describe()}")
                for done in by_counterexample.get(id(found), []):
                    lines.append(f"        replayed: {done.describe()}")
        proved = sum(r.status == "proved" for r in self.results)
        lines.append(f"  {proved}/{len(self.results)} proved in {self.seconds:.1f} s"
                     + (f"; {len(self.replays)} counterexample(s) replayed in "
                        f"{self.replay_seconds:.1f} s" if self.replays else ""))
        for disagreement in self.disagreements:
            lines.append(f"  ENGINE DISAGREEMENT on {disagreement.counterexample.describe()}: "
                         f"{disagreement.detail}")
        return "\n".join(lines)


Replayer = Callable[[Sequence], list[Replay]]  # counterexamples -> their replays


def prove_subject(subject: Subject, *, replay: bool = True,
                  live: Replayer | None = None,
                  progress: Callable[[TheoremResult], None] | None = None) -> ProofReport:
    """Every theorem of the subject, then each counterexample replayed offline (and live)."""
    started = time.perf_counter()
    results = []
    for _, theorem in theorems(subject):
        results.append(theorem())
        if progress:
            progress(results[-1])
    report = ProofReport(subject, results, seconds=time.perf_counter() - started)
    if replay and report.counterexamples:
        started = time.perf_counter()
        report.replays = replays.offline(report.counterexamples)
        if live is not None:
            report.replays += live(report.counterexamples)
        report.replay_seconds = time.perf_counter() - started
    return report

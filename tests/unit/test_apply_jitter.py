"""The local apply's jitter (devstack/apply/jitter.py): delays drawn from a seed and the
resource alone, read from PETS_APPLY_JITTER, and named in a failure so it can be replayed."""

from __future__ import annotations

import pytest

from devstack.apply import apply_function
from devstack.apply.errors import ApplyError
from devstack.apply.jitter import Jitter
from harness_core.errors import ProgramRunError
from tests.support.local_apply import no_aws_factory

METHOD = "aws:apigateway/method:Method"


def test_jitter_draws_depend_on_seed_and_resource_only() -> None:
    names = [f"r{i}" for i in range(1000)]
    jitter = Jitter(11)
    delays = [jitter.delay(METHOD, n) for n in names]
    assert delays == [Jitter(11).delay(METHOD, n) for n in names], "one seed, one set of delays"
    assert delays != [Jitter(12).delay(METHOD, n) for n in names]
    assert all(0 <= d <= jitter.max_seconds for d in delays)
    held = sum(jitter.holds(METHOD, n) for n in names)
    assert 0.05 < held / len(names) < 0.15, f"{held} of 1000 held; the share is 0.1"


@pytest.mark.parametrize(
    ("value", "expected"), [(None, None), ("", None), ("off", None), ("0", None), ("42", 42)]
)
def test_jitter_from_the_environment(value: str | None, expected: int | None) -> None:
    environ = {} if value is None else {"PETS_APPLY_JITTER": value}
    jitter = Jitter.from_environment(environ)
    assert (jitter and jitter.seed) == expected


def test_jitter_random_seed_and_bad_values() -> None:
    jitter = Jitter.from_environment({"PETS_APPLY_JITTER": "random"})
    assert jitter is not None and jitter.seed > 0
    with pytest.raises(ApplyError, match=r"PETS_APPLY_JITTER='fast': set a positive integer"):
        Jitter.from_environment({"PETS_APPLY_JITTER": "fast"})


def test_a_failure_under_jitter_says_how_to_replay_it() -> None:
    def raises() -> None:
        raise ValueError("bad setting")

    with pytest.raises(ProgramRunError) as failure:
        apply_function(raises, no_aws_factory(), jitter=Jitter(5))
    assert "PETS_APPLY_JITTER=5 replays this order" in " ".join(failure.value.__notes__)

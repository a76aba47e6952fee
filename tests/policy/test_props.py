"""Unknown values: made explicit by `plain`, never mistaken for a value."""

from __future__ import annotations

import pytest
from pulumi_policy.proxy import (
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
    unknown_checking_proxy,
)

from policy.props import UNKNOWN, is_unknown, plain, require_known

RAW = {"name": "t", "arn": UNKNOWN_STRING_VALUE,
       "settings": {"enabled": UNKNOWN_BOOLEAN_VALUE, "items": ["a", UNKNOWN_STRING_VALUE]}}
EXPECTED = {"name": "t", "arn": UNKNOWN, "settings": {"enabled": UNKNOWN, "items": ["a", UNKNOWN]}}


@pytest.mark.parametrize("wrap", [dict, unknown_checking_proxy], ids=["raw", "engine-proxy"])
def test_plain_marks_every_unknown(wrap):
    assert plain(wrap(RAW)) == EXPECTED


def test_require_known_defers_to_the_engine():
    assert require_known("x", "name") == "x"
    assert not is_unknown("x")
    with pytest.raises(UnknownValueError) as err:
        require_known(plain(RAW)["arn"], "arn")
    assert err.value.message == "string value at .arn can't be known during preview"

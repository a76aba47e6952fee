"""Readable tables of boolean matrices, and the comparison of two engines' matrices.

A matrix is {row: {column: bool}}, e.g. {user class: {route id: allowed}} (access.access_matrix)
or {identity: {user class: may assume}}. Keys are printed as given.
"""

from __future__ import annotations

from collections.abc import Sequence

AllowMatrix = dict[str, dict[str, bool]]

ALLOW, DENY, ABSENT = "allow", "deny", "-"
MARK = "!"  # suffix of a cell the two matrices disagree on
SIDE_BY_SIDE_MAX_WIDTH = 120
_GAP = "    "


def _cell(value: bool | None) -> str:
    return ABSENT if value is None else ALLOW if value else DENY


def _keys(*matrices: AllowMatrix) -> tuple[list[str], list[str]]:
    """Row and column keys of all matrices, in first-seen order."""
    rows: dict[str, None] = {}
    cols: dict[str, None] = {}
    for matrix in matrices:
        for row, cells in matrix.items():
            rows[row] = None
            cols.update(dict.fromkeys(cells))
    return list(rows), list(cols)


def _lines_by(rows: Sequence[str], cols: Sequence[str]) -> tuple[bool, list[str], list[str]]:
    """Puts the keys with the longer labels (route ids) down the side: narrow tables."""
    longest = lambda keys: max((len(k) for k in keys), default=0)  # noqa: E731
    transpose = longest(cols) > longest(rows)
    return (transpose, list(cols), list(rows)) if transpose else (False, list(rows), list(cols))


def format_table(
    matrix: AllowMatrix,
    *,
    title: str = "",
    corner: str = "",
    marked: frozenset[tuple[str, str]] = frozenset(),
    rows: Sequence[str] | None = None,
    cols: Sequence[str] | None = None,
) -> list[str]:
    """The matrix as aligned text lines; `marked` (row, col) cells get a `!`."""
    all_rows, all_cols = _keys(matrix)
    rows = list(rows) if rows is not None else all_rows
    cols = list(cols) if cols is not None else all_cols
    transpose, side, top = _lines_by(rows, cols)

    def value(s: str, t: str) -> str:
        row, col = (t, s) if transpose else (s, t)
        text = _cell(matrix.get(row, {}).get(col))
        return text + MARK if (row, col) in marked else text

    side_width = max([len(corner), *(len(s) for s in side)])
    widths = [max(len(t), len(ALLOW) + len(MARK)) for t in top]
    heads = [t.ljust(w) for t, w in zip(top, widths, strict=True)]
    header = "  ".join([corner.ljust(side_width), *heads])
    lines = [title] if title else []
    lines.append(header.rstrip())
    for s in side:
        cells = [value(s, t).ljust(w) for t, w in zip(top, widths, strict=True)]
        lines.append("  ".join([s.ljust(side_width), *cells]).rstrip())
    return lines


def side_by_side(left: list[str], right: list[str]) -> list[str]:
    """Two blocks of lines next to each other, or one under the other if too wide."""
    width = max((len(line) for line in left), default=0)
    if width + len(_GAP) + max((len(line) for line in right), default=0) > SIDE_BY_SIDE_MAX_WIDTH:
        return [*left, "", *right]
    height = max(len(left), len(right))
    padded = [*left, *[""] * (height - len(left))], [*right, *[""] * (height - len(right))]
    return [(a.ljust(width) + _GAP + b).rstrip() for a, b in zip(*padded, strict=True)]


def compare_matrices(
    expected: AllowMatrix,
    measured: AllowMatrix,
    engines: tuple[str, str] = ("offline", "emulator"),
    *,
    corner: str = "",
) -> str | None:
    """None if both matrices hold the same cells with the same values, else a readable report.

    The report lists every disagreeing cell (saying which engine said what; a cell one matrix
    lacks counts as a disagreement) and shows both tables side by side with those cells marked.
    """
    first, second = engines
    rows, cols = _keys(expected, measured)
    differing: list[tuple[str, str, bool | None, bool | None]] = []
    for row in rows:
        for col in cols:
            a, b = expected.get(row, {}).get(col), measured.get(row, {}).get(col)
            if a is not b:
                differing.append((row, col, a, b))
    if not differing:
        return None

    def says(engine: str, value: bool | None) -> str:
        return f"{engine} has no answer" if value is None else f"{engine} says {_cell(value)}"

    total = len(rows) * len(cols)
    lines = [f"{first} and {second} disagree on {len(differing)} of {total} cells:"]
    lines += [f"  ({row}, {col}): {says(first, a)}, {says(second, b)}"
              for row, col, a, b in differing]
    marked = frozenset((row, col) for row, col, _, _ in differing)
    tables = [format_table(m, title=name, corner=corner, marked=marked, rows=rows, cols=cols)
              for name, m in ((first, expected), (second, measured))]
    lines += ["", *side_by_side(*tables)]
    lines.append(f"({MARK} marks a disagreeing cell, {ABSENT} a cell the matrix lacks)")
    return "\n".join(lines)

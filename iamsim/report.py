"""Readable tables of boolean matrices, and the comparison of two engines' matrices.

A matrix is {row: {column: bool}}, e.g. {user class: {route id: allowed}} (access.access_matrix)
or {identity: {user class: may assume}}. Keys are printed as given.
"""

from __future__ import annotations

from collections.abc import Sequence

from tabulate import tabulate

AllowMatrix = dict[str, dict[str, bool]]

ABSENT = "-"  # a cell the matrix lacks
MARK = "!"  # suffix of a cell the two matrices disagree on


def _cell(value: bool | None) -> str:
    return ABSENT if value is None else "allow" if value else "deny"


def _keys(*matrices: AllowMatrix) -> tuple[list[str], list[str]]:
    """Row and column keys of all matrices, in first-seen order."""
    rows = dict.fromkeys(row for matrix in matrices for row in matrix)
    cols = dict.fromkeys(col for matrix in matrices for cells in matrix.values() for col in cells)
    return list(rows), list(cols)


def format_table(
    matrix: AllowMatrix,
    *,
    corner: str = "",
    marked: frozenset[tuple[str, str]] = frozenset(),
    keys: tuple[Sequence[str], Sequence[str]] | None = None,
) -> str:
    """The matrix as an aligned text table; `marked` (row, col) cells get a `!`.

    keys: the (rows, columns) to show, default the matrix's own. The keys with the longer labels
    (route ids) go down the side, so that tables stay narrow.
    """
    rows, cols = keys or _keys(matrix)
    transpose = max(map(len, cols), default=0) > max(map(len, rows), default=0)
    side, top = (cols, rows) if transpose else (rows, cols)

    def value(s: str, t: str) -> str:
        row, col = (t, s) if transpose else (s, t)
        return _cell(matrix.get(row, {}).get(col)) + (MARK if (row, col) in marked else "")

    body = [[s, *(value(s, t) for t in top)] for s in side]
    return tabulate(body, headers=[corner, *top], tablefmt="plain")


def compare_matrices(
    expected: AllowMatrix,
    measured: AllowMatrix,
    engines: tuple[str, str] = ("offline", "emulator"),
    *,
    corner: str = "",
) -> str | None:
    """None if both matrices hold the same cells with the same values, else a readable report.

    The report lists every disagreeing cell (saying which engine said what; a cell one matrix
    lacks counts as a disagreement) and shows both tables with those cells marked.
    """
    first, second = engines
    keys = _keys(expected, measured)
    rows, cols = keys
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

    lines = [f"{first} and {second} disagree on {len(differing)} of {len(rows) * len(cols)} cells:"]
    lines += [f"  ({row}, {col}): {says(first, a)}, {says(second, b)}"
              for row, col, a, b in differing]
    marked = frozenset((row, col) for row, col, _, _ in differing)
    for name, matrix in ((first, expected), (second, measured)):
        lines += ["", f"{name}:", format_table(matrix, corner=corner, marked=marked, keys=keys)]
    lines.append(f"({MARK} marks a disagreeing cell, {ABSENT} a cell the matrix lacks)")
    return "\n".join(lines)

"""A small, safe expression language for ``--positive`` (which rows count as flagged/listed).

Examples::

    score_text in ('High', 'Medium')
    decile_score >= 5
    `risk band` == 'high' and not at_large == False
    risk >= 0.3 or (band in ['A', 'B'] and rfgv_score > 10)

Grammar (a subset of Python expressions, checked node by node with ``ast``; nothing is ever
passed to ``eval``): comparisons ``== != < <= > >= in, not in`` between a column and a literal
(string, number, True/False/None) or a tuple/list of literals, or between two columns; ``and``,
``or``, ``not`` and parentheses; a bare column name means "is true". Column names that are not
Python identifiers are written in backticks. Anything else (calls, attributes, arithmetic,
subscripts, lambdas, f-strings) is rejected with a one-line error.
"""

from __future__ import annotations

import ast
import re
from typing import Any

import numpy as np
import pandas as pd

from harmlens.errors import HarmlensError

__all__ = ["ExpressionError", "evaluate", "parse"]


class ExpressionError(HarmlensError):
    """The --positive (or similar) expression is not in the allowed grammar."""


_BACKTICK = re.compile(r"`([^`]+)`")
_MAX_LEN = 2000


def parse(expr: str) -> tuple[ast.Expression, dict[str, str]]:
    """Parse and validate ``expr``; returns the tree and the backtick-name table."""
    if not isinstance(expr, str) or not expr.strip():
        raise ExpressionError("empty expression")
    if len(expr) > _MAX_LEN:
        raise ExpressionError(f"expression longer than {_MAX_LEN} characters")
    names: dict[str, str] = {}

    def sub(m: re.Match[str]) -> str:
        key = f"__col{len(names)}__"
        names[key] = m.group(1)
        return key

    src = _BACKTICK.sub(sub, expr.strip())
    try:
        tree = ast.parse(src, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"cannot parse expression {expr!r}: {exc.msg}") from None
    _check(tree.body, expr)
    return tree, names


def _check(node: ast.AST, expr: str) -> None:
    if isinstance(node, ast.BoolOp):
        for v in node.values:
            _check(v, expr)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        _check(node.operand, expr)
    elif isinstance(node, ast.Compare):
        allowed = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn)
        for op in node.ops:
            if not isinstance(op, allowed):
                raise ExpressionError(f"operator {type(op).__name__} is not allowed in {expr!r}")
        for operand in [node.left, *node.comparators]:
            _check_operand(operand, expr)
        if not any(isinstance(x, ast.Name) for x in [node.left, *node.comparators]):
            raise ExpressionError(f"a comparison must involve a column in {expr!r}")
    elif isinstance(node, ast.Name):
        pass
    elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
        pass
    else:
        raise ExpressionError(f"{type(node).__name__} is not allowed in {expr!r} (only comparisons, and/or/not)")


def _check_operand(node: ast.AST, expr: str) -> None:
    if isinstance(node, ast.Name):
        return
    if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, (str, int, float, bool))):
        return
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)) and isinstance(
        node.operand, ast.Constant) and isinstance(node.operand.value, (int, float)):
        return
    if isinstance(node, (ast.Tuple, ast.List)):
        for e in node.elts:
            if isinstance(e, (ast.Tuple, ast.List, ast.Name)):
                raise ExpressionError(f"a list in {expr!r} may hold only literals")
            _check_operand(e, expr)
        return
    raise ExpressionError(f"{type(node).__name__} is not allowed as an operand in {expr!r}")


def _literal(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp):
        v = _literal(node.operand)
        return -v if isinstance(node.op, ast.USub) else v
    return [_literal(e) for e in node.elts]  # Tuple / List


def _column(df: pd.DataFrame, node: ast.Name, names: dict[str, str], expr: str) -> pd.Series:
    col = names.get(node.id, node.id)
    if col not in df.columns:
        raise ExpressionError(f"unknown column {col!r} in {expr!r}; columns: {', '.join(map(str, df.columns[:30]))}")
    return df[col]


def _coerce_like(s: pd.Series, v: Any) -> Any:
    """Compare a numeric literal with a text column of numbers (CSV read as strings) sensibly."""
    if isinstance(v, (int, float)) and not isinstance(v, bool) and not pd.api.types.is_numeric_dtype(s):
        return pd.to_numeric(s, errors="coerce"), v
    return s, v


def _cmp(left: Any, op: ast.cmpop, right: Any, expr: str) -> pd.Series:
    if isinstance(op, (ast.In, ast.NotIn)):
        if not isinstance(left, pd.Series) or not isinstance(right, list):
            raise ExpressionError(f"'in' needs a column on the left and a list of literals on the right in {expr!r}")
        lit = right
        if any(isinstance(x, (int, float)) and not isinstance(x, bool) for x in lit) and not \
                pd.api.types.is_numeric_dtype(left):
            left = pd.to_numeric(left, errors="coerce")
        r = left.isin(lit)
        return ~r if isinstance(op, ast.NotIn) else r
    if isinstance(right, list) or isinstance(left, list):
        raise ExpressionError(f"a list can only follow 'in' / 'not in' in {expr!r}")
    if isinstance(left, pd.Series) and not isinstance(right, pd.Series):
        left, right = _coerce_like(left, right)
    elif isinstance(right, pd.Series) and not isinstance(left, pd.Series):
        right, left = _coerce_like(right, left)
    try:
        if isinstance(op, ast.Eq):
            r = (left.isna() if right is None else left == right) if isinstance(left, pd.Series) else right == left
        elif isinstance(op, ast.NotEq):
            r = (left.notna() if right is None else left != right) if isinstance(left, pd.Series) else right != left
        elif isinstance(op, ast.Lt):
            r = left < right
        elif isinstance(op, ast.LtE):
            r = left <= right
        elif isinstance(op, ast.Gt):
            r = left > right
        else:
            r = left >= right
    except TypeError as exc:
        raise ExpressionError(f"cannot compare these values in {expr!r}: {exc}") from None
    return pd.Series(r).fillna(False).astype(bool)


def _eval(node: ast.AST, df: pd.DataFrame, names: dict[str, str], expr: str) -> Any:
    if isinstance(node, ast.BoolOp):
        parts = [_truthy(_eval(v, df, names, expr), expr) for v in node.values]
        out = parts[0]
        for p in parts[1:]:
            out = (out & p) if isinstance(node.op, ast.And) else (out | p)
        return out
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return ~_truthy(_eval(node.operand, df, names, expr), expr)
    if isinstance(node, ast.Compare):
        vals = [node.left, *node.comparators]
        ev = [_column(df, v, names, expr) if isinstance(v, ast.Name) else _literal(v) for v in vals]
        out = pd.Series(True, index=df.index)
        for i, op in enumerate(node.ops):  # chained: a < b < c means a < b and b < c
            out &= _cmp(ev[i], op, ev[i + 1], expr)
        return out
    if isinstance(node, ast.Name):
        return _column(df, node, names, expr)
    if isinstance(node, ast.Constant):
        return pd.Series(bool(node.value), index=df.index)
    raise ExpressionError(f"cannot evaluate {expr!r}")


def _truthy(v: Any, expr: str) -> pd.Series:
    s = v if isinstance(v, pd.Series) else pd.Series(v)
    if s.dtype == bool:
        return s
    low = s.astype(str).str.strip().str.lower()
    known = {"true": True, "1": True, "1.0": True, "yes": True, "y": True, "t": True,
             "false": False, "0": False, "0.0": False, "no": False, "n": False, "f": False, "nan": False,
             "none": False, "": False, "<na>": False}
    bad = ~low.isin(list(known))
    if bad.any():
        raise ExpressionError(f"column used as a condition in {expr!r} is not true/false (e.g. {s[bad].iloc[0]!r})")
    return low.map(known).astype(bool)


def evaluate(expr: str, df: pd.DataFrame) -> pd.Series:
    """Evaluate ``expr`` on ``df``; a boolean Series aligned with ``df`` (missing values are False)."""
    tree, names = parse(expr)
    out = _eval(tree.body, df, names, expr)
    return _truthy(out, expr).reindex(df.index).fillna(False).astype(bool).rename(None).pipe(
        lambda s: pd.Series(np.asarray(s, dtype=bool), index=df.index))

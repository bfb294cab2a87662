"""Names that reach SQL from outside (a file's header, a ``--map`` value, a flag) are quoted here.

Values are always bound parameters; identifiers cannot be, so every identifier that did not come
from harmlens's own code goes through :func:`quote_ident`. A double quote inside the name is
doubled, which is the SQL standard's escape in both DuckDB and PostgreSQL, so no header can close
the quote and append SQL of its own. NUL bytes are refused: drivers cut strings there.

>>> quote_ident('forename')
'"forename"'
>>> quote_ident('a"b')
'"a""b"'
>>> quote_ident('x") FROM read_text(\\'/etc/passwd\\') --')
'"x"") FROM read_text(\\'/etc/passwd\\') --"'
"""

from __future__ import annotations

from harmlens.errors import HarmlensError


class UnsafeIdentifier(HarmlensError):
    """A name from outside that cannot be used as an SQL identifier at all."""


def quote_ident(name: object) -> str:
    """``name`` as a quoted SQL identifier, safe whatever characters it holds."""
    s = str(name)
    if "\x00" in s:
        raise UnsafeIdentifier(f"column name {s.replace(chr(0), '?')!r} holds a NUL byte")
    if s == "":
        raise UnsafeIdentifier("empty column name")
    return '"' + s.replace('"', '""') + '"'


__all__ = ["quote_ident", "UnsafeIdentifier"]

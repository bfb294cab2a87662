"""A warehouse linked by the real link run (Splink) for the link review tests, built once per session.

The small city of tests/link/smallcity.py (written-down truth, typos, namesakes) is linked by
``link_warehouse``; the users are those of tests/web/conftest.py. Tests get copies.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from tests.web.conftest import PASSWORD, ROLES

_TEMPLATE: list[Path] = []
N_PERSONS = 60


def _template() -> Path:
    if not _TEMPLATE:
        from harmlens.link.warehouse import link_warehouse
        from harmlens.warehouse import connect
        from harmlens.web.auth import add_user
        from harmlens.web.store import Store
        from tests.link.smallcity import load_into, make_people

        d = Path(tempfile.mkdtemp(prefix="hlweb_linked_"))
        con = connect(d / "wh.duckdb")
        load_into(con, make_people(N_PERSONS))
        link_warehouse(con)
        con.close()
        s = Store(f"sqlite:///{d / 'ops.sqlite'}")
        for name, (role, agency) in ROLES.items():
            add_user(s, name, PASSWORD, role, agency)
        s.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        s.close()
        _TEMPLATE.append(d)
    return _TEMPLATE[0]


def linked_app(tmp_path: Path, **settings):
    """The app over a fresh copy of the linked warehouse (snapshot served, as in production)."""
    from harmlens.web.app import WebSettings, create_app

    tpl = _template()
    shutil.copy(tpl / "wh.duckdb", tmp_path / "wh.duckdb")
    shutil.copy(tpl / "ops.sqlite", tmp_path / "ops.sqlite")
    return create_app(WebSettings(warehouse=tmp_path / "wh.duckdb", store_url=f"sqlite:///{tmp_path / 'ops.sqlite'}", **settings))

"""Schema is versioned; a newer migration applies once and keeps existing data."""

from __future__ import annotations

from harmlens.warehouse import applied_migrations, connect, migrations, registered_migrations


def test_fresh_warehouse_has_every_registered_migration(tmp_path):
    con = connect(tmp_path / "w.duckdb")
    assert set(applied_migrations(con)) == {m[0] for m in registered_migrations()}
    assert {"events", "people", "quarantine", "loads"} <= {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}


def test_new_migration_applies_once_and_keeps_data(tmp_path, monkeypatch):
    path = tmp_path / "w.duckdb"
    con = connect(path)
    con.execute("INSERT INTO events (event_id, source, event_type, occurred_at) VALUES ('e1', 'crime', 'offence', '2024-01-01')")
    con.close()
    extra = ("zz_test_001", "ALTER TABLE events ADD COLUMN reviewed BOOLEAN DEFAULT false")
    original = migrations.registered_migrations
    monkeypatch.setattr(migrations, "registered_migrations", lambda: original() + [extra])
    con = connect(path)
    assert con.execute("SELECT event_id, reviewed FROM events").fetchall() == [("e1", False)]
    assert "zz_test_001" in applied_migrations(con)
    con.close()
    con = connect(path)  # reopening does not apply it again
    assert applied_migrations(con).count("zz_test_001") == 1


def test_failed_migration_rolls_back(tmp_path, monkeypatch):
    path = tmp_path / "w.duckdb"
    connect(path).close()
    bad = ("zz_bad_001", "CREATE TABLE half (a INT); SELECT * FROM no_such_table")
    original = migrations.registered_migrations
    monkeypatch.setattr(migrations, "registered_migrations", lambda: original() + [bad])
    import duckdb
    import pytest

    with pytest.raises(duckdb.CatalogException, match="no_such_table"):
        connect(path)
    monkeypatch.setattr(migrations, "registered_migrations", original)
    con = connect(path)
    assert "zz_bad_001" not in applied_migrations(con)
    assert con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name='half'").fetchone()[0] == 0

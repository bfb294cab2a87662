"""link_by_truth: every ingested mention gets its true person, once; a later extract adds only the new ones."""

from __future__ import annotations

import pandas as pd

from harmlens.contract.load import ingest
from harmlens.synth import SynthConfig, generate, link_by_truth


def test_links_every_ingested_mention_to_its_true_person_once(tmp_path, warehouse):
    city = tmp_path / "city"
    generate(SynthConfig(people=3000, seed=4), city)
    ingest(warehouse, city)
    n = link_by_truth(warehouse, city)
    people = warehouse.execute("SELECT count(*) FROM people").fetchall()[0][0]
    assert n == people > 0
    truth = pd.read_parquet(city / "truth" / "mentions.parquet").astype({"mention_id": str, "person_id": str})
    got = warehouse.execute("SELECT mention_id, person_id, method FROM links").df()
    merged = got.merge(truth[["mention_id", "person_id"]], on="mention_id", suffixes=("", "_true"))
    assert len(merged) == n and (merged["person_id"] == merged["person_id_true"]).all() and (got["method"] == "truth").all()
    assert link_by_truth(warehouse, city) == 0  # nothing new: nothing written, no duplicates

"""A small synthetic city shared by the synth tests (generated once per session)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from harmlens.synth import SynthConfig, generate


class City:
    """Lazy reader of one generated folder."""

    def __init__(self, path: Path, config: SynthConfig) -> None:
        self.path = path
        self.config = config
        self._cache: dict[str, pd.DataFrame] = {}

    def table(self, name: str) -> pd.DataFrame:
        if name not in self._cache:
            self._cache[name] = pd.read_parquet(self.path / f"{name}.parquet")
        return self._cache[name]

    @property
    def params(self) -> dict:
        return json.loads((self.path / "truth" / "params.json").read_text())


def make_city(root: Path, **kw) -> City:
    cfg = SynthConfig(**kw)
    generate(cfg, root)
    return City(root, cfg)


@pytest.fixture(scope="session")
def city(tmp_path_factory) -> City:
    """20,000 residents, dense stops (so stop statistics have power), default everything else."""
    return make_city(tmp_path_factory.mktemp("city"), people=20_000, seed=11, stops_per_1000=150.0)

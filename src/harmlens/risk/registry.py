"""The model registry: versioned models in the warehouse ``models`` table, artifacts on disk.

Each training registers a version (``v1``, ``v2``, ...) with its data hash, parameters, metrics,
target, data window, feature list and model card paths. The fitted models are a joblib file in
``<warehouse stem>_models/<version>/`` beside the warehouse (or a folder given explicitly), with
its sha256 recorded so a swapped file is refused. New versions are ``candidate``s; ``promote``
makes one the ``promoted`` model that scoring uses by default (the previous one goes back to
``candidate``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from duckdb import DuckDBPyConnection

from harmlens.engine import Engine, as_engine
from harmlens.errors import HarmlensError


class RegistryError(HarmlensError):
    """A model version is missing, its artifact is gone or altered, or the registry is empty."""


DEAD_FEATURE = "recorded_dead"


def structural_zeros(X: pd.DataFrame, risk: np.ndarray) -> np.ndarray:
    """Risk 0 for people whose death was recorded before the date: nobody is named in an offence
    committed after their death, and a model alone would leave them a small learnt risk."""
    if DEAD_FEATURE in X.columns:
        return np.where(X[DEAD_FEATURE].to_numpy(dtype=float) > 0, 0.0, risk)
    return risk


@dataclass
class RiskBundle:
    """Everything one registered version needs to score: fitted models and how they were made."""

    models: dict[str, Any]
    primary: str
    features: list[str]
    target: dict[str, Any]
    window: dict[str, Any]
    severity_edges: list[float] = field(default_factory=list)
    severity_means: list[float] = field(default_factory=list)
    bands: list[dict[str, Any]] = field(default_factory=list)
    """Risk bands cut from the validation date (risk/bands.py); empty when the version was not validated."""

    @property
    def model(self) -> Any:
        return self.models[self.primary]

    def predict_risk(self, X: pd.DataFrame, which: str | None = None) -> np.ndarray:
        missing = [f for f in self.features if f not in X.columns]
        if missing:
            raise RegistryError(f"the features do not match the model: missing {missing[:5]} (retrain after a features change)")
        return structural_zeros(X, self.models[which or self.primary].predict_proba(X[self.features])[:, 1])

    def expected_harm(self, risk: np.ndarray) -> np.ndarray:
        """risk x mean harm of the offences that followed among training people of similar risk."""
        if not self.severity_means:
            return np.full(len(risk), np.nan)
        b = np.clip(np.searchsorted(np.asarray(self.severity_edges), risk, side="right") - 1, 0, len(self.severity_means) - 1)
        return risk * np.asarray(self.severity_means)[b]


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def models_dir(con: Engine | DuckDBPyConnection, override: str | Path | None = None) -> Path:
    """``<warehouse stem>_models`` beside the warehouse file (or ``override``)."""
    eng = as_engine(con)
    if override is not None:
        return Path(override)
    rows = eng.rows("SELECT path FROM duckdb_databases() WHERE database_name = current_database()")
    row = rows[0] if rows else None
    path = row[0] if row else None
    if not path or path == ":memory:":
        raise RegistryError("an in-memory warehouse has no folder for model files: pass a models folder")
    p = Path(path)
    return p.with_name(f"{p.stem}_models")


def data_hash(*frames: Any) -> str:
    """sha256 over the row hashes of the training tables (order-sensitive, content-exact)."""
    h = hashlib.sha256()
    for f in frames:
        obj = f if isinstance(f, (pd.DataFrame, pd.Series)) else pd.Series(np.asarray(f))
        h.update(pd.util.hash_pandas_object(obj, index=True).to_numpy().tobytes())
        if isinstance(obj, pd.DataFrame):
            h.update("|".join(map(str, obj.columns)).encode())
    return h.hexdigest()


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def next_version(con: Engine | DuckDBPyConnection) -> str:
    eng = as_engine(con)
    rows = eng.rows("SELECT version FROM models")
    nums = [int(v[1:]) for (v,) in rows if v.startswith("v") and v[1:].isdigit()]
    return f"v{max(nums, default=0) + 1}"


def save_bundle(bundle: RiskBundle, folder: Path) -> tuple[Path, str]:
    import joblib

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "model.joblib"
    tmp = path.with_suffix(".joblib.tmp")
    joblib.dump(bundle, tmp, compress=3)
    tmp.replace(path)
    return path, _file_sha256(path)


def register(
    con: Engine | DuckDBPyConnection,
    *,
    version: str,
    bundle: RiskBundle,
    artifact: Path,
    artifact_sha256: str,
    data_hash_: str,
    params: dict[str, Any],
    metrics: dict[str, Any],
    card_md: Path | None,
    card_html: Path | None,
) -> None:
    eng = as_engine(con)
    eng.execute(
        "INSERT INTO models (version, created_at, status, primary_model, target, data_window, data_hash, params, metrics, "
        "features, artifact_path, artifact_sha256, card_md, card_html) VALUES (?, ?, 'candidate', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            version, _now(), bundle.primary, json.dumps(bundle.target), json.dumps(bundle.window, default=str), data_hash_,
            json.dumps(params, default=str), json.dumps(metrics, default=_json_default), json.dumps(bundle.features),
            str(artifact), artifact_sha256, str(card_md) if card_md else None, str(card_html) if card_html else None,
        ],
    )


def _json_default(o: Any) -> Any:
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    return str(o)


def list_models(con: Engine | DuckDBPyConnection) -> pd.DataFrame:
    eng = as_engine(con)
    df = eng.frame(
        "SELECT version, created_at, status, primary_model, target, data_window, data_hash, metrics FROM models ORDER BY created_at, version"
    )
    if df.empty:
        return pd.DataFrame(columns=["version", "created_at", "status", "primary_model", "target", "train_window", "auc", "data_hash"])
    tgt = df["target"].map(json.loads)
    win = df["data_window"].map(json.loads)
    met = df["metrics"].map(lambda s: json.loads(s) if s else {})
    return pd.DataFrame({
        "version": df["version"], "created_at": df["created_at"], "status": df["status"], "primary_model": df["primary_model"],
        "target": [f"{t.get('category')} {t.get('threshold')} within {t.get('horizon_days')}d" for t in tgt],
        "train_window": [f"{w.get('train_start')} .. {w.get('train_end')}" for w in win],
        "auc": [m.get("validation", {}).get(m.get("primary", ""), {}).get("auc") for m in met],
        "data_hash": df["data_hash"].str.slice(0, 12),
    })


def get_model(con: Engine | DuckDBPyConnection, version: str | None = None) -> dict[str, Any]:
    """The registry row of ``version``; default the promoted one, else the newest."""
    eng = as_engine(con)
    if version:
        row = eng.frame("SELECT * FROM models WHERE version = ?", [version])
        if row.empty:
            known = [v for (v,) in eng.rows("SELECT version FROM models ORDER BY version")]
            raise RegistryError(f"no model version {version!r} (known: {', '.join(known) or 'none; run harmlens train'})")
    else:
        row = eng.frame("SELECT * FROM models WHERE status = 'promoted' ORDER BY promoted_at DESC LIMIT 1")
        if row.empty:
            row = eng.frame("SELECT * FROM models ORDER BY created_at DESC, version DESC LIMIT 1")
        if row.empty:
            raise RegistryError("no model in the registry: run 'harmlens train' first")
    rec = row.iloc[0].to_dict()
    for k in ("target", "data_window", "params", "metrics", "features"):
        if rec.get(k) is not None and isinstance(rec[k], str):
            rec[k] = json.loads(rec[k])
    return rec


def load_bundle(con: Engine | DuckDBPyConnection, version: str | None = None) -> tuple[RiskBundle, dict[str, Any]]:
    import joblib

    rec = get_model(con, version)
    path = Path(rec["artifact_path"])
    if not path.exists():
        raise RegistryError(f"model {rec['version']}: artifact {path} is missing")
    if _file_sha256(path) != rec["artifact_sha256"]:
        raise RegistryError(f"model {rec['version']}: artifact {path} does not match its recorded sha256 (altered?)")
    return joblib.load(path), rec


def promote(con: Engine | DuckDBPyConnection, version: str) -> str | None:
    """Make ``version`` the promoted model; returns the version it replaced (if any)."""
    eng = as_engine(con)
    get_model(con, version)
    prev = eng.rows("SELECT version FROM models WHERE status = 'promoted'")
    with as_engine(con).transaction():
        eng.execute("UPDATE models SET status = 'candidate' WHERE status = 'promoted'")
        eng.execute("UPDATE models SET status = 'promoted', promoted_at = ? WHERE version = ?", [_now(), version])
    old = [v for (v,) in prev if v != version]
    return old[0] if old else None

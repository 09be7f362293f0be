"""Small data folders for the store and validation tests: the demo network with three hotline months."""
import shutil
from pathlib import Path

import pandas as pd
import pytest

DATASETS = Path(__file__).resolve().parents[1] / "datasets"
MONTHS = ("2026-08", "2026-09", "2026-10")


def small_network(dest: Path, months=MONTHS) -> Path:
    """A writable copy of the demo folder with only ``months`` of hotline data (real copies, no links)."""
    dest.mkdir(parents=True)
    for entry in DATASETS.iterdir():
        if entry.is_file():
            shutil.copy(entry, dest / entry.name)
    (dest / "hotline").mkdir()
    for m in months:
        shutil.copy(DATASETS / "hotline" / f"{m}.parquet", dest / "hotline" / f"{m}.parquet")
    return dest


def edit_parquet(path: Path, edit) -> None:
    frame = pd.read_parquet(path)
    edit(frame).to_parquet(path, index=False)


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    """No $SQC_STORE from the caller; stores that fall back to the per-user cache go to tmp_path."""
    monkeypatch.delenv("SQC_STORE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture
def net(tmp_path):
    return small_network(tmp_path / "d")

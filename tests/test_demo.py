"""The demo service network generator (sqc.demo) and the committed data in datasets/.

Checks: the committed data are exactly what the generator produces with the default seed; every table validates
against its schema; every planted effect is visible with a simple statistic; scale works; bad parameters raise.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sqc import demo
from sqc.errors import ParameterError
from sqc.schema import validate
from sqc.tables import DIMENSION_ITEMS, INSTRUMENT_FILES, SCHEMAS, TABLE_FILES

REPO = Path(__file__).resolve().parents[1]
DATASETS = REPO / "datasets"
needs_data = pytest.mark.skipif(not (DATASETS / "branches.csv").exists(), reason="datasets/ not generated")
CHECK_MONTHS = ["2024-11", "2026-10"]      # hotline months regenerated in the reproducibility test


def read(data_dir: Path, name: str, months: list[str] | None = None) -> pd.DataFrame:
    path = data_dir / TABLE_FILES[name]
    if path.is_dir():
        files = sorted(path.glob("*.parquet"))
        if months is not None:
            files = [f for f in files if f.stem in months]
        return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    if path.suffix == ".csv":
        return pd.read_csv(path, encoding="utf-8")
    return pd.read_parquet(path)


def table_hash(df: pd.DataFrame) -> str:
    h = pd.util.hash_pandas_object(df, index=False).to_numpy()
    return f"{len(df)}:{list(df.columns)}:{int(np.bitwise_xor.reduce(h * np.arange(1, len(h) + 1, dtype=np.uint64)))}"


@pytest.fixture(scope="module")
def data() -> dict[str, pd.DataFrame]:
    if not (DATASETS / "branches.csv").exists():
        pytest.skip("datasets/ not generated")
    return {name: read(DATASETS, name) for name in TABLE_FILES}


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("regen")
    demo.generate(out, months=CHECK_MONTHS)
    return out


# ------------------------------------------------------------------------------------------- reproducibility
@needs_data
@pytest.mark.parametrize("name", list(TABLE_FILES))
def test_same_seed_reproduces_the_committed_data(regenerated, name):
    months = CHECK_MONTHS if name == "hotline" else None
    assert table_hash(read(regenerated, name, months)) == table_hash(read(DATASETS, name, months))


@needs_data
def test_instrument_files_reproduce(regenerated):
    for rel in INSTRUMENT_FILES.values():
        assert (regenerated / rel).read_bytes() == (DATASETS / rel).read_bytes()


def test_partial_generation_matches_a_full_month_and_seed_matters(tmp_path):
    a = pd.concat(demo.hotline_month("2025-06"), ignore_index=True)
    b = pd.concat(demo.hotline_month("2025-06", chunk_rows=20_000), ignore_index=True)   # chunking irrelevant
    c = pd.concat(demo.hotline_month("2025-06", seed=1), ignore_index=True)
    assert table_hash(a) == table_hash(b)
    assert table_hash(a) != table_hash(c)
    demo.generate(tmp_path, tables=["hotline"], months=["2025-06"])
    assert table_hash(read(tmp_path, "hotline")) == table_hash(a)
    assert not (tmp_path / "README.md").exists()          # partial runs do not write the README


def test_scale_10_gives_ten_times_the_rows(tmp_path):
    one = demo.generate(tmp_path / "x1", tables=["hotline", "survey", "complaints"], months=["2026-10"])
    ten = demo.generate(tmp_path / "x10", scale=10, tables=["hotline", "survey", "complaints"],
                        months=["2026-10"])
    for name in ("hotline", "survey", "complaints"):
        assert 9.5 < ten[name] / one[name] < 10.5, name
    h = read(tmp_path / "x10", "hotline")
    validate(h, SCHEMAS["hotline"])
    assert h["contact_id"].is_unique


# ------------------------------------------------------------------------------------------- schemas
@needs_data
@pytest.mark.parametrize("name", list(TABLE_FILES))
def test_committed_tables_validate(data, name):
    out, report = validate(data[name], SCHEMAS[name], file=TABLE_FILES[name], extra_columns="raise")
    assert report.n_excluded == 0 and len(out) == len(data[name])


@needs_data
def test_regenerated_subset_validates(regenerated):
    for name in TABLE_FILES:
        validate(read(regenerated, name), SCHEMAS[name], extra_columns="raise")


@needs_data
def test_committed_data_are_compact():
    # committed files only: the store that sqc builds beside the exports (datasets/.sqc/) is git-ignored
    files = [p for p in DATASETS.rglob("*") if p.is_file() and ".sqc" not in p.relative_to(DATASETS).parts]
    assert sum(p.stat().st_size for p in files) < 40e6
    assert max(p.stat().st_size for p in files) < 5e6
    assert len(list((DATASETS / "hotline").glob("*.parquet"))) == 24


# ------------------------------------------------------------------------------------------- internal consistency
@needs_data
def test_hotline_is_consistent_and_realistic(data):
    h = data["hotline"]
    ans = h["answered"].to_numpy(bool)
    assert h["handle_s"].isna().to_numpy().tolist() == (~ans).tolist()
    assert h["resolved_first_contact"].isna().to_numpy().tolist() == (~ans).tolist()
    assert not h.loc[~ans, "csat"].notna().any()
    per_day = h.groupby(h["ts"].dt.date).size()
    assert 2000 < per_day.mean() < 4000 and len(per_day) == 730
    assert h["ts"].dt.hour.between(8, 21).all()
    dow = h.groupby(h["ts"].dt.day_of_week).size()
    assert dow.idxmax() == 0 and dow.idxmin() == 6             # Monday busiest, Sunday quietest
    assert 0.04 < 1 - ans.mean() < 0.10
    assert 270 < h["handle_s"].mean() < 330                    # AHT ~ 5 min
    assert 0.72 < h["resolved_first_contact"].mean() < 0.80    # FCR ~ 75 %
    assert 0.08 < h["csat"].notna().sum() / ans.sum() < 0.12   # ~10 % surveyed
    # abandonment rises with the wait; CSAT falls with the wait and rises with FCR
    long_wait = h["wait_s"] > 60
    assert (1 - h.loc[long_wait, "answered"].mean()) > 2 * (1 - h.loc[~long_wait, "answered"].mean())
    s = h[h["csat"].notna()]
    assert s.loc[s["resolved_first_contact"].astype(bool), "csat"].mean() > s.loc[
        ~s["resolved_first_contact"].astype(bool), "csat"].mean() + 0.3
    assert stats.spearmanr(s["wait_s"], s["csat"].astype(float)).statistic < -0.05


@needs_data
def test_complaints_are_consistent(data):
    c = data["complaints"]
    open_ = c["closed_at"].isna()
    assert 0 < open_.sum() < 0.05 * len(c)
    assert c.loc[open_, "recovered"].isna().all() and c.loc[~open_, "recovered"].notna().all()
    assert (c.loc[~open_, "closed_at"] > c.loc[~open_, "opened_at"]).all()
    assert c["closed_at"].max() <= pd.Timestamp("2026-10-31 23:59:59")
    assert 0.02 < c["reopened"].mean() < 0.12
    hours = (c["closed_at"] - c["opened_at"]).dt.total_seconds() / 3600
    med = hours.groupby(c["severity"]).median()
    assert med["high"] < med["medium"] < med["low"]


@needs_data
def test_survey_structure(data):
    s = data["survey"]
    waves = sorted(s["wave"].unique())
    assert waves == ["2024-12", "2025-03", "2025-06", "2025-09", "2025-12", "2026-03", "2026-06", "2026-09"]
    per = s.groupby(["wave", "branch"]).size()
    assert len(per) == 96 and 35 < per.mean() < 65
    assert set(s.loc[s["wave"] == "2024-12", "instrument"]) == {"v1"}
    assert set(s.loc[s["wave"] != "2024-12", "instrument"]) == {"v2"}
    ad = [f"{p}{i}" for p in "AD" for i in range(1, 23)]
    late = s["wave"].isin(["2026-06", "2026-09"])
    assert s.loc[~late, ad].isna().all().all() and s.loc[late, ad].notna().mean().mean() > 0.95
    ep = s[[f"{p}{i}" for p in "EP" for i in range(1, 23)]]
    assert 0.02 < ep.isna().mean().mean() < 0.045                       # ~3 % missing answers
    imp = s[[c for c in s.columns if c.startswith("I_")]]
    total = imp.sum(axis=1, min_count=5)
    off = total.notna() & ((total - 100).abs() > 0.5)
    assert 0.03 < off.mean() < 0.10 and total.isna().mean() < 0.05
    r = s["recommend"].dropna().astype(float)
    nps = 100 * ((r >= 9).mean() - (r <= 6).mean())
    assert -10 < nps < 50


@needs_data
def test_audits_and_incidents_structure(data):
    a, ck, inc = data["audit_visits"], data["checklist"], data["incidents"]
    assert 30 <= len(ck) <= 40 and ck["section"].nunique() == 6
    assert 1 <= ck["critical"].sum() <= 5 and ck["na_allowed"].sum() >= 3
    visits = a.drop_duplicates("visit_id")
    assert (visits.groupby(["branch", "period"])["assessor_body"].apply(sorted).map(tuple)
            == ("city", "provincial")).all()
    assert len(visits) == 12 * 24 * 2
    assert visits.groupby("assessor_body")["assessor_id"].nunique().between(3, 4).all()
    m = a.merge(ck, on="item_id")
    assert (m["score"].dropna() <= m.loc[m["score"].notna(), "max_score"]).all()
    assert m.loc[m["score"].isna(), "na_allowed"].all()        # N/A only where allowed
    crit = m[m["critical"]]
    knocked_out = crit.groupby("visit_id")["score"].min().eq(0)
    assert 0.01 < knocked_out.mean() < 0.10               # knock-out items fail on a few visits
    assert set(inc.loc[inc["type"].isin(["late_report", "untrue_report"]), "deduction"]) == {0.5}
    assert inc["veto"].sum() == 1
    assert inc.loc[inc["veto"], ["branch", "period"]].values.tolist() == [["B10", "2026-02"]]


# ------------------------------------------------------------------------------------------- planted effects
@needs_data
def test_b07_wait_shifts_up_from_2026_04(data):
    h = data["hotline"]
    after = h["ts"] >= "2026-04-01"
    ratio = h[after].groupby("branch")["wait_s"].mean() / h[~after].groupby("branch")["wait_s"].mean()
    assert 1.30 < ratio["B07"] < 1.60
    assert ratio.drop("B07").between(0.9, 1.1).all()
    b07 = h[h["branch"] == "B07"]
    daily = b07.groupby(b07["ts"].dt.date)["wait_s"].mean()
    before, later = daily[daily.index < pd.Timestamp("2026-04-01").date()], daily[
        daily.index >= pd.Timestamp("2026-04-01").date()]
    assert stats.ttest_ind(later, before, equal_var=False).pvalue < 1e-10
    # the shift starts in April, not earlier: March looks like the baseline
    monthly = b07.groupby(b07["ts"].dt.strftime("%Y-%m"))["wait_s"].mean()
    assert monthly["2026-03"] < monthly[:"2026-02"].mean() * 1.15 < monthly["2026-04"]


@needs_data
def test_billing_complaints_surge_from_2026_08(data):
    c = data["complaints"]
    month = c["opened_at"].dt.strftime("%Y-%m")
    billing = (c["category"] == "billing").groupby(month).sum()
    base = billing[:"2026-07"].mean()
    assert (billing["2026-08":] > 2.0 * base).all()
    assert (billing[:"2026-07"] < 1.5 * base).all()
    late = month >= "2026-08"
    assert c.loc[late, "category"].value_counts().idxmax() == "billing"
    assert c.loc[~late, "category"].value_counts().idxmax() != "billing"


@needs_data
def test_city_body_is_lenient_by_about_5_points(data):
    vs = demo.visit_scores(data["audit_visits"], data["checklist"])
    wide = vs.pivot_table(index=["branch", "period"], columns="assessor_body", values="score")
    diff = wide["city"] - wide["provincial"]
    assert 3.5 < diff.mean() < 6.5
    assert stats.ttest_1samp(diff, 0).pvalue < 1e-10
    # item-level bias: the city body gives the higher mean on most items
    a = data["audit_visits"]
    item = a.pivot_table(index="item_id", columns="assessor_body", values="score")
    assert (item["city"] > item["provincial"]).mean() > 0.8


@needs_data
def test_item_20_is_the_weakest_item(data):
    s = data["survey"]
    v2 = s[s["instrument"] == "v2"]
    for comp in "EP":
        citc = demo.corrected_item_total(v2, comp, range(1, 23))
        assert citc.idxmin() == 20 and citc[20] < 0.35 and citc.drop(20).min() > 0.45
        # independent check with plain pandas: item 20 vs the rest of its dimension
        emp = v2[[f"{comp}{i}" for i in DIMENSION_ITEMS["empathy"]]].astype(float).dropna()
        rest = emp.drop(columns=f"{comp}20").sum(axis=1)
        assert emp[f"{comp}20"].corr(rest) < 0.35


def _alpha(x: pd.DataFrame) -> float:
    x = x.astype(float).dropna()
    k = x.shape[1]
    return k / (k - 1) * (1 - x.var(ddof=1).sum() / x.sum(axis=1).var(ddof=1))


@needs_data
def test_survey_behaves_like_real_data(data):
    s = data["survey"]
    v2 = s[s["instrument"] == "v2"]
    for comp in "EP":
        alphas = {d: _alpha(v2[[f"{comp}{i}" for i in its]]) for d, its in DIMENSION_ITEMS.items()}
        assert all(0.75 < a < 0.93 for a in alphas.values()), (comp, alphas)
    E = v2[[f"E{i}" for i in range(1, 23)]].astype(float)
    P = v2[[f"P{i}" for i in range(1, 23)]].astype(float)
    assert (E == 7).mean().mean() > 0.25                 # expectation ceiling
    assert E.mean().mean() > P.mean().mean() + 0.5
    gaps = {d: (P[[f"P{i}" for i in its]].to_numpy() - E[[f"E{i}" for i in its]].to_numpy()).mean(axis=1)
            for d, its in DIMENSION_ITEMS.items()}
    mean_gap = {d: np.nanmean(g) for d, g in gaps.items()}
    assert min(mean_gap, key=mean_gap.get) == "reliability"
    imp = s[[f"I_{d}" for d in DIMENSION_ITEMS]].mean()
    assert imp.idxmax() == "I_reliability"
    # moderate expectation-perception link at the dimension level
    for d, its in DIMENSION_ITEMS.items():
        r = P[[f"P{i}" for i in its]].mean(axis=1).corr(E[[f"E{i}" for i in its]].mean(axis=1))
        assert 0.15 < r < 0.5, (d, r)


@needs_data
def test_v1_items_11_and_20_are_reverse_keyed(data):
    s = data["survey"]
    v1 = s[s["instrument"] == "v1"]
    resp = v1[[f"P{i}" for i in DIMENSION_ITEMS["responsiveness"]]].astype(float).dropna()
    raw = resp["P11"].corr(resp.drop(columns="P11").sum(axis=1))
    recoded = (8 - resp["P11"]).corr(resp.drop(columns="P11").sum(axis=1))
    assert raw < -0.3 and recoded > 0.3
    inst = pd.read_csv(DATASETS / INSTRUMENT_FILES["v1"])
    assert sorted(inst.loc[inst["reverse_keyed"], "item"]) == [11, 20]
    v2 = pd.read_csv(DATASETS / INSTRUMENT_FILES["v2"])
    assert not v2["reverse_keyed"].any() and len(v2) == 22
    changed = inst["text_en"] != v2["text_en"]
    assert sorted(inst.loc[changed, "item"]) == [11, 20]


@needs_data
def test_zone_of_tolerance_has_a_few_inconsistent_answers(data):
    s = data["survey"]
    late = s[s["wave"].isin(["2026-06", "2026-09"])]
    A = late[[f"A{i}" for i in range(1, 23)]].to_numpy(float)
    D = late[[f"D{i}" for i in range(1, 23)]].to_numpy(float)
    both = ~np.isnan(A) & ~np.isnan(D)
    share = (D < A)[both].mean()
    assert 0.005 < share < 0.05
    assert np.nanmean(D - A) > 1.0


@needs_data
def test_b04_fcr_step_from_2025_09(data):
    h = data["hotline"]
    h = h[h["answered"]]
    after = h["ts"] >= "2025-09-01"
    fcr = h.groupby([h["branch"], after])["resolved_first_contact"].mean().unstack()
    step = fcr[True] - fcr[False]
    assert step["B04"] > 0.08
    assert step.drop("B04").abs().max() < 0.03


@needs_data
def test_b11_is_worst_on_audits(data):
    vs = demo.visit_scores(data["audit_visits"], data["checklist"])
    by_branch = vs.groupby("branch")["score"].mean().sort_values()
    assert by_branch.index[0] == "B11"
    assert by_branch.iloc[1] - by_branch.iloc[0] > 4
    assert data["incidents"].groupby("branch")["deduction"].sum().idxmax() == "B11"


# ------------------------------------------------------------------------------------------- parameters
@pytest.mark.parametrize("kwargs", [{"scale": 0}, {"scale": -1.0}, {"scale": float("nan")},
                                    {"end_period": "2026-13"}, {"end_period": "Oct 2026x"}, {"n_periods": 3},
                                    {"tables": ["hotlines"]}, {"months": ["2020-01"]}, {"months": ["26-10"]},
                                    {"seed": -5}])
def test_bad_parameters_raise(tmp_path, kwargs):
    with pytest.raises(ParameterError):
        demo.generate(tmp_path, **{"tables": ["branches"], **kwargs})


def test_cli(tmp_path, capsys):
    assert demo.main(["--out", str(tmp_path), "--tables", "branches", "targets", "--quiet"]) == 0
    assert "wrote" in capsys.readouterr().out
    assert (tmp_path / "branches.csv").exists() and (tmp_path / "targets.csv").exists()
    assert demo.main(["--out", str(tmp_path), "--scale", "0", "--quiet"]) == 2


@needs_data
def test_readme_documents_the_planted_effects_and_layout():
    text = (DATASETS / "README.md").read_text(encoding="utf-8")
    for effect in demo.PLANTED_EFFECTS:
        assert effect["effect"] in text
    for needle in ("2026-04", "2026-08", "city", "item 20", "python -m sqc.demo --out datasets", "--scale 10",
                   "hotline/YYYY-MM.parquet"):
        assert needle in text
    # the row counts in the README are those of the files
    h = sum(len(pd.read_parquet(f, columns=["contact_id"])) for f in (DATASETS / "hotline").glob("*.parquet"))
    assert f"| {h:,} |" in text


@pytest.mark.parametrize("seed,end_period,n_periods", [(1, "2025-06", 24), (987654, "2027-03", 30)])
def test_other_seeds_and_windows_validate(tmp_path, seed, end_period, n_periods):
    """Any seed and window gives valid tables; effects dated outside the window simply do not appear."""
    last = pd.Period(end_period, freq="M")
    counts = demo.generate(tmp_path, seed=seed, end_period=end_period, n_periods=n_periods,
                           months=[str(last)], readme=True)
    for name in TABLE_FILES:
        out, _ = validate(read(tmp_path, name), SCHEMAS[name], extra_columns="raise")
        assert len(out) == counts[name]
    assert read(tmp_path, "volumes")["period"].nunique() == n_periods
    survey = read(tmp_path, "survey")
    assert survey["wave"].nunique() == 8 and survey["wave"].max() <= end_period
    assert (survey["instrument"] == "v1").sum() == (survey["wave"] == survey["wave"].min()).sum()
    inc = read(tmp_path, "incidents")
    in_window = pd.Period("2026-02", freq="M") <= last and last - n_periods < pd.Period("2026-02", freq="M")
    assert inc["veto"].sum() == int(in_window)
    assert "## Planted effects" in (tmp_path / "README.md").read_text(encoding="utf-8")

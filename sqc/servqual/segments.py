"""Segment comparisons, shrunken branch means, branch × dimension heat map and wave-over-wave trends
(Methods §1.7, §0.3).

The unit of analysis is the respondent-level dimension score from :func:`sqc.servqual.score` (gap ``G_rd``,
perception ``SP_rd`` for SERVPERF, or expectation ``E_rd``). Segments (branches, customer types, waves) hold
*different* respondents, so these are independent-sample comparisons:

* Welch one-way ANOVA (Welch 1951; ``pingouin.welch_anova``) with ω², post hoc Games–Howell
  (``pingouin.pairwise_gameshowell``);
* Kruskal–Wallis H with tie correction (``scipy.stats.kruskal``), ε² = H·(n+1)/(n²−1), post hoc Dunn (1964)
  z-tests on mean ranks with the tie-corrected variance, Holm within each dimension;
* omnibus p-values Holm-adjusted across the dimensions (family "d dimensions × segments").

Small cells (n < ``min_n``, default 30) are suppressed: shown as "insufficient data", left out of the tests.
Warning codes: W-SQ-08 (expectations differ across segments — a segment can look better only because its
customers expect less), W-SQ-09 (small cells suppressed; few segments for shrinkage).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..diagnostics import QualityWarning
from ..errors import DataError, InsufficientDataError, ParameterError
from ..inference import _check_confidence, adjust_pvalues
from ..results import ResultData, row_lines

MEASURES = {"gap": "G_", "perception": "SP_", "expectation": "E_"}
OVERALL = {"gap": "SQ", "perception": "SP", "expectation": None}


def _columns(result, measure: str, dimensions) -> dict[str, str]:
    if measure not in MEASURES:
        raise ParameterError(f"measure must be one of {list(MEASURES)}, got {measure!r}")
    dims = result.dimensions if dimensions is None else list(dimensions)
    unknown = [d for d in dims if d not in result.dimensions and d != "overall"]
    if unknown:
        raise ParameterError(f"unknown dimension(s) {unknown}; dimensions are {result.dimensions} (+ 'overall')")
    cols = {d: f"{MEASURES[measure]}{d}" for d in dims if d != "overall"}
    if (dimensions is None or "overall" in dims) and OVERALL[measure]:
        cols["overall"] = OVERALL[measure]
    return cols


def _group_frame(result, by: str) -> pd.Series:
    resp = result.respondents
    if by not in resp.columns:
        raise DataError("grouping column not found in the responses", column=by,
                        expected=f"one of the non-item columns {list(resp.columns[:8])}...")
    return resp[by]


def _t_ci(mean, sd, n, confidence):
    from scipy import stats

    with np.errstate(invalid="ignore", divide="ignore"):
        se = sd / np.sqrt(n)
        q = stats.t.ppf(0.5 + confidence / 2, np.where(n > 1, n - 1, np.nan))
    return mean - q * se, mean + q * se


def group_summary(result, by: str, *, measure: str = "gap", dimensions=None, min_n: int = 30,
                  confidence: float = 0.95) -> pd.DataFrame:
    """Mean, t CI and n of each segment × dimension; ``suppressed`` (and NaN mean/CI) when n < ``min_n``."""
    confidence = _check_confidence(confidence)
    cols = _columns(result, measure, dimensions)
    g = _group_frame(result, by)
    rows = []
    for dim, col in cols.items():
        x = result.respondents[col]
        agg = x.groupby(g, observed=True).agg(["count", "mean", "std"])
        lo, hi = _t_ci(agg["mean"].to_numpy(), agg["std"].to_numpy(), agg["count"].to_numpy(), confidence)
        for (seg, r), l, h in zip(agg.iterrows(), lo, hi):
            sup = r["count"] < min_n
            rows.append({"dimension": dim, "segment": seg, "n": int(r["count"]),
                         "mean": np.nan if sup else r["mean"], "ci_low": np.nan if sup else l,
                         "ci_high": np.nan if sup else h, "sd": np.nan if sup else r["std"], "suppressed": bool(sup)})
    return pd.DataFrame(rows)


def _dunn(values: np.ndarray, groups: np.ndarray, adjust: str) -> pd.DataFrame:
    """Dunn (1964) pairwise z-tests on mean ranks with the tie correction, ``adjust`` within the family."""
    from scipy import stats

    ranks = stats.rankdata(values)
    n = values.size
    _, t = np.unique(values, return_counts=True)
    tie = (t ** 3 - t).sum() / (12 * (n - 1))
    labels = list(pd.unique(groups))
    rbar = {g: ranks[groups == g].mean() for g in labels}
    ng = {g: int((groups == g).sum()) for g in labels}
    rows = []
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            se = np.sqrt((n * (n + 1) / 12 - tie) * (1 / ng[a] + 1 / ng[b]))
            z = (rbar[a] - rbar[b]) / se
            rows.append({"A": a, "B": b, "z": z, "p_dunn": 2 * stats.norm.sf(abs(z))})
    out = pd.DataFrame(rows)
    if len(out):
        out["p_dunn_adj"] = adjust_pvalues(out["p_dunn"].to_numpy(), adjust)
    return out


@dataclass
class SegmentComparison(ResultData):
    """Result of :func:`compare_segments`.

    Attributes
    ----------
    groups : DataFrame
        dimension, segment, n, mean, ci_low, ci_high, sd, suppressed.
    tests : DataFrame
        Per dimension: ``welch_F, df1, df2, welch_p, welch_p_adj, omega2, kw_H, kw_p, kw_p_adj, epsilon2,
        n_segments, n``.
    posthoc : DataFrame
        Per dimension and pair: ``diff`` (A − B), ``ci_low, ci_high`` (simultaneous Welch–Bonferroni intervals over
        the pairs), Games–Howell ``p_gh`` (pingouin), Dunn ``z, p_dunn, p_dunn_adj`` (Holm within the dimension).
    """

    by: str
    measure: str
    groups: pd.DataFrame
    tests: pd.DataFrame
    posthoc: pd.DataFrame
    min_n: int

    def _summary_lines(self, lang: str = "en") -> list[str]:
        return row_lines(
            f"{self.measure} by {self.by} (Welch ANOVA + Games–Howell; Kruskal–Wallis + Dunn; cells with "
            f"n < {self.min_n} suppressed)", self.tests,
            lambda d, r: f"{d:<16} Welch F({r['df1']:.0f}, {r['df2']:.1f}) = {r['welch_F']:.2f}, p_adj = "
            f"{r['welch_p_adj']:.3g}, ω² = {r['omega2']:.3f}; KW H = {r['kw_H']:.2f}, p_adj = "
            f"{r['kw_p_adj']:.3g}; {int(r['n_segments'])} segments, n = {int(r['n'])}")


def compare_segments(result, by: str, *, measure: str = "gap", dimensions=None, min_n: int = 30,
                     confidence: float = 0.95, adjust: str = "holm", posthoc: bool = True,
                     check_expectations: bool = True) -> SegmentComparison:
    """Compare segments (branches, customer types, waves) on each dimension.

    Parameters
    ----------
    result : ServqualResult
    by : str
        Grouping column kept in ``result.respondents`` (e.g. ``"branch"``, ``"segment"``, ``"wave"``).
    measure : {"gap", "perception", "expectation"}
    min_n : int
        Small-cell suppression threshold (segments below it are shown as insufficient and left out of tests).
    check_expectations : bool
        For ``measure="gap"``, also test the expectations across segments and warn (W-SQ-08) when they differ
        (Welch p_adj < 0.05).

    Examples
    --------
    >>> cmp = compare_segments(res, "branch")          # doctest: +SKIP
    >>> cmp.tests[["welch_F", "welch_p_adj", "omega2"]]  # doctest: +SKIP
    """
    import pingouin as pg
    from scipy import stats

    confidence = _check_confidence(confidence)
    cols = _columns(result, measure, dimensions)
    g = _group_frame(result, by)
    groups = group_summary(result, by, measure=measure, dimensions=dimensions, min_n=min_n, confidence=confidence)
    warns: list[QualityWarning] = []
    sup = groups[groups["suppressed"]]
    if len(sup):
        warns.append(QualityWarning(
            "W-SQ-09", "info", f"{sup['segment'].nunique()} {by} value(s) with fewer than {min_n} respondents shown as "
            f"'insufficient data' and left out of the tests: {sorted(map(str, sup['segment'].unique()))[:12]}",
            {"min_n": min_n, "suppressed": sup.groupby("dimension")["segment"].apply(list).to_dict()}, subject=by,
            message_zh=f"{sup['segment'].nunique()}个{by}样本少于{min_n}，显示为“数据不足”且未参与检验"))
    test_rows, post_rows = [], []
    for dim, col in cols.items():
        df = pd.DataFrame({"y": result.respondents[col], "g": g}).dropna()
        keep = groups[(groups["dimension"] == dim) & ~groups["suppressed"]]["segment"]
        df = df[df["g"].isin(set(keep))]
        df["g"] = df["g"].astype(str)
        k, n = df["g"].nunique(), len(df)
        row = {"dimension": dim, "n_segments": k, "n": n}
        if k < 2:
            test_rows.append(row)
            continue
        gstat = df.groupby("g")["y"].agg(["count", "var"])
        welch_ok = bool((gstat["count"] >= 2).all() and (gstat["var"] > 0).all())
        if welch_ok:  # Welch weights n/s² are undefined for a constant group
            w = pg.welch_anova(data=df, dv="y", between="g")
            row.update(welch_F=float(w["F"].iloc[0]), df1=float(w["ddof1"].iloc[0]),
                       df2=float(w["ddof2"].iloc[0]),
                       welch_p=float(w["p_unc"].iloc[0] if "p_unc" in w else w["p-unc"].iloc[0]))
        # ω² from the classical decomposition (effect size; the test itself is Welch's)
        grand = df["y"].mean()
        st = df.groupby("g")["y"].agg(["count", "mean", "var"])
        ssb = (st["count"] * (st["mean"] - grand) ** 2).sum()
        ssw = ((st["count"] - 1) * st["var"]).sum()
        msw = ssw / (n - k)
        denom = ssb + ssw + msw
        row["omega2"] = float(max((ssb - (k - 1) * msw) / denom, 0.0)) if denom > 0 else np.nan
        samples = [grp["y"].to_numpy() for _, grp in df.groupby("g")]
        if df["y"].nunique() > 1:
            h = stats.kruskal(*samples)
            row.update(kw_H=float(h.statistic), kw_p=float(h.pvalue),
                       epsilon2=float(h.statistic * (n + 1) / (n ** 2 - 1)))
        test_rows.append(row)
        if posthoc and welch_ok:
            gh = pg.pairwise_gameshowell(data=df, dv="y", between="g")
            gh = gh.rename(columns={"pval": "p_gh", "diff": "diff"})
            pcol = "p_gh" if "p_gh" in gh.columns else ("pval" if "pval" in gh.columns else "p-tukey")
            gh = gh.rename(columns={pcol: "p_gh"})
            # simultaneous CIs: Welch SE and df with a Bonferroni split over the m = k(k−1)/2 pairs (conservative
            # next to Games–Howell's studentized range, whose ppf is far too slow in scipy for a dashboard)
            m_pairs = k * (k - 1) / 2
            qc = stats.t.ppf(1 - (1 - confidence) / (2 * m_pairs), gh["df"].to_numpy())
            gh["ci_low"] = gh["diff"] - qc * gh["se"]
            gh["ci_high"] = gh["diff"] + qc * gh["se"]
            dn = _dunn(df["y"].to_numpy(), df["g"].to_numpy(), adjust)
            key = lambda a, b: tuple(sorted((str(a), str(b))))  # noqa: E731
            dmap = {key(r.A, r.B): (r.z if str(r.A) <= str(r.B) else -r.z, r.p_dunn, r.p_dunn_adj)
                    for r in dn.itertuples()} if len(dn) else {}
            for r in gh.itertuples():
                z, pd_, pda = dmap.get(key(r.A, r.B), (np.nan, np.nan, np.nan))
                post_rows.append({"dimension": dim, "A": r.A, "B": r.B, "diff": r.diff, "ci_low": r.ci_low,
                                  "ci_high": r.ci_high, "p_gh": r.p_gh, "z_dunn": z, "p_dunn": pd_,
                                  "p_dunn_adj": pda})
    tests = pd.DataFrame(test_rows).set_index("dimension")
    for c in ("welch_F", "df1", "df2", "welch_p", "omega2", "kw_H", "kw_p", "epsilon2"):
        if c not in tests.columns:
            tests[c] = np.nan
    tests["welch_p_adj"] = adjust_pvalues(tests["welch_p"].to_numpy(), adjust)
    tests["kw_p_adj"] = adjust_pvalues(tests["kw_p"].to_numpy(), adjust)
    tests.attrs["family"] = f"{len(tests)} dimensions, {by} compared"
    posthoc_df = pd.DataFrame(post_rows, columns=["dimension", "A", "B", "diff", "ci_low", "ci_high", "p_gh",
                                                  "z_dunn", "p_dunn", "p_dunn_adj"])
    if measure == "gap" and check_expectations:
        e = compare_segments(result, by, measure="expectation", dimensions=[d for d in cols if d != "overall"],
                             min_n=min_n, confidence=confidence, adjust=adjust, posthoc=False,
                             check_expectations=False)
        differ = e.tests.index[e.tests["welch_p_adj"] < 0.05].tolist()
        if differ:
            warns.append(QualityWarning(
                "W-SQ-08", "warning", f"expectations differ across {by} for {differ} (Welch p_adj < 0.05): a "
                f"{by} can show a smaller gap only because its customers expect less - read P and E side by side",
                {"dimensions": differ, "welch_p_adj": e.tests.loc[differ, "welch_p_adj"].to_dict()}, subject=by,
                message_zh=f"不同{by}的顾客期望存在显著差异（{differ}）：差距较小可能只是因为期望较低，请并列查看P和E"))
    return SegmentComparison(by=by, measure=measure, groups=groups, tests=tests, posthoc=posthoc_df, min_n=min_n,
                             warnings=warns)


def shrunken_means(result, by: str = "branch", *, measure: str = "gap", dimension: str = "overall",
                   confidence: float = 0.95) -> pd.DataFrame:
    """Empirical-Bayes (shrunken) segment means from a one-way random-intercept model (Methods §1.7).

    Model ``y_rb = μ + u_b + e_r``, ``u_b ~ N(0, τ²)``, ``e_r ~ N(0, σ²)``. Variance components by the ANOVA
    (method-of-moments) estimator for unbalanced groups (Searle, Casella & McCulloch 1992 §3.6):
    ``σ̂² = MSW``, ``τ̂² = max(0, (MSB − MSW)/n₀)``, ``n₀ = (N − Σ n_b²/N)/(k − 1)``; then
    ``λ_b = τ̂²/(τ̂² + σ̂²/n_b)``, ``μ̂ = Σ w_b ȳ_b / Σ w_b`` with ``w_b = 1/(τ̂² + σ̂²/n_b)``,
    ``θ̂_b = μ̂ + λ_b (ȳ_b − μ̂)``, posterior SD ``√(λ_b σ̂²/n_b)`` (normal interval; it ignores the uncertainty in
    τ̂², so it is slightly narrow with few segments). ICC(1) = τ̂²/(τ̂² + σ̂²). Use θ̂ for ranking small branches.

    Returns
    -------
    DataFrame indexed by segment: ``n, mean, shrunken, ci_low, ci_high, lambda, rank`` (1 = best/largest);
    ``attrs`` holds ``tau2, sigma2, icc, mu``.
    """
    from scipy import stats

    confidence = _check_confidence(confidence)
    cols = _columns(result, measure, [dimension])
    col = cols[dimension]
    df = pd.DataFrame({"y": result.respondents[col], "g": _group_frame(result, by)}).dropna()
    st = df.groupby("g", observed=True)["y"].agg(["count", "mean", "var"])
    k, N = len(st), int(st["count"].sum())
    if k < 2 or N - k < 1:
        raise InsufficientDataError(f"shrinkage needs at least 2 {by} values with data", column=by,
                                    expected="≥ 2 groups and more respondents than groups")
    grand = df["y"].mean()
    msb = (st["count"] * (st["mean"] - grand) ** 2).sum() / (k - 1)
    msw = ((st["count"] - 1) * st["var"].fillna(0)).sum() / (N - k)
    n0 = (N - (st["count"] ** 2).sum() / N) / (k - 1)
    tau2 = max(0.0, (msb - msw) / n0)
    sigma2 = msw
    nb = st["count"].to_numpy(float)
    w = 1.0 / (tau2 + sigma2 / nb)
    mu = float((w * st["mean"]).sum() / w.sum())
    lam = tau2 / (tau2 + sigma2 / nb)
    theta = mu + lam * (st["mean"].to_numpy() - mu)
    psd = np.sqrt(lam * sigma2 / nb)
    z = stats.norm.ppf(0.5 + confidence / 2)
    out = pd.DataFrame({"n": st["count"].astype(int), "mean": st["mean"], "shrunken": theta,
                        "ci_low": theta - z * psd, "ci_high": theta + z * psd, "lambda": lam}, index=st.index)
    out["rank"] = out["shrunken"].rank(ascending=False, method="min").astype(int)
    out.index.name = by
    out.attrs.update(tau2=tau2, sigma2=sigma2, icc=tau2 / (tau2 + sigma2) if tau2 + sigma2 > 0 else np.nan, mu=mu,
                     dimension=dimension, measure=measure)
    return out


def segment_heatmap(result, by: str = "branch", *, measure: str = "gap", min_n: int = 30, confidence: float = 0.95,
                    adjust: str = "holm") -> pd.DataFrame:
    """Segment × dimension table for the heat map, with significance markers vs the company mean.

    For each dimension, each segment's respondents are compared with the company mean (all respondents, treated
    as fixed) by a one-sample t-test; p-values are ``adjust``-ed within the dimension (family "segments vs
    company"). ``marker`` is ``"above"``/``"below"`` when p_adj < 1 − confidence, else ``""``. Cells with
    n < ``min_n`` are suppressed (NaN, ``suppressed`` True).
    """
    from scipy import stats

    confidence = _check_confidence(confidence)
    groups = group_summary(result, by, measure=measure, min_n=min_n, confidence=confidence)
    cols = _columns(result, measure, None)
    company = {d: float(result.respondents[c].mean()) for d, c in cols.items()}
    groups["company_mean"] = groups["dimension"].map(company)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = (groups["mean"] - groups["company_mean"]) / (groups["sd"] / np.sqrt(groups["n"]))
        groups["diff_vs_company"] = groups["mean"] - groups["company_mean"]
        groups["p"] = 2 * stats.t.sf(np.abs(t), groups["n"] - 1)
    groups["p_adj"] = np.nan
    for d, idx in groups.groupby("dimension").groups.items():
        groups.loc[idx, "p_adj"] = adjust_pvalues(groups.loc[idx, "p"].to_numpy(), adjust)
    sig = groups["p_adj"] < (1 - confidence)
    groups["marker"] = np.where(sig & (groups["diff_vs_company"] > 0), "above",
                                np.where(sig & (groups["diff_vs_company"] < 0), "below", ""))
    return groups


def trend(result, by: str = "wave", *, measure: str = "gap", dimensions=None, min_n: int = 30,
          confidence: float = 0.95, adjust: str = "holm") -> dict[str, pd.DataFrame]:
    """Wave-over-wave trend of each dimension.

    Returns a dict with
    ``"waves"``: mean, t CI and n per wave × dimension (small cells suppressed);
    ``"change"``: latest wave minus the previous one per dimension, Welch CI and p (different respondents in
    each wave), ``p_adj`` within the dimensions (family "latest change");
    ``"slope"``: OLS slope per wave step over all waves (respondent level, HC3 robust SE), CI and p, ``p_adj``.
    Waves are ordered by their sorted labels (``YYYY-MM`` sorts chronologically).
    """
    import statsmodels.api as sm
    from scipy import stats

    confidence = _check_confidence(confidence)
    cols = _columns(result, measure, dimensions)
    waves_tab = group_summary(result, by, measure=measure, dimensions=dimensions, min_n=min_n,
                              confidence=confidence)
    g = _group_frame(result, by).astype(str)
    order = sorted(g.dropna().unique())
    pos = {w: i for i, w in enumerate(order)}
    ch_rows, sl_rows = [], []
    for dim, col in cols.items():
        y = result.respondents[col]
        if len(order) >= 2:
            a = y[g == order[-1]].dropna().to_numpy()
            b = y[g == order[-2]].dropna().to_numpy()
            row = {"dimension": dim, "latest": order[-1], "previous": order[-2], "n_latest": a.size,
                   "n_previous": b.size}
            if a.size >= 2 and b.size >= 2:
                va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
                se = np.sqrt(va + vb)
                dfw = (va + vb) ** 2 / (va ** 2 / (a.size - 1) + vb ** 2 / (b.size - 1)) if se > 0 else np.nan
                diff = a.mean() - b.mean()
                q = stats.t.ppf(0.5 + confidence / 2, dfw)
                row.update(diff=diff, ci_low=diff - q * se, ci_high=diff + q * se,
                           p=2 * stats.t.sf(abs(diff / se), dfw) if se > 0 else np.nan)
            ch_rows.append(row)
        ok = y.notna() & g.notna()
        if ok.sum() > 3 and g[ok].nunique() >= 2:
            x = g[ok].map(pos).to_numpy(float)
            fit = sm.OLS(y[ok].to_numpy(float), sm.add_constant(x)).fit(cov_type="HC3")
            lo, hi = fit.conf_int(alpha=1 - confidence)[1]
            sl_rows.append({"dimension": dim, "slope_per_wave": fit.params[1], "ci_low": lo, "ci_high": hi,
                            "p": fit.pvalues[1], "n": int(ok.sum()), "waves": int(g[ok].nunique())})
    change = pd.DataFrame(ch_rows)
    if len(change) and "p" in change:
        change["p_adj"] = adjust_pvalues(change["p"].to_numpy(), adjust)
    slope = pd.DataFrame(sl_rows)
    if len(slope):
        slope["p_adj"] = adjust_pvalues(slope["p"].to_numpy(), adjust)
    return {"waves": waves_tab, "change": change.set_index("dimension") if len(change) else change,
            "slope": slope.set_index("dimension") if len(slope) else slope, "order": order}

"""Run rules (signal tests), vectorised with cumulative sums over sliding windows - no Python loop over points.

Every rule flags the point that *completes* the pattern (the qcc convention), and the signal table reports the
window (first and last point of the pattern). Windows never span a stage boundary (each stage has its own centre
and limits). Zones use the per-point sigma of the plotted statistic, so stepped limits (variable n) are handled.

Rule names (``rules=`` of every chart)
--------------------------------------
==================  =====================================================================  ==================
name                pattern (default length)                                               aliases
==================  =====================================================================  ==================
nelson_1            1 point beyond the control limits                                      we_1, beyond_limits
nelson_2            9 points in a row on the same side of the centre line                  run
nelson_3            6 points in a row steadily increasing or decreasing                    trend
nelson_4            14 points in a row alternating up and down                             alternating
nelson_5            2 out of 3 points beyond 2σ on the same side                           we_2
nelson_6            4 out of 5 points beyond 1σ on the same side                           we_3
nelson_7            15 points in a row within 1σ (either side)                             stratification
nelson_8            8 points in a row beyond 1σ (either side), none within                 mixture
we_4                8 points in a row on the same side of the centre line                  run_8
==================  =====================================================================  ==================

Sets: ``"nelson"`` = nelson_1..8; ``"western_electric"`` = we_1..we_4; ``"default"`` = nelson_1 + run_8
(beyond limits and 8 on one side, as in Montgomery's recommended supplementary rule); ``None`` = no rules
(limits still drawn; nothing flagged). Lengths are configurable with ``rule_lengths={"nelson_2": 7}`` (for the
"k of m" rules give a tuple ``(k, m)``). More rules raise the false-alarm rate: with all eight Nelson tests the
in-control ARL of an I chart falls from ≈370 to roughly 90-100 points (Champ & Woodall 1987 give ≈91 for the
four WE rules) - use them for Phase I investigation rather than routine monitoring.

A point exactly on the centre line breaks a run (it is on neither side); a tie breaks a trend (qcc/Minitab).

Anhøj rules (run charts, Anhøj & Olesen 2014; qicharts2): points on the median are dropped; a signal if the
longest run on one side > round(log2(n)) + 3 or the number of crossings < qbinom(0.05, n − 1, 0.5), with n the
number of useful (non-median) points.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError

__all__ = ["RULES", "RULE_SETS", "resolve_rules", "evaluate_rules", "anhoej", "AnhoejResult", "explain"]


@dataclass(frozen=True)
class RuleSpec:
    name: str
    kind: str       # beyond | run | trend | alternate | k_of_m | within | beyond_both
    length: int     # window length (m)
    k: int = 0      # for k_of_m
    zone: float = 0.0


RULES = {
    "nelson_1": RuleSpec("nelson_1", "beyond", 1),
    "nelson_2": RuleSpec("nelson_2", "run", 9),
    "nelson_3": RuleSpec("nelson_3", "trend", 6),
    "nelson_4": RuleSpec("nelson_4", "alternate", 14),
    "nelson_5": RuleSpec("nelson_5", "k_of_m", 3, 2, 2.0),
    "nelson_6": RuleSpec("nelson_6", "k_of_m", 5, 4, 1.0),
    "nelson_7": RuleSpec("nelson_7", "within", 15, 0, 1.0),
    "nelson_8": RuleSpec("nelson_8", "beyond_both", 8, 0, 1.0),
    "we_1": RuleSpec("we_1", "beyond", 1),
    "we_2": RuleSpec("we_2", "k_of_m", 3, 2, 2.0),
    "we_3": RuleSpec("we_3", "k_of_m", 5, 4, 1.0),
    "we_4": RuleSpec("we_4", "run", 8),
    "run_8": RuleSpec("run_8", "run", 8),
}
ALIASES = {"beyond_limits": "nelson_1", "run": "nelson_2", "trend": "nelson_3", "alternating": "nelson_4",
           "stratification": "nelson_7", "mixture": "nelson_8"}
RULE_SETS = {
    "nelson": [f"nelson_{i}" for i in range(1, 9)],
    "western_electric": ["we_1", "we_2", "we_3", "we_4"],
    "default": ["nelson_1", "run_8"],
    "limits": ["nelson_1"],
}

_TEXT = {
    "beyond": ("point beyond the {side}control limit",
               "点超出{side_zh}控制限"),
    "run": ("{m} points in a row on the same side of the centre line ({where})",
            "连续{m}点位于中心线同一侧（{where_zh}）"),
    "trend": ("{m} points in a row steadily {dir}",
              "连续{m}点持续{dir_zh}"),
    "alternate": ("{m} points in a row alternating up and down",
                  "连续{m}点交替上下"),
    "k_of_m": ("{k} of {m} points beyond {z:g}σ on the same side ({where})",
               "{m}点中有{k}点位于同一侧{z:g}σ之外（{where_zh}）"),
    "within": ("{m} points in a row within 1σ of the centre line (less variation than the limits assume)",
               "连续{m}点位于中心线1σ以内（波动小于控制限的假设）"),
    "cusum": ("cumulative sum beyond the decision interval h ({where_cusum})",
              "累积和超出决策区间h（{where_cusum_zh}）"),
    "beyond_both": ("{m} points in a row more than 1σ from the centre line on either side (mixture)",
                    "连续{m}点距中心线超过1σ（分布混杂）"),
}


def resolve_rules(rules, rule_lengths: dict | None = None) -> list[RuleSpec]:
    """Turn the ``rules=`` argument into rule specs (validated; lengths overridden by ``rule_lengths``)."""
    if rules is None:
        names: list[str] = []
    elif isinstance(rules, str):
        if rules in RULE_SETS:
            names = list(RULE_SETS[rules])
        else:
            names = [rules]
    else:
        names = []
        for r in rules:
            if not isinstance(r, str):
                raise ParameterError(f"rule names must be strings, got {r!r}")
            names.extend(RULE_SETS.get(r, [r]))
    specs = []
    for n in names:
        key = ALIASES.get(n, n)
        if key not in RULES:
            raise ParameterError(f"unknown run rule {n!r}; use 'nelson', 'western_electric', 'default', None or "
                                 f"names from {sorted(RULES) + sorted(ALIASES)}")
        specs.append(RULES[key])
    lengths = dict(rule_lengths or {})
    out = []
    for s in specs:
        ov = lengths.get(s.name)
        if ov is not None:
            if s.kind == "k_of_m":
                if not (isinstance(ov, (tuple, list)) and len(ov) == 2 and 1 <= int(ov[0]) <= int(ov[1])):
                    raise ParameterError(f"rule_lengths[{s.name!r}] must be a (k, m) pair with 1 ≤ k ≤ m")
                s = RuleSpec(s.name, s.kind, int(ov[1]), int(ov[0]), s.zone)
            else:
                if int(ov) < 2 and s.kind != "beyond":
                    raise ParameterError(f"rule_lengths[{s.name!r}] must be ≥ 2")
                s = RuleSpec(s.name, s.kind, int(ov), s.k, s.zone)
        out.append(s)
    unknown = set(lengths) - {s.name for s in out}
    if unknown:
        raise ParameterError(f"rule_lengths names rules that are not selected: {sorted(unknown)}")
    # De-duplicate while keeping order (e.g. "nelson" + "we_1").
    seen, uniq = set(), []
    for s in out:
        if s.name not in seen:
            seen.add(s.name)
            uniq.append(s)
    return uniq


def _window_count(b: np.ndarray, m: int) -> np.ndarray:
    """Number of True in the window of length m ending at each point (0 for the first m−1 points)."""
    cs = np.cumsum(b, dtype=np.int32)
    out = np.zeros(b.shape[0], dtype=np.int32)
    if m <= b.shape[0]:
        out[m - 1:] = cs[m - 1:]
        out[m:] -= cs[:-m]
    return out


CHUNK = 1 << 16


def evaluate_rules(stat, center, sigma, lcl, ucl, specs, stage_start=None) -> dict[str, np.ndarray]:
    """Boolean flag array per rule (True at the point that completes the pattern).

    ``center``, ``sigma``, ``lcl``, ``ucl`` broadcast against ``stat``. NaN statistics never signal and break
    runs. ``stage_start`` marks the first point of each stage (windows do not span it). Long series are
    processed in blocks of 2**18 points overlapping by the longest window, which bounds the temporary memory.
    """
    x = np.asarray(stat, dtype=float)
    n = x.shape[0]
    if stage_start is None:
        stage_start = np.zeros(n, dtype=bool)
        if n:
            stage_start[0] = True
    if not specs:
        return {}
    if n <= CHUNK:
        return _evaluate_block(x, center, sigma, lcl, ucl, specs, stage_start)
    found: dict[str, list] = {s.name: [] for s in specs}
    ov = max(s.length for s in specs) + 1

    def cut(a, lo, hi):
        a = np.asarray(a)
        return a[lo:hi] if a.ndim and a.shape[0] == n else a

    for a in range(0, n, CHUNK):
        lo, hi = max(0, a - ov), min(n, a + CHUNK)
        st = stage_start[lo:hi].copy()
        st[0] = True
        part = _evaluate_block(x[lo:hi], cut(center, lo, hi), cut(sigma, lo, hi), cut(lcl, lo, hi),
                               cut(ucl, lo, hi), specs, st)
        for k, v in part.items():
            found[k].append(np.flatnonzero(v[a - lo:]) + a)
    return SparseFlags(n, {k: np.concatenate(v) if v else np.zeros(0, dtype=np.int64) for k, v in found.items()})


class SparseFlags(Mapping):
    """Rule flags of a long series kept as the positions of the flagged points (a few bytes per signal instead
    of one byte per point); indexing gives the usual boolean array, built on demand."""

    def __init__(self, n: int, positions: dict):
        self.n = n
        self.positions = positions

    def __getitem__(self, key):
        out = np.zeros(self.n, dtype=bool)
        out[self.positions[key]] = True
        return out

    def __iter__(self):
        return iter(self.positions)

    def __len__(self):
        return len(self.positions)


def _evaluate_block(x, center, sigma, lcl, ucl, specs, stage_start) -> dict[str, np.ndarray]:
    n = x.shape[0]
    flags: dict[str, np.ndarray] = {}
    idx = np.arange(n)
    single = not stage_start[1:].any()          # the usual case: one stage, nothing to guard
    first = 0 if single else np.maximum.accumulate(np.where(stage_start, idx, 0))

    def same(m):
        return True if single else (idx - (m - 1)) >= first

    def window_in_stage(b, m):
        cs = np.concatenate(([0], np.cumsum(b, dtype=np.int32)))
        return cs[idx + 1] - cs[np.maximum(idx - m + 1, first)]

    with np.errstate(invalid="ignore"):
        d = x - center
        up = d > 0
        down = d < 0
        need_z = any(s.kind in ("k_of_m", "within", "beyond_both") for s in specs)
        z = d / sigma if need_z else None
        dx = None
        if any(s.kind in ("trend", "alternate") for s in specs):
            dx = np.empty(n)
            dx[0] = np.nan
            np.subtract(x[1:], x[:-1], out=dx[1:])
            dx[stage_start] = np.nan
    for s in specs:
        m = s.length
        with np.errstate(invalid="ignore"):
            if s.kind == "beyond":
                f = (x > ucl) | (x < lcl)
            elif s.kind == "run":
                f = (_window_count(up, m) == m) | (_window_count(down, m) == m)
                f &= same(m)
            elif s.kind == "trend":
                # m points steadily rising = m−1 consecutive positive differences inside one stage
                f = (_window_count(dx > 0, m - 1) == m - 1) | (_window_count(dx < 0, m - 1) == m - 1)
                f &= same(m)
            elif s.kind == "alternate":
                sg = np.sign(dx)
                alt = np.zeros(n, dtype=bool)
                if n > 1:
                    alt[1:] = (sg[1:] * sg[:-1]) < 0
                # m points alternate ⇔ m−1 differences, each of opposite sign to its predecessor (m−2 pairs)
                f = _window_count(alt, m - 2) == m - 2
                f &= same(m)
            elif s.kind == "k_of_m":
                hi = z > s.zone
                lo = z < -s.zone
                # the completing point itself must be beyond the zone (the Western Electric reading); windows
                # are truncated at the start of the series/stage (2 of the first 2 points count as 2 of 3)
                f = ((window_in_stage(hi, m) >= s.k) & hi) | ((window_in_stage(lo, m) >= s.k) & lo)
            elif s.kind == "within":
                f = (_window_count(np.abs(z) < s.zone, m) == m) & same(m)
            elif s.kind == "beyond_both":
                f = (_window_count(np.abs(z) > s.zone, m) == m) & same(m)
            else:  # pragma: no cover - specs come from RULES
                raise ParameterError(f"unknown rule kind {s.kind}")
        flags[s.name] = np.broadcast_to(np.asarray(f, dtype=bool), (n,)).copy() if np.ndim(f) == 0 else \
            np.asarray(f, dtype=bool)
    return flags


def explain(spec: RuleSpec, side: str, direction: str = "") -> tuple[str, str]:
    """Plain-language explanation (en, zh) of one rule; ``side`` is "above"/"below"/"" and ``direction``
    "increasing"/"decreasing" for trends."""
    en, zh = _TEXT[spec.kind]
    side_zh = {"above": "上", "below": "下"}.get(side, "")
    where = {"above": "above the centre line", "below": "below the centre line"}.get(side, "")
    where_zh = {"above": "高于中心线", "below": "低于中心线"}.get(side, "")
    fmt = dict(m=spec.length, k=spec.k, z=spec.zone, side=("upper " if side == "above" else
                                                            "lower " if side == "below" else ""),
               side_zh=side_zh, where=where or "one side", where_zh=where_zh or "同侧",
               where_cusum={"above": "upward shift", "below": "downward shift"}.get(side, "shift"),
               where_cusum_zh={"above": "向上偏移", "below": "向下偏移"}.get(side, "偏移"),
               dir=direction or "changing", dir_zh={"increasing": "上升", "decreasing": "下降"}.get(direction, "变化"))
    return en.format(**fmt), zh.format(**fmt)


@dataclass(frozen=True)
class AnhoejResult:
    """Anhøj run-chart analysis (qicharts2 ``runs.analysis`` conventions)."""

    n_useful: int
    longest_run: int
    longest_run_max: int
    n_crossings: int
    n_crossings_min: int
    runs_signal: bool

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def anhoej(values, center=None) -> AnhoejResult:
    """Anhøj rules for a run chart: unusually long runs or unusually few crossings of the centre (median).

    longest_run_max = round(log2(n)) + 3; n_crossings_min = qbinom(0.05, n − 1, 0.5), where n counts the points
    not on the centre line (Anhøj & Olesen 2014; qicharts2 helper.functions.R). R's ``round`` rounds half to
    even, like numpy's.
    """
    from scipy import stats

    y = np.asarray(values, dtype=float)
    y = y[~np.isnan(y)]
    cl = float(np.median(y)) if center is None else float(center)
    s = np.sign(y - cl)
    s = s[s != 0]
    n = int(s.size)
    if n == 0:
        return AnhoejResult(0, 0, 0, 0, 0, False)
    change = np.flatnonzero(np.diff(s) != 0)
    bounds = np.concatenate(([-1], change, [n - 1]))
    lengths = np.diff(bounds)
    longest = int(lengths.max())
    crossings = int(max(lengths.size - 1, 0))
    longest_max = int(np.round(np.log2(n)) + 3)
    crossings_min = int(stats.binom.ppf(0.05, max(n - 1, 0), 0.5))
    return AnhoejResult(n, longest, longest_max, crossings, crossings_min,
                        bool(longest > longest_max or crossings < crossings_min))

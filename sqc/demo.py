"""Seeded generator of the demo service network (the data in ``datasets/``).

A regional telecom operator with 12 walk-in service halls (branches) in 3 counties, a customer hotline, a
complaint register, quarterly SERVQUAL survey waves, monthly walk-through audits by two assessor bodies, incidents
with fixed point deductions, KPI targets and monthly volumes. Every table follows its schema in
:mod:`sqc.tables`; a handful of realistic effects are planted (see :data:`PLANTED_EFFECTS` and
``datasets/README.md``) so that the analyses have something real to find.

Reproducibility: every random draw comes from a generator keyed by ``(seed, table, month[, day])``
(``numpy.random.default_rng([seed, ...])``), so the same seed gives identical tables and any subset of tables or
hotline months can be regenerated on its own (``tables=``, ``months=``). ``scale`` multiplies the volumes (hotline
contacts, complaints, survey respondents, and with them walk-ins and active customers so that rates stay
realistic); the hotline is generated day by day and written month by month in bounded chunks, so ×100 runs in
bounded memory.

Examples
--------
>>> from sqc.demo import generate                                            # doctest: +SKIP
>>> counts = generate("/tmp/demo", scale=1.0)                                # doctest: +SKIP
>>> counts["hotline"]                                                        # doctest: +SKIP

Command line: ``python -m sqc.demo --out datasets`` (``--scale 10`` for benchmarks).
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import pandas as pd

from .errors import ParameterError
from .tables import (ASSESSOR_BODIES, BRANCHES, COMPLAINT_CATEGORIES, COMPLAINT_CHANNELS, DIMENSION_ITEMS,
                     DIMENSIONS, INSTRUMENT_FILES, N_ITEMS, OPTIONAL_TABLES, SCHEMAS, SEGMENTS, SEVERITIES, TABLE_FILES,
                     data_dictionary_markdown)

SEED = 20261031
ALL_TABLES = tuple(SCHEMAS)
PARQUET_OPTIONS = {"compression": "zstd", "compression_level": 9}
# Sorted ids and timestamps delta-encode to almost nothing (halves the hotline files).
HOTLINE_PARQUET_OPTIONS = {**PARQUET_OPTIONS, "use_dictionary": ["branch", "wait_s", "handle_s", "csat"],
                           "column_encoding": {"contact_id": "DELTA_BINARY_PACKED", "ts": "DELTA_BINARY_PACKED"}}
HOTLINE_CHUNK_ROWS = 1_000_000   # rows per Parquet row group when a month is large (bounded memory at ×100)

# Stream ids: each table draws from its own generator, so regenerating one table never shifts another.
_STREAM = {"volumes": 3, "hotline": 5, "complaints": 6, "survey": 7, "audit_visits": 8, "incidents": 9,
           "assessors": 10, "interventions": 11}

# ------------------------------------------------------------------------------------------------ network
_BRANCH_ROWS = [
    # branch, name_en, name_zh, county_en, county_zh
    ("B01", "Qingxi Central Hall", "青溪中心营业厅", "Qingxi County", "青溪县"),
    ("B02", "Qingxi Riverside Hall", "青溪滨江营业厅", "Qingxi County", "青溪县"),
    ("B03", "Qingxi Station Road Hall", "青溪车站路营业厅", "Qingxi County", "青溪县"),
    ("B04", "Qingxi Xinhua Street Hall", "青溪新华街营业厅", "Qingxi County", "青溪县"),
    ("B05", "Yunling Central Hall", "云岭中心营业厅", "Yunling County", "云岭县"),
    ("B06", "Yunling Tea Market Hall", "云岭茶市营业厅", "Yunling County", "云岭县"),
    ("B07", "Yunling Development Zone Hall", "云岭开发区营业厅", "Yunling County", "云岭县"),
    ("B08", "Yunling Shiqiao Town Hall", "云岭石桥镇营业厅", "Yunling County", "云岭县"),
    ("B09", "Hudong Central Hall", "湖东中心营业厅", "Hudong County", "湖东县"),
    ("B10", "Hudong Harbour Hall", "湖东港口营业厅", "Hudong County", "湖东县"),
    ("B11", "Hudong Lianhua Town Hall", "湖东莲花镇营业厅", "Hudong County", "湖东县"),
    ("B12", "Hudong University Town Hall", "湖东大学城营业厅", "Hudong County", "湖东县"),
]
_NB = len(BRANCHES)
# Branch characteristics (index i = branch B{i+1:02d}); hand-set so the network is plausible and stable.
_ACTIVE_K = np.array([68, 42, 35, 38, 55, 30, 47, 22, 60, 33, 20, 40], float)   # active customers, thousands
_WAIT_MULT = np.array([0.95, 1.00, 0.90, 1.05, 1.00, 0.85, 1.00, 1.10, 1.20, 0.95, 1.15, 0.90])
_HANDLE_MULT = np.array([1.00, 0.97, 1.02, 1.05, 0.98, 1.00, 1.03, 1.08, 1.00, 0.96, 1.10, 0.94])
_FCR_BASE = np.array([0.77, 0.76, 0.78, 0.68, 0.75, 0.79, 0.74, 0.72, 0.73, 0.77, 0.70, 0.78])
_COMPLAINT_MULT = np.array([0.95, 1.00, 0.90, 1.10, 1.00, 0.85, 1.05, 1.15, 1.10, 0.95, 1.35, 0.90])
_AUDIT_QUALITY = np.array([0.35, 0.15, 0.45, -0.10, 0.20, 0.50, 0.00, -0.25, 0.05, 0.30, -0.85, 0.15])  # logit
_SURVEY_P_OFFSET = np.array([0.10, 0.05, 0.15, -0.05, 0.05, 0.20, 0.00, -0.10, -0.05, 0.10, -0.35, 0.05])
_INCIDENT_RATE = np.array([0.20, 0.25, 0.15, 0.30, 0.25, 0.15, 0.30, 0.35, 0.30, 0.20, 0.70, 0.20])  # per month
_NO_PARKING = {"B03", "B12"}          # audit item EX04 always N/A there
_NO_TERMINALS = {"B08", "B11"}        # audit item HA04 always N/A there

# ------------------------------------------------------------------------------------------------ planted effects
B07_SHIFT_START = "2026-04"
B07_WAIT_FACTOR = 1.55
B07_WAITING_COMPLAINT_FACTOR = 1.5
BILLING_SURGE_START = "2026-08"
BILLING_SURGE_FACTOR = 2.5
B04_FCR_STEP_START = "2025-09"
B04_FCR_AFTER = 0.80
CITY_LENIENCY_LOGIT = 0.42            # item-level logit shift; gives about +5 points on a 0-100 visit score
WEAK_ITEM = 20
WEAK_ITEM_LOADING = 0.28
V1_REVERSED_ITEMS = (11, 20)
VETO_INCIDENT = ("B10", "2026-02-17")
# Interventions (table `interventions`): start month as an index into the demo's periods (so every window has
# them), the complaint category they act on and the true rate ratio. A fail-safe's effect is planted by thinning
# that category's complaints from the start on (each kept with probability = the ratio, from a stream of its own,
# so nothing else in the complaint register changes).
INTERVENTION_EFFECTS = {
    "INT-01": {"category": "installation", "rate_ratio": 0.60, "waves": {9: BRANCHES}},
    "INT-02": {"category": "product_info", "rate_ratio": 0.70,
               "waves": {6: ("B01", "B02", "B03"), 10: ("B05", "B06", "B09"), 14: ("B10", "B12")}},
    "INT-03": {"category": "staff_attitude", "rate_ratio": 1.00, "waves": {12: BRANCHES}},
}

PLANTED_EFFECTS = [
    {"effect": "B07 hotline waiting time shifts upward",
     "where": f"hotline, branch B07, contacts from {B07_SHIFT_START}-01 on",
     "size": f"potential wait x{B07_WAIT_FACTOR:.2f}: mean wait_s and ASA about +40 % (abandoned callers cap "
             f"the wait), abandonment up about 3 points",
     "found_by": "SPC on the daily/monthly mean or ASA of B07 (I-MR, X-bar, CUSUM/EWMA signal from 2026-04)"},
    {"effect": "billing complaints surge",
     "where": f"complaints, category 'billing', all branches, opened from {BILLING_SURGE_START}-01 on",
     "size": f"billing complaint rate x{BILLING_SURGE_FACTOR}",
     "found_by": "Pareto of categories (billing moves to first place), c/u chart of billing complaints"},
    {"effect": "city assessor body is lenient",
     "where": "audit_visits, assessor_body 'city', every item of every visit",
     "size": f"item-level logit +{CITY_LENIENCY_LOGIT} (about +5 points on the 0-100 visit score)",
     "found_by": "assessor agreement / Bland-Altman of city vs provincial visit scores (mean difference ~ +5)"},
    {"effect": "survey item 20 is weak",
     "where": "survey, E20 and P20 (empathy), all waves",
     "size": f"factor loading {WEAK_ITEM_LOADING} (others 0.72-0.87; expectations 0.76-0.88)",
     "found_by": "reliability: lowest corrected item-total correlation; alpha of empathy rises if item 20 is dropped"},
    {"effect": "B04 first-contact resolution improves after a process change",
     "where": f"hotline, branch B04, contacts from {B04_FCR_STEP_START}-01 on",
     "size": f"FCR {_FCR_BASE[3]:.2f} -> {B04_FCR_AFTER:.2f}",
     "found_by": "p chart of B04 FCR with a new stage from 2025-09"},
    {"effect": "B11 is truly the worst branch on audits",
     "where": f"audit_visits (branch quality logit {_AUDIT_QUALITY[10]:+.2f}, others "
              f"{np.delete(_AUDIT_QUALITY, 10).min():+.2f}..{np.delete(_AUDIT_QUALITY, 10).max():+.2f}), incidents "
              f"(highest incident rate), survey (lowest perceptions)",
     "size": "mean visit score about 14 points below the network mean (next lowest about 3-4 below)",
     "found_by": "branch ranking / funnel plot: B11 last with a rank interval that excludes the middle"},
    {"effect": "expectations near the ceiling",
     "where": "survey E1..E22",
     "size": "E means about 5.9-6.5 on 1-7, roughly a third to a half of answers at 7",
     "found_by": "SERVQUAL ceiling warning; gaps driven by P"},
    {"effect": "reliability has the largest gap (and the largest importance)",
     "where": "survey, items 5-9 and I_reliability",
     "size": "P-E gap about -1.1 vs -0.3..-0.85 for the other dimensions; mean allocation about 30 points",
     "found_by": "SERVQUAL dimension gaps and importance-weighted SERVQUAL"},
    {"effect": "B07 waiting-time complaints follow the hotline shift",
     "where": f"complaints, B07, category 'waiting_time', from {B07_SHIFT_START}",
     "size": f"rate x{B07_WAITING_COMPLAINT_FACTOR}",
     "found_by": "complaints by branch and category; links the hotline SPC signal to the complaint register"},
    {"effect": "instrument v1 reverse-keyed items",
     "where": "survey wave 2024-12 (instrument v1), items 11 and 20 (E and P)",
     "size": "raw answers are 8 - x; after recoding they behave like v2",
     "found_by": "item analysis: negative item-total correlation if the instrument file is ignored"},
    {"effect": "a veto incident",
     "where": f"incidents, branch {VETO_INCIDENT[0]}, {VETO_INCIDENT[1]}",
     "size": "veto = True (score set to the floor for that month)",
     "found_by": "audit scorecard: B10's final score for 2026-02 at the floor"},
    {"effect": "installation fail-safe works (INT-01)",
     "where": "interventions INT-01 (all branches, from the 10th month, 2025-08 in the committed data); complaints "
              "category 'installation'",
     "size": f"installation complaint rate x{INTERVENTION_EFFECTS['INT-01']['rate_ratio']:.2f} from the start",
     "found_by": "sqc.interventions.evaluate: interrupted time series of the network's installation complaints"},
    {"effect": "staggered roll-out of the tariff read-back card (INT-02)",
     "where": "interventions INT-02: B01-B03 from the 7th month, B05/B06/B09 from the 11th, B10/B12 from the 15th "
              "(2025-05, 2025-09, 2026-01); B04, B07, B08, B11 never; complaints category 'product_info'",
     "size": f"product-information complaint rate x{INTERVENTION_EFFECTS['INT-02']['rate_ratio']:.2f} in treated "
             f"branches from their start",
     "found_by": "sqc.interventions.staggered: difference-in-differences against not-yet-treated branches"},
    {"effect": "courtesy refresher training has no effect (INT-03)",
     "where": "interventions INT-03 (all branches, from the 13th month, 2025-11); complaints category "
              "'staff_attitude'",
     "size": "none (rate ratio 1)",
     "found_by": "sqc.interventions.evaluate: verdict 'no_evidence', never 'effective'"},
    {"effect": "data-quality traps",
     "where": "survey: ~3 % missing answers, ~6 % importance allocations not summing to 100 (2 % all missing), "
              "~2 % of A/D pairs with desired < adequate; complaints: open cases (censored) and reopened cases",
     "size": "as stated",
     "found_by": "validation warnings (W-SQ-01, W-SQ-02), Kaplan-Meier time to resolve"},
]

# Chinese public holidays used for volume dips (hotline volume falls, walk-ins fall).
_HOLIDAYS = [("2024-10-01", "2024-10-07"), ("2025-01-28", "2025-02-04"), ("2025-10-01", "2025-10-08"),
             ("2026-02-15", "2026-02-23"), ("2026-10-01", "2026-10-07")]

# Hotline hours 08:00-22:00: share of daily contacts per hour (two peaks, late morning and mid-afternoon).
_HOUR_WEIGHTS = np.array([3.0, 6.5, 9.5, 10.0, 8.0, 6.0, 7.5, 9.0, 8.5, 7.5, 6.5, 5.5, 4.5, 3.5])
_HOUR_P = _HOUR_WEIGHTS / _HOUR_WEIGHTS.sum()
_HOUR_LOAD = (_HOUR_WEIGHTS / _HOUR_WEIGHTS.mean()) ** 0.5      # busy hours wait longer
_DOW_FACTOR = np.array([1.18, 1.08, 1.03, 1.02, 1.05, 0.78, 0.66])   # Mon..Sun
_CONTACTS_PER_1000_ACTIVE = 6.2     # per day, before weekday/holiday factors (~2.8k contacts a day network-wide)


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), *[int(k) for k in key]])


def _month_key(period: pd.Period) -> int:
    return period.year * 100 + period.month


def _ids(prefix, numbers: np.ndarray, width: int) -> np.ndarray:
    """Vectorised ``prefix + zero-padded number`` ids (prefix a str or a per-row Series)."""
    return (prefix + pd.Series(numbers, dtype="int64").astype(str).str.zfill(width)).to_numpy(dtype=object)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class _Context:
    seed: int
    scale: float
    periods: pd.PeriodIndex
    cutoff: pd.Timestamp            # end of the last period (data cut-off)

    @property
    def waves(self) -> list[pd.Period]:
        return [p for p in self.periods if p.month % 3 == 0][-8:]


@dataclass
class _Stats:
    """Sufficient statistics gathered while writing, to document the planted effects with measured numbers."""

    acc: dict = field(default_factory=dict)

    def add(self, key: str, total: float, n: int):
        s, c = self.acc.get(key, (0.0, 0))
        self.acc[key] = (s + float(total), c + int(n))

    def mean(self, key: str) -> float:
        s, c = self.acc.get(key, (0.0, 0))
        return s / c if c else float("nan")


def _context(seed: int, scale: float, end_period: str, n_periods: int) -> _Context:
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f"seed must be a non-negative integer, got {seed!r}")
    if not np.isfinite(scale) or scale <= 0:
        raise ParameterError(f"scale must be a positive number (1 = the committed demo size), got {scale!r}")
    try:
        end = pd.Period(str(end_period), freq="M")
    except Exception:
        raise ParameterError(f"end_period must be a month written YYYY-MM, got {end_period!r}") from None
    if not isinstance(n_periods, (int, np.integer)) or n_periods < 12:
        raise ParameterError(f"n_periods must be an integer of at least 12 (8 quarterly survey waves need 24), "
                             f"got {n_periods!r}")
    periods = pd.period_range(end=end, periods=int(n_periods), freq="M")
    cutoff = end.end_time.floor("s")
    return _Context(int(seed), float(scale), periods, cutoff)


# ================================================================================================ small tables
def make_branches() -> pd.DataFrame:
    """The 12 branches with English and Chinese names and counties."""
    return pd.DataFrame(_BRANCH_ROWS, columns=["branch", "name_en", "name_zh", "county_en", "county_zh"])


def make_targets() -> pd.DataFrame:
    """KPI targets with their definitions (en/zh)."""
    rows = [
        ("service_level", 0.80, "higher_is_better", "proportion (0-1)",
         "Contacts answered within 20 s / contacts offered (abandoned contacts count as offered)",
         "20秒内接通的来话数 / 呼入来话总数（放弃呼叫计入总数）"),
        ("asa_s", 30.0, "lower_is_better", "s",
         "Average speed of answer: total wait of answered contacts / answered contacts",
         "平均应答速度：已接通来话的等待时长之和 / 接通数"),
        ("abandonment_rate", 0.06, "lower_is_better", "proportion (0-1)",
         "Contacts abandoned in queue / contacts offered", "排队中放弃的来话数 / 呼入来话总数"),
        ("aht_s", 330.0, "lower_is_better", "s",
         "Average handle time: (talk + hold + after-contact work) / handled contacts",
         "平均处理时长：（通话+保持+话后处理）/ 处理的来话数"),
        ("fcr_rate", 0.75, "higher_is_better", "proportion (0-1)",
         "Answered contacts resolved with no repeat contact within 7 days / answered contacts",
         "7天内无重复来电即解决的已接通来话 / 已接通来话数"),
        ("csat_mean", 4.2, "higher_is_better", "1-5 rating",
         "Mean post-contact satisfaction rating of surveyed contacts", "接受回访来话的满意度评分均值"),
        ("complaint_rate_per_1000", 1.2, "lower_is_better", "complaints per 1000 active customers per month",
         "Complaints opened in the month / active customers x 1000", "当月受理投诉数 / 在网客户数 x 1000"),
        ("audit_score", 85.0, "higher_is_better", "points (0-100)",
         "Monthly walk-through audit score: provincial and city visits weighted 50/50, after incident deductions",
         "月度营业厅暗访检查得分：省、市检查各占50%，扣除事件扣分后"),
        ("nps", 20.0, "higher_is_better", "NPS points (-100..100)",
         "Net Promoter Score: % promoters (9-10) - % detractors (0-6) on likelihood to recommend",
         "净推荐值：推荐意愿9-10分占比 - 0-6分占比"),
    ]
    return pd.DataFrame(rows, columns=["kpi", "target", "direction", "unit", "definition_en", "definition_zh"])


_CHECKLIST = [
    # item_id, section, text_en, text_zh, max_score, weight, critical, na_allowed
    ("EX01", "Exterior & signage", "Shop sign clean, undamaged and lit", "门头招牌整洁完好、亮灯正常", 1, 1, False, False),
    ("EX02", "Exterior & signage", "Opening hours displayed at the entrance", "入口处公示营业时间", 1, 1, False, False),
    ("EX03", "Exterior & signage", "Entrance free of obstacles and litter", "门前无杂物、无垃圾，通道畅通", 1, 1, False, False),
    ("EX04", "Exterior & signage", "Parking area in front of the hall orderly", "门前停车区域秩序良好", 1, 1, False, True),
    ("EX05", "Exterior & signage", "Posters show current offers only (nothing expired)", "宣传海报为最新内容，无过期活动", 2, 1,
     False, False),
    ("HA01", "Hall environment", "Floor, counters and seats clean", "地面、柜台、座椅干净整洁", 2, 2, False, False),
    ("HA02", "Hall environment", "Lighting and temperature comfortable", "照明和室内温度适宜", 1, 1, False, False),
    ("HA03", "Hall environment", "Tariffs and fees displayed in full", "资费标准公示齐全", 1, 2, True, False),
    ("HA04", "Hall environment", "Self-service terminals working", "自助终端运行正常", 1, 1, False, True),
    ("HA05", "Hall environment", "Demo handsets powered and working", "体验区演示机通电可用", 1, 1, False, True),
    ("HA06", "Hall environment", "Comment book or rating QR code available", "提供意见簿或评价二维码", 1, 1, False, False),
    ("QU01", "Queuing & waiting", "Customer greeted and directed within 1 minute of entering", "进门1分钟内有人迎接并分流引导",
     2, 2, False, False),
    ("QU02", "Queuing & waiting", "Queue ticket shows the number of people waiting", "取号单显示前面等候人数", 1, 1, False,
     False),
    ("QU03", "Queuing & waiting", "Waiting time to be served under 15 minutes", "等候办理时间不超过15分钟", 3, 3, False, False),
    ("QU04", "Queuing & waiting", "Enough seats in the waiting area", "等候区座位充足", 1, 1, False, False),
    ("QU05", "Queuing & waiting", "Priority service for older and disabled customers", "为老年和残障客户提供优先服务", 1, 1,
     False, True),
    ("QU06", "Queuing & waiting", "Number display and voice calls working", "叫号屏和语音叫号正常", 1, 1, False, False),
    ("ET01", "Greeting & etiquette", "Staff in uniform with name badge", "员工统一着装并佩戴工牌", 1, 1, False, False),
    ("ET02", "Greeting & etiquette", "Staff greets the customer first at the counter", "客户到柜台时员工主动问候", 1, 1, False,
     False),
    ("ET03", "Greeting & etiquette", "Staff makes eye contact and smiles", "员工目光交流、面带微笑", 2, 1, False, False),
    ("ET04", "Greeting & etiquette", "Polite language throughout", "全程使用文明礼貌用语", 2, 2, False, False),
    ("ET05", "Greeting & etiquette", "No personal phone use at the counter", "员工在柜台不使用个人手机", 1, 1, False, False),
    ("ET06", "Greeting & etiquette", "No chatting with colleagues while serving", "服务中不与同事闲聊", 1, 1, False, False),
    ("ET07", "Greeting & etiquette", "Apologises for the wait when the customer waited long", "客户久等时主动致歉", 1, 1, False,
     True),
    ("BH01", "Business handling", "Identity verified before any account change", "办理账户变更前核验客户身份", 1, 3, True, False),
    ("BH02", "Business handling", "Needs clarified with open questions", "通过开放式提问了解客户需求", 2, 2, False, False),
    ("BH03", "Business handling", "Recommended plan fits the stated needs", "推荐的套餐符合客户需求", 3, 2, False, False),
    ("BH04", "Business handling", "Tariff, contract term and fees explained in full", "完整说明资费、合约期和各项费用", 3, 3,
     False, False),
    ("BH05", "Business handling", "No service added without the customer's consent", "未经客户同意不开通任何业务", 1, 3, True,
     False),
    ("BH06", "Business handling", "Transaction completed correctly the first time", "业务一次办理正确", 2, 3, False, False),
    ("BH07", "Business handling", "Receipt or confirmation message provided", "提供业务凭证或确认短信", 1, 1, False, False),
    ("BH08", "Business handling", "Problem taken up with a clear next step and date", "对问题给出明确的后续处理安排和时间", 2, 2,
     False, True),
    ("CL01", "Closing & follow-up", "Asks whether anything else is needed", "询问客户是否还有其他需要", 1, 1, False, False),
    ("CL02", "Closing & follow-up", "Thanks the customer and says goodbye", "向客户致谢并道别", 1, 1, False, False),
    ("CL03", "Closing & follow-up", "Invites the customer to rate the service", "邀请客户对服务进行评价", 1, 1, False, False),
    ("CL04", "Closing & follow-up", "Follow-up call or message made when promised", "承诺回访的按时回访", 2, 1, False, True),
]
# Probability that an N/A-able item is not applicable on a visit (beyond the branch rules above).
_NA_PROB = {"HA05": 0.08, "QU05": 0.35, "ET07": 0.50, "BH08": 0.40, "CL04": 0.60}
# Item easiness (logit of the share of the maximum score a typical branch gets).
_ITEM_EASE = {"EX01": 2.6, "EX02": 3.2, "EX03": 2.4, "EX04": 1.6, "EX05": 1.5, "HA01": 1.8, "HA02": 2.5,
              "HA03": 3.7, "HA04": 1.9, "HA05": 1.7, "HA06": 2.2, "QU01": 1.1, "QU02": 2.4, "QU03": 0.9,
              "QU04": 1.8, "QU05": 1.6, "QU06": 2.7, "ET01": 2.8, "ET02": 1.3, "ET03": 1.2, "ET04": 1.9,
              "ET05": 2.0, "ET06": 1.7, "ET07": 0.8, "BH01": 4.0, "BH02": 1.0, "BH03": 1.2, "BH04": 1.0,
              "BH05": 4.1, "BH06": 1.8, "BH07": 2.2, "BH08": 1.0, "CL01": 1.2, "CL02": 2.0, "CL03": 0.9,
              "CL04": 0.9}


def make_checklist() -> pd.DataFrame:
    """The 36-item walk-through checklist in 6 sections (3 critical items, 8 N/A-able items)."""
    df = pd.DataFrame(_CHECKLIST, columns=["item_id", "section", "text_en", "text_zh", "max_score", "weight",
                                           "critical", "na_allowed"])
    df["weight"] = df["weight"].astype(float)
    return df


# ================================================================================================ volumes
def _holiday_mask(dates: pd.DatetimeIndex) -> np.ndarray:
    mask = np.zeros(len(dates), bool)
    for start, end in _HOLIDAYS:
        mask |= (dates >= pd.Timestamp(start)) & (dates <= pd.Timestamp(end))
    return mask


def _active_customers(ctx: _Context) -> np.ndarray:
    """Active customers per (period, branch): slow growth (~0.3 %/month) with small noise, times scale."""
    rng = _rng(ctx.seed, _STREAM["volumes"], 0)
    m = np.arange(len(ctx.periods))[:, None]
    growth = (1.003 ** (m - len(ctx.periods) + 1)) * (1 + rng.normal(0, 0.002, (len(ctx.periods), _NB)))
    return np.rint(_ACTIVE_K[None, :] * 1000 * growth * ctx.scale).astype(np.int64)


def make_volumes(ctx: _Context) -> pd.DataFrame:
    active = _active_customers(ctx)
    rng = _rng(ctx.seed, _STREAM["volumes"], 1)
    month = np.array([p.month for p in ctx.periods])
    season = np.where(month == 2, 0.78, np.where(month == 10, 0.92, np.where(np.isin(month, [1, 9]), 1.08, 1.0)))
    expected = active * 0.11 * season[:, None]
    walk_ins = rng.poisson(expected)
    out = pd.DataFrame({"branch": np.tile(np.array(BRANCHES), len(ctx.periods)),
                        "period": np.repeat(ctx.periods.astype(str).to_numpy(), _NB),
                        "walk_ins": walk_ins.ravel().astype(np.int64),
                        "active_customers": active.ravel().astype(np.int64)})
    return out.sort_values(["branch", "period"], kind="stable").reset_index(drop=True)


# ================================================================================================ hotline
def _hotline_day(ctx: _Context, day: pd.Timestamp, active_k: np.ndarray, holiday: bool) -> dict:
    """All contacts of one day (vectorised over branches and contacts)."""
    rng = _rng(ctx.seed, _STREAM["hotline"], day.year * 10000 + day.month * 100 + day.day)
    dow = day.day_of_week
    mean_n = active_k * _CONTACTS_PER_1000_ACTIVE * _DOW_FACTOR[dow] * (0.6 if holiday else 1.0) * ctx.scale
    counts = rng.poisson(mean_n)
    n = int(counts.sum())
    b = np.repeat(np.arange(_NB), counts)
    hour = rng.choice(len(_HOUR_P), size=n, p=_HOUR_P)
    secs = (8 + hour) * 3600 + np.floor(rng.random(n) * 3600).astype(np.int64)
    order = np.lexsort((b, secs))
    b, hour, secs = b[order], hour[order], secs[order]
    period = day.strftime("%Y-%m")
    # potential wait: a share answered almost at once, the rest log-normal; busier hours and days wait longer
    load = _HOUR_LOAD[hour] * _DOW_FACTOR[dow] ** 0.5
    mult = _WAIT_MULT[b] * load
    if period >= B07_SHIFT_START:
        mult = mult * np.where(b == 6, B07_WAIT_FACTOR, 1.0)
    immediate = rng.random(n) < 0.68
    potential = np.where(immediate, rng.exponential(4.0, n), rng.lognormal(np.log(38.0), 0.85, n)) * mult
    # patience: exponential (mean 5 min) plus ~1.2 % short abandons within 5 s
    patience = np.where(rng.random(n) < 0.012, rng.random(n) * 5.0, rng.exponential(300.0, n))
    answered = potential <= patience
    wait = np.rint(np.minimum(potential, patience))
    handle = np.rint(np.maximum(rng.lognormal(np.log(265.0), 0.45, n) * _HANDLE_MULT[b], 20.0))
    fcr_p = _FCR_BASE[b]
    if period >= B04_FCR_STEP_START:
        fcr_p = np.where(b == 3, B04_FCR_AFTER, fcr_p)
    # long calls are harder cases: slightly lower FCR (keeps the mean near the branch value)
    fcr_logit = np.log(fcr_p / (1 - fcr_p)) - 0.35 * (handle > 480) + 0.05
    rfc = rng.random(n) < _sigmoid(fcr_logit)
    surveyed = answered & (rng.random(n) < 0.10)
    latent = 0.95 * rfc - np.minimum(wait, 600) / 150.0 + rng.logistic(0, 0.85, n)
    csat = 1 + np.searchsorted(np.array([-1.75, -1.15, -0.45, 0.55]), latent)
    seq = np.arange(1, n + 1, dtype=np.int64)
    return {
        "contact_id": (day.year * 10000 + day.month * 100 + day.day) * 10_000_000 + seq,
        "ts": (day.value // 10**9 + secs).astype("int64"),
        "b": b, "wait_s": wait, "answered": answered, "handle_s": np.where(answered, handle, np.nan),
        "rfc": rfc, "rfc_mask": ~answered, "csat": csat.astype(np.int8), "csat_mask": ~surveyed,
    }


def _hotline_frame(parts: list[dict]) -> pd.DataFrame:
    cat = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return pd.DataFrame({
        "contact_id": cat["contact_id"],
        "ts": pd.to_datetime(cat["ts"], unit="s").astype("datetime64[ms]"),
        "branch": np.array(BRANCHES, dtype=object)[cat["b"]],
        "wait_s": cat["wait_s"].astype(float),
        "answered": cat["answered"].astype(bool),
        "handle_s": cat["handle_s"].astype(float),
        "resolved_first_contact": pd.arrays.BooleanArray(cat["rfc"], cat["rfc_mask"]),
        "csat": pd.arrays.IntegerArray(cat["csat"], cat["csat_mask"]),
    })


def hotline_month(period: str, *, seed: int = SEED, scale: float = 1.0, end_period: str = "2026-10",
                  n_periods: int = 24, chunk_rows: int = HOTLINE_CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """Yield the hotline contacts of one month as DataFrames of at most about ``chunk_rows`` rows (whole days).

    The same rows as in ``hotline/<period>.parquet`` written by :func:`generate` with the same arguments.
    """
    ctx = _context(seed, scale, end_period, n_periods)
    yield from _hotline_month(ctx, pd.Period(period, freq="M"), chunk_rows)


def _hotline_month(ctx: _Context, period: pd.Period, chunk_rows: int = HOTLINE_CHUNK_ROWS,
                   stats: _Stats | None = None) -> Iterator[pd.DataFrame]:
    if period not in ctx.periods:
        raise ParameterError(f"month {period} is outside the generated periods {ctx.periods[0]}..{ctx.periods[-1]}")
    days = pd.date_range(period.start_time, period.end_time.normalize(), freq="D")
    holiday = _holiday_mask(days)
    active_k = _active_customers(ctx)[list(ctx.periods).index(period)] / 1000.0 / ctx.scale
    parts, rows = [], 0
    for day, hol in zip(days, holiday):
        part = _hotline_day(ctx, day, active_k, bool(hol))
        if stats is not None:
            _hotline_stats(stats, period, part)
        parts.append(part)
        rows += len(part["b"])
        if rows >= chunk_rows:
            yield _hotline_frame(parts)
            parts, rows = [], 0
    if parts:
        yield _hotline_frame(parts)


def _hotline_stats(stats: _Stats, period: pd.Period, part: dict):
    p = str(period)
    b07 = part["b"] == 6
    key = "after" if p >= B07_SHIFT_START else "before"
    stats.add(f"b07_wait_{key}", part["wait_s"][b07].sum(), b07.sum())
    stats.add(f"b07_aband_{key}", (~part["answered"][b07]).sum(), b07.sum())
    b07a = b07 & part["answered"]
    stats.add(f"b07_asa_{key}", part["wait_s"][b07a].sum(), b07a.sum())
    b04 = (part["b"] == 3) & part["answered"]
    key = "after" if p >= B04_FCR_STEP_START else "before"
    stats.add(f"b04_fcr_{key}", part["rfc"][b04].sum(), b04.sum())
    ans = part["answered"]
    stats.add("answered", ans.sum(), len(ans))
    stats.add("fcr", part["rfc"][ans].sum(), ans.sum())
    stats.add("aht", part["handle_s"][ans].sum(), ans.sum())
    stats.add("asa", part["wait_s"][ans].sum(), ans.sum())
    stats.add("sl20", (ans & (part["wait_s"] <= 20)).sum(), len(ans))
    sv = ~part["csat_mask"]
    stats.add("csat", part["csat"][sv].astype(float).sum(), sv.sum())
    stats.add("contacts_per_day", len(ans), 1)


# ================================================================================================ complaints
_CATEGORY_P = np.array([0.20, 0.25, 0.12, 0.11, 0.10, 0.12, 0.10])   # order of COMPLAINT_CATEGORIES
_CHANNEL_P = np.array([0.50, 0.25, 0.20, 0.05])
_COMPLAINTS_PER_1000 = 1.0          # per active customer-month, before branch factors


def make_complaints_month(ctx: _Context, period: pd.Period, active: np.ndarray) -> pd.DataFrame:
    rng = _rng(ctx.seed, _STREAM["complaints"], _month_key(period))
    p = str(period)
    cat_mult = np.ones((_NB, len(COMPLAINT_CATEGORIES)))
    if p >= BILLING_SURGE_START:
        cat_mult[:, COMPLAINT_CATEGORIES.index("billing")] = BILLING_SURGE_FACTOR
    if p >= B07_SHIFT_START:
        cat_mult[6, COMPLAINT_CATEGORIES.index("waiting_time")] = B07_WAITING_COMPLAINT_FACTOR
    lam = (active / 1000.0 * _COMPLAINTS_PER_1000 * _COMPLAINT_MULT)[:, None] * _CATEGORY_P[None, :] * cat_mult
    counts = rng.poisson(lam)
    n = int(counts.sum())
    flat = np.repeat(np.arange(counts.size), counts.ravel())
    b, c = np.divmod(flat, len(COMPLAINT_CATEGORIES))
    start = period.start_time.value // 10**9
    n_days = period.days_in_month
    day = rng.integers(0, n_days, n)
    hour = 8 + rng.choice(len(_HOUR_P), size=n, p=_HOUR_P)
    opened = start + day * 86400 + hour * 3600 + rng.integers(0, 3600, n)
    channel = rng.choice(len(COMPLAINT_CHANNELS), size=n, p=_CHANNEL_P)
    sev_u = rng.random(n)
    high_p = np.where(channel == 3, 0.35, 0.08) + np.where(c == COMPLAINT_CATEGORIES.index("network"), 0.05, 0.0)
    severity = np.where(sev_u < high_p, 2, np.where(sev_u < high_p + 0.35, 1, 0))
    # hours to close: log-normal around 2.5 / 1.7 / 0.9 days for low / medium / high, a few complex cases
    median_h = np.array([60.0, 40.0, 22.0])[severity]
    hours = rng.lognormal(np.log(median_h), 0.8, n) * np.where(rng.random(n) < 0.04, 6.0, 1.0)
    recovered_p = 0.84 - 0.12 * (severity == 2) - 0.06 * (c == COMPLAINT_CATEGORIES.index("network"))
    recovered = rng.random(n) < recovered_p
    reopened = rng.random(n) < np.where(recovered, 0.03, 0.18)
    # a reopened case closes a second time later
    hours = hours + np.where(reopened, rng.lognormal(np.log(72.0), 0.7, n), 0.0)
    closed = opened + np.rint(hours * 3600).astype(np.int64)
    stuck = rng.random(n) < 0.004       # administrative backlog: still open whatever its age
    cutoff = ctx.cutoff.value // 10**9
    is_open = (closed > cutoff) | stuck
    order = np.lexsort((b, opened))
    ids = _ids(f"C{period.year}{period.month:02d}-", np.arange(1, n + 1), 6)
    df = pd.DataFrame({
        "complaint_id": ids,
        "opened_at": pd.to_datetime(opened[order], unit="s").astype("datetime64[ms]"),
        "closed_at": pd.to_datetime(np.where(is_open, 0, closed)[order], unit="s").astype("datetime64[ms]"),
        "branch": np.array(BRANCHES, dtype=object)[b[order]],
        "channel": np.array(COMPLAINT_CHANNELS, dtype=object)[channel[order]],
        "category": np.array(COMPLAINT_CATEGORIES, dtype=object)[c[order]],
        "severity": np.array(SEVERITIES, dtype=object)[severity[order]],
        "recovered": pd.arrays.BooleanArray(recovered[order], is_open[order]),
        "reopened": reopened[order],
    })
    df.loc[is_open[order], "closed_at"] = pd.NaT
    return df


def _intervention_starts(ctx: _Context) -> dict[str, dict[str, pd.Period]]:
    """Intervention id -> {branch: start month} for this window."""
    return {iid: {b: ctx.periods[i] for i, branches in spec["waves"].items() for b in branches}
            for iid, spec in INTERVENTION_EFFECTS.items()}


def _apply_interventions(ctx: _Context, period: pd.Period, df: pd.DataFrame) -> pd.DataFrame:
    """Thin the complaints an intervention prevents (see INTERVENTION_EFFECTS); ids keep their gaps, as in a
    register where prevented complaints never got a number."""
    rng = _rng(ctx.seed, _STREAM["interventions"], _month_key(period))
    u = rng.random(len(df))
    keep = np.ones(len(df), dtype=bool)
    for iid, starts in _intervention_starts(ctx).items():
        spec = INTERVENTION_EFFECTS[iid]
        live = [b for b, p in starts.items() if p <= period]
        if spec["rate_ratio"] >= 1 or not live:
            continue
        hit = df["branch"].isin(live).to_numpy() & (df["category"] == spec["category"]).to_numpy()
        keep &= ~hit | (u < spec["rate_ratio"])
    return df.loc[keep].reset_index(drop=True)


def make_complaints(ctx: _Context) -> pd.DataFrame:
    active = _active_customers(ctx)
    frames = [_apply_interventions(ctx, p, make_complaints_month(ctx, p, active[i]))
              for i, p in enumerate(ctx.periods)]
    return pd.concat(frames, ignore_index=True)


# ================================================================================================ blueprint
_BLUEPRINT = [
    # step_id, stage, lane, text_en, text_zh, failure_en, failure_zh, failure_type, complaint_category, checklist
    ("S1C", 1, "customer", "Calls the hotline or walks in and takes a ticket", "拨打客服热线或到厅取号",
     None, None, None, None, None),
    ("S1O", 1, "onstage", "Greeter directs the customer; agent answers the call", "引导员分流；坐席接听",
     "Customer waits too long to be served", "客户等候时间过长", "server_task", "waiting_time", "QU03"),
    ("S1S", 1, "support", "Queue-ticket and telephony system", "排队叫号与话务系统", None, None, None, None, None),
    ("S2C", 2, "customer", "Explains what they need", "说明办理需求", None, None, None, None, None),
    ("S2O", 2, "onstage", "Clarifies needs, explains plans and tariffs", "了解需求，讲解套餐与资费",
     "Customer leaves with a wrong idea of the tariff or contract term", "客户对资费或合约期理解有误",
     "customer_encounter", "product_info", "BH04"),
    ("S2T", 2, "onstage", "Greets the customer and serves politely", "主动问候、礼貌服务",
     "Customer not acknowledged or treated rudely", "客户未被理会或遭遇不礼貌对待", "server_treatment",
     "staff_attitude", "ET04"),
    ("S2H", 2, "onstage", "Hall, counters and self-service terminals", "营业厅环境、柜台与自助终端",
     "Dirty hall or broken terminal", "环境脏乱或自助终端故障", "server_tangible", "other", "HA01"),
    ("S3C", 3, "customer", "Signs the order", "签署业务单", None, None, None, None, None),
    ("S3B", 3, "backstage", "Order keyed into the billing system", "业务单录入计费系统",
     "Wrong plan or fee keyed in", "录入错误的套餐或费用", "server_task", "billing", "BH06"),
    ("S3S", 3, "support", "Billing and CRM systems", "计费与客户关系管理系统", None, None, None, None, None),
    ("S4B", 4, "backstage", "Installation appointment scheduled and technician dispatched", "预约装机并派单",
     "Appointment missed or technician arrives without the right equipment", "错过预约或上门未带齐设备",
     "server_task", "installation", None),
    ("S4S", 4, "support", "Work-order and dispatch system", "工单与派单系统", None, None, None, None, None),
    ("S5C", 5, "customer", "Is at home, ready for the installation", "在家等候装机",
     "Customer not at home or premises not ready", "客户不在家或现场不具备条件", "customer_preparation",
     "installation", None),
    ("S5O", 5, "onstage", "Technician installs and tests the line", "装维人员上门安装调测",
     "Network fault after installation", "装机后网络故障", "server_task", "network", None),
    ("S6C", 6, "customer", "Reads the first bill and reports problems", "查看首月账单并反馈问题",
     "Customer does not report a wrong bill in time", "客户未及时反馈账单错误", "customer_resolution", "billing",
     None),
    ("S6B", 6, "backstage", "Complaint desk resolves and calls back", "投诉受理并回访", None, None, None, None, None),
]

_INTERVENTIONS = {
    # id: kind, name_en, name_zh, description_en, description_zh, step, failure_type, categories, kpis, checklist
    "INT-01": ("fail_safe", "Installation double-check", "装机预约双重确认",
               "The day before, the dispatcher confirms the address, time slot and equipment list with the customer "
               "by SMS reply and the system blocks dispatch until the equipment is scanned",
               "装机前一天调度员通过短信与客户确认地址、时段和设备清单，设备扫码确认前系统不允许派单",
               "S4B", "server_task", "installation", None, None),
    "INT-02": ("fail_safe", "Tariff read-back card", "资费复述确认卡",
               "Counter staff and customer tick the monthly fee, data allowance and contract term on a card the "
               "customer signs before the order is keyed in",
               "办理前营业员与客户在确认卡上逐项勾选月费、流量和合约期，客户签字后才可录入",
               "S2O", "customer_encounter", "product_info", None, "BH04"),
    "INT-03": ("training", "Courtesy refresher training", "礼仪服务复训",
               "Half-day refresher on greeting and polite language for all counter staff",
               "全体营业员半天的问候与文明用语复训",
               "S2T", "server_treatment", "staff_attitude", "csat_mean", "ET04"),
}


def make_blueprint_steps() -> pd.DataFrame:
    """The service blueprint of the demo network (table ``blueprint_steps``)."""
    return pd.DataFrame(_BLUEPRINT, columns=["step_id", "stage", "lane", "text_en", "text_zh", "failure_en",
                                             "failure_zh", "failure_type", "complaint_category", "checklist_item"])


def make_interventions(ctx: _Context) -> pd.DataFrame:
    """The intervention register (table ``interventions``): one row per intervention and branch, with the start
    date there (the first day of the start month)."""
    rows = []
    for iid, starts in _intervention_starts(ctx).items():
        kind, n_en, n_zh, d_en, d_zh, step, ftype, cats, kpis, items = _INTERVENTIONS[iid]
        for b in BRANCHES:
            if b in starts:
                rows.append((iid, kind, n_en, n_zh, d_en, d_zh, step, ftype, b, starts[b].start_time, cats, kpis,
                             items))
    df = pd.DataFrame(rows, columns=["intervention_id", "kind", "name_en", "name_zh", "description_en",
                                     "description_zh", "step_id", "failure_type", "branch", "start_date",
                                     "complaint_categories", "kpis", "checklist_items"])
    df["start_date"] = df["start_date"].dt.strftime("%Y-%m-%d")
    return df


def make_limit_stages(ctx: _Context) -> pd.DataFrame:
    """The analyst's stage table (table ``limit_stages``): B04's first-contact resolution process change, recorded
    so its control limits restart at the month of the change (when that month is in the window)."""
    rows = []
    if pd.Period(B04_FCR_STEP_START, "M") in set(ctx.periods):
        rows.append(("B04", "fcr_rate", B04_FCR_STEP_START,
                     "Process change: the first agent keeps ownership of the case until it is resolved",
                     "流程变更：首位坐席负责到底，直至问题解决"))
    return pd.DataFrame(rows, columns=["chart", "kpi", "start", "reason_en", "reason_zh"])


# ================================================================================================ survey
# Dimension means (1-7) for perceptions and expectations; reliability has the largest gap.
_P_MU = {"tangibles": 5.55, "reliability": 5.05, "responsiveness": 5.20, "assurance": 5.50, "empathy": 5.15}
_E_MU = {"tangibles": 5.95, "reliability": 6.50, "responsiveness": 6.25, "assurance": 6.30, "empathy": 6.10}
_IMPORTANCE_BASE = np.array([0.14, 0.30, 0.21, 0.18, 0.17])
_ITEM_DIM = np.array([DIMENSIONS.index(next(d for d, its in DIMENSION_ITEMS.items() if i in its))
                      for i in range(1, N_ITEMS + 1)])


def _item_parameters() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fixed item loadings and intercepts (E and P) - part of the network's design, not of the seed."""
    rng = np.random.default_rng(7)
    lam_p = rng.uniform(0.72, 0.87, N_ITEMS)
    lam_e = rng.uniform(0.76, 0.88, N_ITEMS)
    lam_p[WEAK_ITEM - 1], lam_e[WEAK_ITEM - 1] = WEAK_ITEM_LOADING, WEAK_ITEM_LOADING + 0.04
    mu_p = np.array([_P_MU[DIMENSIONS[d]] for d in _ITEM_DIM]) + rng.normal(0, 0.12, N_ITEMS)
    mu_e = np.array([_E_MU[DIMENSIONS[d]] for d in _ITEM_DIM]) + rng.normal(0, 0.08, N_ITEMS)
    return lam_p, lam_e, mu_p, mu_e


# Real SERVQUAL data do not fit a clean 5-factor model: items cross-load on neighbouring dimensions and similarly
# worded items share residual variance. These misfits make CFA fit indices realistic (CFI ~ .95, RMSEA ~ .05)
# instead of perfect.
_CROSS_LOADINGS = [(8, "responsiveness", 0.25), (11, "reliability", 0.25), (13, "empathy", 0.25),
                   (17, "reliability", 0.20), (19, "tangibles", 0.25), (4, "assurance", 0.20),
                   (12, "assurance", 0.20), (21, "assurance", 0.20)]
_RESIDUAL_PAIRS = [(5, 8, 0.30), (12, 13, 0.25), (15, 16, 0.25), (1, 2, 0.20), (9, 4, 0.20), (18, 22, 0.25)]


def _item_latent(rng: np.random.Generator, factors: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Standardised-ish item responses: loading x own dimension factor + cross-loadings + (partly shared) noise."""
    n = len(factors)
    noise = rng.standard_normal((n, N_ITEMS))
    shared = rng.standard_normal((n, len(_RESIDUAL_PAIRS)))
    for k, (i, j, r) in enumerate(_RESIDUAL_PAIRS):
        for item in (i, j):
            noise[:, item - 1] = np.sqrt(1 - r) * noise[:, item - 1] + np.sqrt(r) * shared[:, k]
    y = lam * factors[:, _ITEM_DIM] + np.sqrt(1 - lam**2) * noise
    for item, dim, c in _CROSS_LOADINGS:
        y[:, item - 1] += c * factors[:, DIMENSIONS.index(dim)]
    return y


def _likert(x: np.ndarray, lo: int = 1, hi: int = 7) -> np.ndarray:
    return np.clip(np.rint(x), lo, hi)


def make_survey_wave(ctx: _Context, wave: pd.Period, wave_no: int) -> pd.DataFrame:
    """One survey wave: ~50 respondents per branch (times scale), wide format."""
    rng = _rng(ctx.seed, _STREAM["survey"], _month_key(wave))
    counts = rng.poisson(50 * ctx.scale, _NB)
    n = int(counts.sum())
    b = np.repeat(np.arange(_NB), counts)
    seg = rng.choice(len(SEGMENTS), size=n, p=[0.62, 0.20, 0.18])
    lam_p, lam_e, mu_p, mu_e = _item_parameters()
    # correlated dimension factors: perceptions (r = .65 between dimensions), expectations (r = .70), and a
    # moderate link between a respondent's expectation and perception of the same dimension (r = .40)
    def factors(r):
        cov = np.full((5, 5), r) + np.eye(5) * (1 - r)
        return rng.multivariate_normal(np.zeros(5), cov, size=n, method="cholesky")
    fp = factors(0.65)
    fe = 0.40 * fp + np.sqrt(1 - 0.40**2) * factors(0.70)
    trend = 0.04 * wave_no
    p_shift = _SURVEY_P_OFFSET[b][:, None] + trend + 0.20 * (seg == 2)[:, None]
    if str(wave) >= B07_SHIFT_START:         # B07's hotline problem shows in responsiveness perceptions
        p_shift = p_shift - 0.25 * ((b == 6)[:, None] & (_ITEM_DIM == 2)[None, :])
    e_shift = 0.15 * (seg == 1)[:, None]
    p_cont = mu_p + p_shift + 1.15 * _item_latent(rng, fp, lam_p)
    e_cont = mu_e + e_shift + 0.80 * _item_latent(rng, fe, lam_e)
    P, E = _likert(p_cont), _likert(e_cont)
    three_column = wave in ctx.waves[-2:]
    if three_column:
        d_cont = e_cont + 0.05 + 0.45 * rng.standard_normal((n, N_ITEMS))
        width = np.clip(rng.normal(1.9, 0.6, n), 0.4, None)[:, None]
        a_cont = d_cont - width + 0.45 * rng.standard_normal((n, N_ITEMS))
        D, A = _likert(d_cont), _likert(a_cont)
        # a few logically inconsistent answers: desired below adequate
        swap = rng.random((n, N_ITEMS)) < 0.02
        lo, hi = np.minimum(A, D), np.maximum(A, D)
        tie = lo == hi
        hi2 = np.where(tie & (hi < 7), hi + 1, hi)
        lo2 = np.where(tie & (hi == 7), lo - 1, lo)
        A, D = np.where(swap, hi2, A), np.where(swap, lo2, D)
    # overall quality and likelihood to recommend follow the perceptions
    p_mean = p_cont.mean(axis=1)
    overall_cont = 1.0 + 0.82 * p_mean + rng.normal(0, 0.55, n)
    overall = _likert(overall_cont)
    recommend = np.clip(np.rint(1.9 * overall_cont - 2.3 + rng.normal(0, 1.2, n)), 0, 10)
    # reverse-keyed items in the old instrument: the respondent answered the negated statement
    instrument = "v1" if wave_no == 0 else "v2"
    if instrument == "v1":
        for item in V1_REVERSED_ITEMS:
            E[:, item - 1], P[:, item - 1] = 8 - E[:, item - 1], 8 - P[:, item - 1]
    # ~1.5 % straight-liners (the same answer everywhere, even on the reverse-keyed items of v1)
    straight = rng.random(n) < 0.015
    E[straight] = 7
    P[straight] = _likert(p_mean[straight])[:, None]
    # missing answers: ~2.5 % scattered plus ~1 % of respondents who stopped before the empathy block
    def with_missing(x):
        miss = rng.random(x.shape) < 0.025
        miss |= (rng.random(n) < 0.012)[:, None] & (np.arange(N_ITEMS) >= 17)[None, :]
        return np.where(miss, np.nan, x)
    E, P = with_missing(E), with_missing(P)
    if three_column:
        A, D = with_missing(A), with_missing(D)
    # importance allocation: Dirichlet around the network's priorities, rounded as people do
    alloc = rng.dirichlet(_IMPORTANCE_BASE * 14, n) * 100
    coarse = rng.random(n) < 0.6
    alloc = np.where(coarse[:, None], np.rint(alloc / 5) * 5, np.rint(alloc))
    alloc[np.arange(n), alloc.argmax(axis=1)] += 100 - alloc.sum(axis=1)        # make it sum to 100
    bad = rng.random(n)
    rated = bad < 0.03                      # rated each dimension out of 100 instead of allocating
    alloc = np.where(rated[:, None], np.rint(rng.uniform(10, 40, (n, 5))), alloc)
    off = (bad >= 0.03) & (bad < 0.06)      # allocation that does not add up (sums 80-120)
    alloc = np.where(off[:, None], np.rint(alloc * rng.uniform(0.8, 1.2, n)[:, None]), alloc)
    alloc = np.clip(alloc, 0, 100)
    alloc[(bad >= 0.06) & (bad < 0.08)] = np.nan      # skipped the question
    overall = np.where(rng.random(n) < 0.01, np.nan, overall)
    recommend = np.where(rng.random(n) < 0.01, np.nan, recommend)

    seq = np.concatenate([np.arange(1, k + 1) for k in counts]) if n else np.array([], int)
    wave_s = str(wave)
    ids = _ids(pd.Series(np.array([f"S{wave.year}{wave.month:02d}-{br}-" for br in BRANCHES], dtype=object)[b]),
               seq, 5)
    cols: dict = {"respondent_id": ids, "wave": np.full(n, wave_s, dtype=object),
                  "branch": np.array(BRANCHES, dtype=object)[b],
                  "segment": np.array(SEGMENTS, dtype=object)[seg], "instrument": np.full(n, instrument, dtype=object)}

    def int8(x):
        return pd.array(np.where(np.isnan(x), pd.NA, x).astype(object), dtype="Int8") if np.isnan(x).any() else \
            pd.array(x.astype(np.int8), dtype="Int8")

    empty = pd.array(np.full(n, pd.NA), dtype="Int8")
    for prefix, mat in (("E", E), ("P", P)):
        for i in range(N_ITEMS):
            cols[f"{prefix}{i + 1}"] = int8(mat[:, i])
    for prefix in ("A", "D"):
        for i in range(N_ITEMS):
            if three_column:
                cols[f"{prefix}{i + 1}"] = int8((A if prefix == "A" else D)[:, i])
            else:
                cols[f"{prefix}{i + 1}"] = empty
    for j, dim in enumerate(DIMENSIONS):
        cols[f"I_{dim}"] = alloc[:, j].astype(float)
    cols["overall"] = int8(overall)
    cols["recommend"] = int8(recommend)
    return pd.DataFrame(cols)


def make_survey(ctx: _Context) -> pd.DataFrame:
    return pd.concat([make_survey_wave(ctx, w, i) for i, w in enumerate(ctx.waves)], ignore_index=True)


# ================================================================================================ audits
_ASSESSORS = {"provincial": ["P01", "P02", "P03", "P04"], "city": ["C01", "C02", "C03"]}


def _assessor_bias(seed: int) -> dict[str, float]:
    rng = _rng(seed, _STREAM["assessors"])
    ids = _ASSESSORS["provincial"] + _ASSESSORS["city"]
    return dict(zip(ids, rng.normal(0, 0.15, len(ids))))


def make_audit_month(ctx: _Context, period: pd.Period) -> pd.DataFrame:
    rng = _rng(ctx.seed, _STREAM["audit_visits"], _month_key(period))
    checklist = make_checklist()
    k = len(checklist)
    ease = checklist["item_id"].map(_ITEM_EASE).to_numpy(float)
    max_score = checklist["max_score"].to_numpy(np.int64)
    bias = _assessor_bias(ctx.seed)
    days = pd.date_range(period.start_time, period.end_time.normalize(), freq="B")
    rows = []
    for body in ASSESSOR_BODIES:
        n_v = _NB
        assessor = rng.choice(np.array(_ASSESSORS[body], dtype=object), size=n_v)
        visit_day = days[rng.integers(0, len(days), n_v)]
        visit_effect = rng.normal(0, 0.22, n_v)
        body_shift = CITY_LENIENCY_LOGIT if body == "city" else 0.0
        a_bias = np.array([bias[a] for a in assessor])
        logit = (ease[None, :] + _AUDIT_QUALITY[:, None] + (visit_effect + body_shift + a_bias)[:, None])
        score = rng.binomial(np.broadcast_to(max_score, (n_v, k)), _sigmoid(logit)).astype(float)
        na = np.zeros((n_v, k), bool)
        ids = checklist["item_id"].to_numpy()
        for j, item in enumerate(ids):
            if item in _NA_PROB:
                na[:, j] = rng.random(n_v) < _NA_PROB[item]
        na[:, list(ids).index("EX04")] |= np.isin(np.array(BRANCHES), list(_NO_PARKING))
        na[:, list(ids).index("HA04")] |= np.isin(np.array(BRANCHES), list(_NO_TERMINALS))
        score[na] = np.nan
        tag = "P" if body == "provincial" else "C"
        visit_ids = np.array([f"V{period.year}{period.month:02d}-{br}-{tag}" for br in BRANCHES], dtype=object)
        rows.append(pd.DataFrame({
            "visit_id": np.repeat(visit_ids, k), "branch": np.repeat(np.array(BRANCHES, dtype=object), k),
            "period": str(period), "visit_date": np.repeat(visit_day.to_numpy(), k).astype("datetime64[ms]"),
            "assessor_body": body, "assessor_id": np.repeat(assessor, k), "item_id": np.tile(ids, n_v),
            "score": score.ravel()}))
    out = pd.concat(rows, ignore_index=True)
    # visits in date order per branch, items in checklist order (as an assessor's form is filled in)
    return out.sort_values(["branch", "visit_date", "assessor_body"], kind="stable").reset_index(drop=True)


def make_audit_visits(ctx: _Context) -> pd.DataFrame:
    return pd.concat([make_audit_month(ctx, p) for p in ctx.periods], ignore_index=True)


# ================================================================================================ incidents
_INCIDENT_TYPES = [
    # type, probability, deduction, description
    ("late_report", 0.38, 0.5, "Service incident reported to the county office after the 2-hour deadline"),
    ("untrue_report", 0.14, 0.5, "Monthly service report contained figures that did not match the records"),
    ("upheld_regulator_complaint", 0.26, 1.0, "Customer complaint to the regulator upheld against the branch"),
    ("unreported_outage", 0.13, 2.0, "Service hall system outage over 30 minutes not reported"),
    ("safety_violation", 0.09, 3.0, "Safety or customer-data handling rule breached during inspection"),
]


def make_incidents(ctx: _Context) -> pd.DataFrame:
    rng = _rng(ctx.seed, _STREAM["incidents"])
    m = len(ctx.periods)
    counts = rng.poisson(np.broadcast_to(_INCIDENT_RATE, (m, _NB)))
    n = int(counts.sum())
    flat = np.repeat(np.arange(counts.size), counts.ravel())
    pi, b = np.divmod(flat, _NB)
    kind = rng.choice(len(_INCIDENT_TYPES), size=n, p=[t[1] for t in _INCIDENT_TYPES])
    starts = np.array([p.start_time.value // 10**9 for p in ctx.periods])
    ndays = np.array([p.days_in_month for p in ctx.periods])
    day = np.floor(rng.random(n) * ndays[pi]).astype(np.int64)
    date = pd.to_datetime(starts[pi] + day * 86400, unit="s")
    df = pd.DataFrame({"branch": np.array(BRANCHES, dtype=object)[b], "date": date,
                       "period": ctx.periods.astype(str).to_numpy()[pi],
                       "type": np.array([t[0] for t in _INCIDENT_TYPES], dtype=object)[kind],
                       "deduction": np.array([t[2] for t in _INCIDENT_TYPES])[kind],
                       "veto": False,
                       "description": np.array([t[3] for t in _INCIDENT_TYPES], dtype=object)[kind]})
    veto_date = pd.Timestamp(VETO_INCIDENT[1])
    if ctx.periods[0].start_time <= veto_date <= ctx.cutoff:
        df = pd.concat([df, pd.DataFrame({
            "branch": [VETO_INCIDENT[0]], "date": [veto_date], "period": [veto_date.strftime("%Y-%m")],
            "type": ["serious_violation"], "deduction": [0.0], "veto": [True],
            "description": ["Customer numbers ported out without consent (serious violation: veto for the month)"]})],
            ignore_index=True)
    df = df.sort_values(["date", "branch"], kind="stable").reset_index(drop=True)
    df.insert(0, "incident_id", [f"INC-{i:04d}" for i in range(1, len(df) + 1)])
    df["date"] = df["date"].dt.strftime("%Y-%m-%d")
    return df


# ================================================================================================ instrument
_V1_WORDING = {
    11: ("In the branch and on the hotline I am kept waiting a long time before anyone serves me",
         "在营业厅和热线，我常常要等很久才有人为我服务"),
    20: ("Staff do not take a personal interest in me or follow up on my case",
         "工作人员不关心我本人，也不会主动跟进我的事项"),
}
INSTRUMENT_COLUMNS = ["item", "dimension", "reverse_keyed", "scale_min", "scale_max", "text_en", "text_zh"]


def make_instruments() -> dict[str, pd.DataFrame]:
    """Instrument files: v2 = ``sqc.servqual.default_instrument()``; v1 = the same with items 11 and 20 worded
    negatively (reverse-keyed)."""
    from .servqual import default_instrument

    v2 = default_instrument().to_frame()[INSTRUMENT_COLUMNS].copy()
    v2["reverse_keyed"] = v2["reverse_keyed"].astype(bool)
    v1 = v2.copy()
    for item, (en, zh) in _V1_WORDING.items():
        row = v1["item"].astype(int) == item
        v1.loc[row, ["reverse_keyed", "text_en", "text_zh"]] = [True, en, zh]
    return {"v1": v1, "v2": v2}


# ================================================================================================ writing
def _write_parquet(df: pd.DataFrame, path: Path):
    df.to_parquet(path, index=False, engine="pyarrow", **PARQUET_OPTIONS)


def _write_csv(df: pd.DataFrame, path: Path):
    df.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


def _write_table(df: pd.DataFrame, name: str, out: Path):
    path = out / TABLE_FILES[name]
    (_write_csv if path.suffix == ".csv" else _write_parquet)(df, path)


def _write_hotline(ctx: _Context, period: pd.Period, out: Path, stats: _Stats) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = out / TABLE_FILES["hotline"]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{period}.parquet"
    tmp = path.with_suffix(".parquet.tmp")
    writer, rows = None, 0
    try:
        for chunk in _hotline_month(ctx, period, stats=stats):
            table = pa.Table.from_pandas(chunk, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema, **HOTLINE_PARQUET_OPTIONS)
            writer.write_table(table, row_group_size=len(chunk))
            rows += len(chunk)
    finally:
        if writer is not None:
            writer.close()
    tmp.replace(path)
    return rows


def _write_survey(ctx: _Context, out: Path) -> tuple[int, pd.DataFrame | None]:
    """Write wave by wave (bounded memory at large scale). Returns rows and, at scale <= 5, the frame."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = out / TABLE_FILES["survey"]
    tmp = path.with_suffix(".parquet.tmp")
    writer, rows, keep = None, 0, []
    try:
        for i, wave in enumerate(ctx.waves):
            df = make_survey_wave(ctx, wave, i)
            table = pa.Table.from_pandas(df, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema, **PARQUET_OPTIONS)
            writer.write_table(table.cast(writer.schema))
            rows += len(df)
            if ctx.scale <= 5:
                keep.append(df)
    finally:
        if writer is not None:
            writer.close()
    tmp.replace(path)
    return rows, (pd.concat(keep, ignore_index=True) if keep else None)


def generate(out_dir: str | Path, *, seed: int = SEED, scale: float = 1.0, end_period: str = "2026-10",
             n_periods: int = 24, tables: Iterable[str] | None = None, months: Iterable[str] | None = None,
             readme: bool | None = None, verbose: bool = False) -> dict[str, int]:
    """Generate the demo service network into ``out_dir``.

    Parameters
    ----------
    out_dir : path
        Created if needed. Files are laid out as in :data:`sqc.tables.TABLE_FILES` plus the instrument files
        ``survey_instrument_v1.csv`` / ``_v2.csv`` and ``README.md``.
    seed : int
        Same seed, same arguments -> identical tables (every draw is keyed by seed, table and month/day).
    scale : float
        Multiplies hotline contacts, complaints, survey respondents, walk-ins and active customers (x10, x100 for
        benchmarks). Audits, incidents and reference tables do not scale.
    end_period, n_periods : str, int
        The last month (``YYYY-MM``) and the number of monthly periods; survey waves are the last 8 quarter-end
        months.
    tables : iterable of str, optional
        Only these tables (names of :data:`sqc.tables.SCHEMAS`, plus ``"instruments"``); default all.
    months : iterable of str, optional
        Only these hotline months (``YYYY-MM``); default all periods. Other tables are not affected.
    readme : bool, optional
        Write ``README.md`` (the data dictionary with row counts, sizes and measured planted effects). Default:
        only when everything is generated.
    verbose : bool
        Print progress.

    Returns
    -------
    dict
        Rows written per table (``hotline`` summed over the months written).
    """
    ctx = _context(seed, scale, end_period, n_periods)
    if isinstance(tables, str):
        tables = [tables]
    if isinstance(months, str):
        months = [months]
    wanted = set(ALL_TABLES) | {"instruments"} if tables is None else set(tables)
    unknown = wanted - set(ALL_TABLES) - {"instruments"}
    if unknown:
        raise ParameterError(f"unknown table(s) {sorted(unknown)}; choose from {list(ALL_TABLES) + ['instruments']}")
    if months is None:
        hot_months = list(ctx.periods)
    else:
        hot_months = []
        for m in months:
            try:
                p = pd.Period(str(m), freq="M")
            except Exception:
                raise ParameterError(f"months must be YYYY-MM strings, got {m!r}") from None
            if p not in ctx.periods:
                raise ParameterError(f"month {m} is outside {ctx.periods[0]}..{ctx.periods[-1]}")
            hot_months.append(p)
    complete = tables is None and months is None
    readme = complete if readme is None else readme
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    stats = _Stats()
    frames: dict[str, pd.DataFrame] = {}
    t0 = time.perf_counter()

    def say(msg):
        if verbose:
            print(f"[{time.perf_counter() - t0:7.1f}s] {msg}", flush=True)

    small = {"branches": make_branches, "targets": make_targets, "checklist": make_checklist,
             "volumes": lambda: make_volumes(ctx), "incidents": lambda: make_incidents(ctx),
             "complaints": lambda: make_complaints(ctx), "audit_visits": lambda: make_audit_visits(ctx),
             "blueprint_steps": make_blueprint_steps, "interventions": lambda: make_interventions(ctx),
             "limit_stages": lambda: make_limit_stages(ctx)}
    for name, make in small.items():
        if name in wanted:
            df = make()
            _write_table(df, name, out)
            counts[name] = len(df)
            frames[name] = df
            say(f"{name}: {len(df):,} rows")
    if "survey" in wanted:
        counts["survey"], survey = _write_survey(ctx, out)
        if survey is not None:
            frames["survey"] = survey
        say(f"survey: {counts['survey']:,} rows")
    if "instruments" in wanted:
        for version, frame in make_instruments().items():
            # lower-case booleans, as in sqc/data/servqual_instrument.csv
            frame = frame.assign(reverse_keyed=frame["reverse_keyed"].map({True: "true", False: "false"}))
            _write_csv(frame, out / INSTRUMENT_FILES[version])
        counts["instruments"] = 2
    if "hotline" in wanted:
        counts["hotline"] = 0
        for p in hot_months:
            counts["hotline"] += _write_hotline(ctx, p, out, stats)
            say(f"hotline {p}: {counts['hotline']:,} rows so far")
    if readme:
        (out / "README.md").write_text(readme_markdown(out, ctx, counts, stats, frames), encoding="utf-8")
        say("README.md written")
    return counts


# ================================================================================================ README
def _effect_measurements(ctx: _Context, stats: _Stats, frames: dict[str, pd.DataFrame]) -> list[str]:
    lines = []
    if "b07_wait_before" in stats.acc and "b07_wait_after" in stats.acc:
        before, after = stats.mean("b07_wait_before"), stats.mean("b07_wait_after")
        lines.append(f"- B07 mean `wait_s` (all contacts): {before:.1f} s before {B07_SHIFT_START}, {after:.1f} s "
                     f"from {B07_SHIFT_START} ({100 * (after / before - 1):+.0f} %); "
                     f"ASA {stats.mean('b07_asa_before'):.1f} s -> "
                     f"{stats.mean('b07_asa_after'):.1f} s; abandonment "
                     f"{100 * stats.mean('b07_aband_before'):.1f} % -> {100 * stats.mean('b07_aband_after'):.1f} %.")
    if "b04_fcr_before" in stats.acc and "b04_fcr_after" in stats.acc:
        lines.append(f"- B04 FCR (answered contacts): {stats.mean('b04_fcr_before'):.3f} before "
                     f"{B04_FCR_STEP_START}, {stats.mean('b04_fcr_after'):.3f} from {B04_FCR_STEP_START}.")
    c = frames.get("complaints")
    if c is not None:
        month = c["opened_at"].dt.strftime("%Y-%m")
        late = month >= BILLING_SURGE_START
        share_before = (c.loc[~late, "category"] == "billing").mean()
        share_after = (c.loc[late, "category"] == "billing").mean()
        per_month = c[c["category"] == "billing"].groupby(late[c["category"] == "billing"]).size() / \
            month.groupby(late).nunique()
        lines.append(f"- Billing complaints: {per_month.get(False, np.nan):.0f}/month and {100 * share_before:.1f} % "
                     f"of "
                     f"complaints before {BILLING_SURGE_START}; {per_month.get(True, np.nan):.0f}/month and "
                     f"{100 * share_after:.1f} % from {BILLING_SURGE_START}.")
        starts = _intervention_starts(ctx)
        cm = c["opened_at"].dt.to_period("M")
        for iid, spec in INTERVENTION_EFFECTS.items():
            br = starts[iid]
            sel = c["branch"].isin(list(br)) & (c["category"] == spec["category"])
            after = cm >= c["branch"].map({b: p for b, p in br.items()})
            m_after = sum(int((ctx.periods >= p).sum()) for p in br.values())
            m_before = len(br) * len(ctx.periods) - m_after
            lines.append(f"- {iid} ({spec['category']}, planted ratio {spec['rate_ratio']:.2f}): "
                         f"{(sel & ~after).sum() / max(m_before, 1):.1f} complaints per branch-month before the "
                         f"start, {(sel & after).sum() / max(m_after, 1):.1f} after, in the {len(br)} branch(es) "
                         f"it applies to (a crude comparison: trend and season not removed).")
        lines.append(f"- Complaints still open at the cut-off: {c['closed_at'].isna().sum()} of {len(c)}; reopened: "
                     f"{int(c['reopened'].sum())}.")
    a, ck = frames.get("audit_visits"), frames.get("checklist")
    if a is not None and ck is not None:
        vs = visit_scores(a, ck)
        body = vs.groupby("assessor_body")["score"].mean()
        lines.append(f"- Mean visit score (0-100, item-weighted, N/A excluded): city {body['city']:.1f}, provincial "
                     f"{body['provincial']:.1f} (difference {body['city'] - body['provincial']:+.1f}).")
        br = vs.groupby("branch")["score"].mean().sort_values()
        lines.append(f"- Lowest mean visit score: {br.index[0]} {br.iloc[0]:.1f} "
                     f"(network mean {vs['score'].mean():.1f};"
                     f" next lowest {br.index[1]} {br.iloc[1]:.1f}).")
    s = frames.get("survey")
    if s is not None:
        citc = corrected_item_total(s[s["instrument"] == "v2"], "P", DIMENSION_ITEMS["empathy"])
        lines.append(f"- Corrected item-total correlations of P18..P22 (empathy, v2 waves): "
                     + ", ".join(f"P{i} {v:.2f}" for i, v in citc.items()) + ".")
        v2 = s[s["instrument"] == "v2"]
        gaps = {d: np.nanmean(v2[[f"P{i}" for i in its]].to_numpy(float) - v2[[f"E{i}" for i in its]].to_numpy(float))
                for d, its in DIMENSION_ITEMS.items()}
        lines.append("- Mean P-E gap by dimension (v2 waves): " + ", ".join(f"{d} {g:+.2f}" for d, g in gaps.items())
                     + ".")
        e = v2[[f"E{i}" for i in range(1, N_ITEMS + 1)]].to_numpy(float)
        at_top = np.nanmean(np.where(np.isnan(e), np.nan, e == 7))
        p = v2[[f"P{i}" for i in range(1, N_ITEMS + 1)]].to_numpy(float)
        lines.append(f"- Expectation answers at the top of the scale (7): {100 * at_top:.0f} %; mean E "
                     f"{np.nanmean(e):.2f}, mean P {np.nanmean(p):.2f}.")
        imp = s[[f"I_{d}" for d in DIMENSIONS]]
        total = imp.sum(axis=1, min_count=5)
        lines.append(f"- Importance allocations: mean reliability {imp['I_reliability'].mean():.1f} points; "
                     f"{int((total.notna() & ((total - 100).abs() > 0.5)).sum())} of {len(s)} do not sum to 100, "
                     f"{int(total.isna().sum())} missing.")
        last = s[s["wave"].isin([str(w) for w in ctx.waves[-2:]])]
        A = last[[f"A{i}" for i in range(1, 23)]].to_numpy(float)
        D = last[[f"D{i}" for i in range(1, 23)]].to_numpy(float)
        both = ~np.isnan(A) & ~np.isnan(D)
        lines.append(f"- A/D pairs with desired < adequate: {int((D < A)[both].sum())} of {int(both.sum())}.")
    return lines


def visit_scores(audit_visits: pd.DataFrame, checklist: pd.DataFrame) -> pd.DataFrame:
    """Simple 0-100 visit score = 100 * sum(w * score) / sum(w * max) over applicable items (no section weights,
    no deductions): the yardstick used to document the planted audit effects (the audit module does the full
    scoring)."""
    a = audit_visits.merge(checklist[["item_id", "weight", "max_score"]], on="item_id", how="left")
    ok = a["score"].notna()
    a = a.assign(num=np.where(ok, a["weight"] * a["score"], 0.0), den=np.where(ok, a["weight"] * a["max_score"], 0.0))
    g = a.groupby(["visit_id", "branch", "period", "assessor_body"], as_index=False)[["num", "den"]].sum()
    g["score"] = 100 * g["num"] / g["den"]
    return g.drop(columns=["num", "den"])


def corrected_item_total(survey: pd.DataFrame, component: str, items: Iterable[int]) -> pd.Series:
    """Corrected item-total correlation (item vs the sum of the other items, complete cases) - the yardstick used
    to document the weak item; the reliability module does the full analysis."""
    cols = [f"{component}{i}" for i in items]
    x = survey[cols].astype(float).dropna().to_numpy()
    total = x.sum(axis=1)
    return pd.Series({int(c[len(component):]): np.corrcoef(x[:, j], total - x[:, j])[0, 1]
                      for j, c in enumerate(cols)})


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.iterdir() if p.is_file())
    return path.stat().st_size if path.exists() else 0


def readme_markdown(out: Path, ctx: _Context, counts: dict[str, int], stats: _Stats,
                    frames: dict[str, pd.DataFrame]) -> str:
    """``datasets/README.md``: layout, row counts and sizes, planted effects (with measured numbers), the data
    dictionary generated from :mod:`sqc.tables`, and how to regenerate."""
    n_days = (ctx.periods[-1].end_time.normalize() - ctx.periods[0].start_time).days + 1
    table_rows = ["| table | file | rows | size |", "|---|---|---:|---:|"]
    total = 0
    for name, rel in TABLE_FILES.items():
        if name in OPTIONAL_TABLES and not (out / rel).exists():
            continue  # an optional table the demo does not ship (described in the data dictionary below)
        size = _size(out / rel)
        total += size
        n_files = len(list((out / rel).glob("*.parquet"))) if (out / rel).is_dir() else 0
        where = f"`{rel}/` ({n_files} monthly files)" if name == "hotline" else f"`{rel}`"
        table_rows.append(f"| {name} | {where} | {counts.get(name, 0):,} | {size / 1e6:.2f} MB |")
    for version, rel in INSTRUMENT_FILES.items():
        size = _size(out / rel)
        total += size
        table_rows.append(f"| survey instrument {version} | `{rel}` | 22 | {size / 1e3:.1f} kB |")
    biggest = max((p.stat().st_size for p in out.rglob("*") if p.is_file() and p.name != "README.md"), default=0)
    effects = ["| # | effect | where | size | found by |", "|---|---|---|---|---|"]
    for i, e in enumerate(PLANTED_EFFECTS, 1):
        effects.append(f"| {i} | {e['effect']} | {e['where']} | {e['size']} | {e['found_by']} |")
    measured = _effect_measurements(ctx, stats, frames)
    kpis = []
    if "answered" in stats.acc:
        kpis = [f"Hotline, whole period: {stats.mean('contacts_per_day'):,.0f} contacts per day network-wide, "
                f"service level (answered within 20 s / offered) {100 * stats.mean('sl20'):.1f} %, ASA "
                f"{stats.mean('asa'):.1f} s, abandonment {100 * (1 - stats.mean('answered')):.1f} %, AHT "
                f"{stats.mean('aht'):.0f} s, FCR {100 * stats.mean('fcr'):.1f} %, CSAT mean {stats.mean('csat'):.2f} "
                f"(about 10 % of answered contacts surveyed)."]
    scale_note = "" if ctx.scale == 1 else f" **Generated at scale {ctx.scale:g}.**"
    return "\n".join([
        "# Demo service network (generated data)",
        "",
        "A regional telecom operator's service network, invented for sqc's demos and tests: 12 walk-in service "
        "halls (branches B01-B12) in 3 counties (Qingxi, Yunling, Hudong), a customer hotline (one queue per "
        "branch), a complaint register, quarterly SERVQUAL survey waves, monthly walk-through audits by two "
        "assessor bodies (provincial and city), incidents with fixed point deductions, KPI targets and monthly "
        f"volumes. {len(ctx.periods)} monthly periods, {ctx.periods[0]} .. {ctx.periods[-1]} ({n_days} days); "
        f"survey waves {', '.join(str(w) for w in ctx.waves)}. Every name, number and wording is invented.{scale_note}",
        "",
        "**Do not edit these files by hand.** They are written by `sqc.demo.generate()` (seed "
        f"{ctx.seed}); this README is generated too, from the table schemas in `sqc/tables.py`.",
        "",
        "## Regenerate",
        "",
        "```bash",
        "python -m sqc.demo --out datasets                 # exactly these files (same seed -> same tables)",
        "python -m sqc.demo --out /tmp/demo_x10 --scale 10 # x10 volumes for benchmarks (x100 also works)",
        "```",
        "",
        "`scale` multiplies hotline contacts, complaints, survey respondents and, so that rates stay realistic, "
        "walk-ins and active customers; audits, incidents, checklist, targets and branches do not scale. The "
        "hotline is generated day by day and written month by month in row groups of at most ~1M rows, so x100 "
        "runs in bounded memory (measured on a 2-core machine: ~3 s at x1, ~16 s at x10, ~3 min and ~0.7 GB peak "
        "memory at x100 for ~200 million contacts, ~670 MB of files). "
        "`generate(..., tables=[...], months=[...])` regenerates a subset (every draw is "
        "keyed by seed, table and month/day, so a subset is identical to the same part of a full run).",
        "",
        "## Files",
        "",
        *table_rows,
        "",
        f"Total {total / 1e6:.1f} MB; largest file {biggest / 1e6:.2f} MB. Small reference tables are UTF-8 CSV "
        "(as users export them); large tables are Parquet (zstd). The hotline is one Parquet file per month "
        "(`hotline/YYYY-MM.parquet`). Load everything, validated, with `sqc.io.load_network()`.",
        "",
        "## Planted effects",
        "",
        "Realistic in size, so that the analyses have something real to find (and tests check they do).",
        "",
        *effects,
        "",
        "Measured in this data (simple statistics, computed when the data were generated):",
        "",
        *measured,
        "",
        *([f"{kpis[0]}", ""] if kpis else []),
        "## Realism notes",
        "",
        "- Hotline: hours 08:00-22:00 with late-morning and mid-afternoon peaks; Monday busiest, Sunday quietest; "
        "volume dips on public holidays (Spring Festival, National Day). About 68 % of contacts are answered "
        "almost at once, the others wait a log-normal time that is longer in busy hours; callers abandon with "
        "exponential patience (mean 5 min, plus ~1 % short abandons under 5 s), so abandonment rises with the wait "
        "and `wait_s` of an abandoned contact is the time until hang-up. Handle time is log-normal (median ~4.5 min, "
        "mean ~5 min). CSAT (1-5) of ~10 % of answered contacts falls with the wait and rises with first-contact "
        "resolution.",
        "- Complaints: ~1 per 1000 active customers per month; time to close is log-normal by severity "
        "(median ~2.5 / 1.7 / 0.9 days for low / medium / high, a few complex cases ~6x longer); reopened cases "
        "close a second time later; cases not closed by the data cut-off are open (`closed_at` and `recovered` "
        "null) - use Kaplan-Meier for time to resolve.",
        "- Survey: a 5-factor model for perceptions (dimension factors correlated .65, loadings .72-.87) and for "
        "expectations (correlated .70, loadings .76-.88), with a moderate expectation-perception link (.40), "
        "answers rounded to the 1-7 scale (expectations hit the ceiling). Like real data it does not fit a clean "
        "5-factor model perfectly: a few items cross-load on a neighbouring dimension, similarly worded items share "
        "residual variance, and ~1.5 % of respondents are straight-liners (with the default seed, a 5-factor CFA of "
        "the v2 waves gives CFI ~.97, RMSEA ~.04 for P and E in R lavaan 0.6-14; alphas .80-.89). "
        "The two latest waves add the "
        "zone-of-tolerance columns A (adequate) and D (desired). The oldest wave used instrument v1 whose items 11 "
        "and 20 are worded negatively: their raw answers are reverse-keyed (recode 8 - x using "
        "`survey_instrument_v1.csv`).",
        "- Audits: every branch is visited every month by one provincial and one city assessor (4 and 3 assessors "
        "per body). Item scores are binomial on the item's maximum with a branch quality, a visit effect, an "
        "assessor effect and the body effect, so single visits are noisy (with the default seed, the variance of "
        "branch means is about a third of the total; quarterly branch means over 6 visits have a G coefficient of "
        "about .7-.85). N/A-able items are not applicable on some visits (EX04 always N/A at "
        "B03 and B12, no parking; HA04 always N/A at B08 and B11, no self-service terminals).",
        "- Incidents: fixed deductions per type (late or untrue report 0.5 points, upheld regulator complaint 1, "
        "unreported outage 2, safety violation 3) and one veto incident.",
        "",
        "## Data dictionary",
        "",
        "Generated from `sqc.tables.SCHEMAS` (`sqc.tables.data_dictionary_markdown()`); the same schemas are "
        "checked when the data are loaded.",
        "",
        data_dictionary_markdown(),
        "### survey_instrument_v1.csv / survey_instrument_v2.csv",
        "",
        "The item dictionary of each questionnaire version (format of `sqc.servqual.default_instrument()`): "
        "`item, dimension, reverse_keyed, scale_min, scale_max, text_en, text_zh`. v2 is the default instrument; "
        "v1 differs only in items 11 and 20, worded negatively and marked `reverse_keyed = true`.",
        "",
    ])


# ================================================================================================ CLI
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sqc.demo", description="Generate the sqc demo service network.")
    parser.add_argument("--out", required=True, help="output directory (created if needed)")
    parser.add_argument("--scale", type=float, default=1.0, help="volume multiplier (1 = committed demo size)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--end-period", default="2026-10", help="last month, YYYY-MM")
    parser.add_argument("--periods", type=int, default=24, help="number of monthly periods")
    parser.add_argument("--tables", nargs="*", help="only these tables")
    parser.add_argument("--months", nargs="*", help="only these hotline months (YYYY-MM)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    try:
        t0 = time.perf_counter()
        counts = generate(args.out, seed=args.seed, scale=args.scale, end_period=args.end_period,
                          n_periods=args.periods, tables=args.tables, months=args.months, verbose=not args.quiet)
    except ParameterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    size = _size(Path(args.out)) + _size(Path(args.out) / TABLE_FILES["hotline"])
    print(f"wrote {sum(v for k, v in counts.items() if k != 'instruments'):,} rows "
          f"({', '.join(f'{k} {v:,}' for k, v in counts.items())}) to {args.out} in "
          f"{time.perf_counter() - t0:.1f} s, {size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""SERVQUAL, SERVPERF, zone of tolerance, IPA, segment comparisons and the five-gap model (Methods §1-2).

Public API: :func:`default_instrument`, :class:`Instrument`, :func:`prepare_responses`, :func:`score`
(→ :class:`ServqualResult`), :func:`zone_of_tolerance`, :func:`compare_segments`, :func:`shrunken_means`,
:func:`segment_heatmap`, :func:`trend`, :func:`ipa`, :func:`gap_model`, :func:`default_mapping`,
:func:`difference_score_reliability`, :func:`hodges_lehmann`, :func:`paired_gap_tests`,
:func:`predictive_validity`. Warning codes are listed in :mod:`sqc.servqual.scoring`.
"""
from .instrument import (DEFAULT_DONT_KNOW, Instrument, PreparedResponses, default_instrument,
                         prepare_responses)
from .paired import difference_score_reliability, hodges_lehmann, paired_gap_tests
from .scoring import DEFAULT_THRESHOLDS, ServqualResult, score
from .validity import predictive_validity
from .zot import ZotResult, zone_of_tolerance
from .segments import SegmentComparison, compare_segments, group_summary, segment_heatmap, shrunken_means, trend
from .ipa import IpaResult, ipa
from .gapmodel import (GapModelResult, audit_conformance, default_mapping, gap_model, kpi_conformance)

__all__ = ["DEFAULT_DONT_KNOW", "DEFAULT_THRESHOLDS", "Instrument", "PreparedResponses", "ServqualResult",
           "ZotResult", "default_instrument", "difference_score_reliability", "hodges_lehmann",
           "paired_gap_tests", "predictive_validity", "prepare_responses", "score", "zone_of_tolerance",
           "SegmentComparison", "compare_segments", "group_summary", "segment_heatmap", "shrunken_means", "trend",
           "IpaResult", "ipa", "GapModelResult", "audit_conformance", "default_mapping", "gap_model",
           "kpi_conformance"]

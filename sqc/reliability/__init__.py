"""Survey reliability and validity (Methods §1.9-1.10), matching R psych 2.2.9 and lavaan 0.6.14.

Public API (issue 5):

* :func:`alpha` — Cronbach's alpha, standardized alpha, G6, average r, S/N, Feldt / Duhachek / bootstrap CIs, item
  statistics with alpha-if-deleted, response frequencies; pairwise or listwise with the N used.
* :func:`omega` — omega hierarchical / total (Schmid–Leiman as psych), group omegas; ``nfactors=1`` for the
  one-factor omega total.
* :func:`split_half` — λ4 (max split), β (min split), average split, λ2, λ6, glb, Spearman–Brown on a chosen split.
* :func:`kmo`, :func:`bartlett`, :func:`efa` (minres / ML; none, varimax, promax, oblimin), :func:`parallel_analysis`.
* :func:`cfa` — ML CFA of a declared model with χ², CFI, TLI, RMSEA (90 % CI), SRMR, standardized loadings, CR,
  AVE, Fornell–Larcker and HTMT.
* :func:`response_screens` — straight-lining, ceiling/floor shares, low-variance items.
* Inter-rater agreement, implemented in :mod:`sqc.agreement` and re-exported here: :func:`icc`, :func:`kappa`,
  :func:`fleiss_kappa`, :func:`krippendorff_alpha`, :func:`gwet_ac1`, :func:`bland_altman`.

Warning codes W-REL-01 … W-REL-18 are documented in the module that raises them (alpha, factor, omega, cfa,
screens). Bad input raises :class:`sqc.errors.DataError` / ``InsufficientDataError`` / ``ParameterError``, or is
excluded and counted (all-missing / constant items: ``result.exclusions`` plus W-REL-04).
"""
from __future__ import annotations

from ..agreement import bland_altman, fleiss_kappa, gwet_ac1, icc, kappa, krippendorff_alpha
from .alpha import AlphaResult, alpha, feldt_ci
from .cfa import CFAResult, cfa
from .factor import (BartlettResult, EFAResult, KMOResult, ParallelResult, bartlett, efa, kmo, oblimin,
                     parallel_analysis, varimax)
from .omega import OmegaResult, SplitHalfResult, omega, split_half
from .screens import ScreenResult, response_screens

__all__ = ["AlphaResult", "alpha", "feldt_ci", "KMOResult", "kmo", "BartlettResult", "bartlett", "EFAResult",
           "efa", "ParallelResult", "parallel_analysis", "oblimin", "varimax", "OmegaResult", "omega",
           "SplitHalfResult", "split_half", "CFAResult", "cfa", "ScreenResult", "response_screens",
           "icc", "kappa", "fleiss_kappa", "krippendorff_alpha", "gwet_ac1", "bland_altman"]

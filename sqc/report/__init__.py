"""Dashboard assembly (Panel). Imported only by notebooks, the CLI and the served app — never by ``import sqc``."""
from .context import ComputeContext, ReportContext, Section, SectionResult, translate

__all__ = ["ComputeContext", "ReportContext", "Section", "SectionResult", "translate"]

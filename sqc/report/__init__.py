"""Dashboard assembly (Panel). Imported only by notebooks, the CLI and the served app — never by ``import sqc``."""
from .context import ReportContext, Section, translate

__all__ = ["ReportContext", "Section", "translate"]

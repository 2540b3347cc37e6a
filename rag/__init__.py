"""rag: cited answers and daily digests over a news corpus, offline by default.

Public API: ingest, ask, digest, brief, Settings, load_settings, and the error tree in rag.errors.
"""

from rag.answer import ask
from rag.brief import brief
from rag.config import Settings, load_settings
from rag.digest import digest
from rag.errors import RagError
from rag.ingest import ingest

__all__ = ["RagError", "Settings", "ask", "brief", "digest", "ingest", "load_settings"]

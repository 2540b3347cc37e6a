"""rag: cited answers and daily digests over a news corpus, offline by default.

Public API: ingest, ask, digest, brief, Settings, load_settings, and the error tree in rag.errors.
Each name is imported on first use (PEP 562), so `import rag` loads none of the models, stores or parsers
behind them; `from rag import ask` costs what `ask` needs.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rag.answering.answer import ask
    from rag.config import Settings, load_settings
    from rag.errors import RagError
    from rag.ingest import ingest
    from rag.summarise.brief import brief
    from rag.summarise.digest import digest

_WHERE = {"ask": "rag.answering.answer", "brief": "rag.summarise.brief", "Settings": "rag.config", "load_settings": "rag.config",
          "digest": "rag.summarise.digest", "RagError": "rag.errors", "ingest": "rag.ingest"}

__all__ = ["RagError", "Settings", "ask", "brief", "digest", "ingest", "load_settings"]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'rag' has no attribute {name!r}")
    value = getattr(import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])

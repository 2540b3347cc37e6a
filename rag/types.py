"""The data that flows through the pipeline: ingest -> chunk -> embed -> store -> retrieve -> answer.

Offsets are character offsets into `Article.text` as stored in the index, so that
`article.text[start:end]` is always the exact cited passage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

DateSource = Literal["metadata", "text", "flag", "none"]


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    text: str
    date: str | None = None  # ISO YYYY-MM-DD publication day, or None when unknown
    url: str | None = None
    source: str | None = None
    author: str | None = None
    date_source: DateSource = "none"
    path: str | None = None  # where it was read from

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "title": self.title,
            "date": self.date,
            "date_source": self.date_source,
            "url": self.url,
            "source": self.source,
            "author": self.author,
            "text": self.text,
        }


@dataclass(frozen=True)
class Chunk:
    """A span of an article: `text == article.text[start:end]`."""

    article_id: str
    index: int
    start: int
    end: int
    text: str

    @property
    def id(self) -> str:
        return f"{self.article_id}#{self.index}"


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with the metadata needed to cite it."""

    chunk_id: str
    article_id: str
    title: str
    date: str | None
    url: str | None
    start: int
    end: int
    text: str
    score: float = 0.0


@dataclass(frozen=True)
class Citation:
    n: int
    article_id: str
    title: str
    date: str | None
    url: str | None
    start: int
    end: int
    text: str

    def to_dict(self) -> dict[str, object]:
        return {
            "n": self.n,
            "article_id": self.article_id,
            "title": self.title,
            "date": self.date,
            "url": self.url,
            "start": self.start,
            "end": self.end,
            "text": self.text,
        }


@dataclass
class Answer:
    question: str
    answer: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    related: list[Passage] = field(default_factory=list)  # shown when refused, never as sources
    dropped: list[str] = field(default_factory=list)  # sentences removed by verification
    usage: dict[str, float] = field(default_factory=dict)
    dates: Any = None  # the DateRange searched (rag.retrieve), or None

    def to_dict(self) -> dict[str, object]:
        return {
            "answer": self.answer,
            "refused": self.refused,
            "citations": [c.to_dict() for c in self.citations],
            "usage": dict(self.usage),
        }

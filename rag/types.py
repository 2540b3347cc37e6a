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


@dataclass(frozen=True)
class Refusal:
    """Why an answer was refused: the stage that decided (rag.answering.answer) and a detail for the reader."""

    stage: str  # date_window | no_passage | unknown_name | model | unverified
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"stage": self.stage, "detail": self.detail}


@dataclass
class Answer:
    question: str
    answer: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    related: list[Passage] = field(default_factory=list)  # shown when refused, never as sources
    dropped: list[str] = field(default_factory=list)  # sentences removed by verification
    usage: dict[str, float] = field(default_factory=dict)
    dates: Any = None  # the DateRange searched (rag.answering.retrieve), or None
    refusal: Refusal | None = None  # set when refused

    def to_dict(self) -> dict[str, object]:
        return {
            "answer": self.answer,
            "refused": self.refused,
            "refusal": self.refusal.to_dict() if self.refusal else None,
            "citations": [c.to_dict() for c in self.citations],
            "usage": dict(self.usage),
        }


@dataclass(frozen=True)
class StoryRef:
    """Points at a story of an earlier day: its date, its place in that day's stories, its articles."""

    date: str
    story: int  # index in that day's stories
    title: str  # headline of the story's lead article (known without a model call)
    article_ids: list[str]

    def to_dict(self) -> dict[str, object]:
        return {"date": self.date, "story": self.story, "title": self.title, "article_ids": list(self.article_ids)}


@dataclass
class Story:
    """Articles of one day about one event, with a headline and a summary whose sentences are cited."""

    headline: str
    summary: str
    article_ids: list[str]
    citations: list[Citation] = field(default_factory=list)
    continues: StoryRef | None = None
    extractive: bool = False  # the model's summary failed verification: these are the articles' own sentences

    def to_dict(self) -> dict[str, object]:
        return {
            "headline": self.headline,
            "summary": self.summary,
            "article_ids": list(self.article_ids),
            "citations": [c.to_dict() for c in self.citations],
            "continues": self.continues.to_dict() if self.continues else None,
        }


@dataclass
class DayDigest:
    date: str
    articles: list[str]  # ids of the day's articles
    stories: list[Story] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {"date": self.date, "articles": list(self.articles), "stories": [s.to_dict() for s in self.stories]}


@dataclass
class Digest:
    days: list[DayDigest]
    articles: dict[str, Article] = field(default_factory=dict)  # every article cited or listed, for rendering
    usage: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {"days": [d.to_dict() for d in self.days]}


@dataclass
class BriefItem:
    """One sentence (or a few) of a brief with its own verified citations; `date` for timeline entries."""

    text: str
    citations: list[Citation] = field(default_factory=list)
    date: str | None = None
    extractive: bool = False

    def to_dict(self, dated: bool = False) -> dict[str, object]:
        """{"text", "citations"}; with `dated` (timeline entries) also "date", null when unknown."""
        d: dict[str, object] = {"text": self.text, "citations": [c.to_dict() for c in self.citations]}
        return {"date": self.date, **d} if dated else d


@dataclass
class Brief:
    topic: str
    articles: list[str]  # ids considered (passed the relevance cut), in date order
    overview: list[BriefItem] = field(default_factory=list)
    timeline: list[BriefItem] = field(default_factory=list)
    conflicts: list[BriefItem] = field(default_factory=list)
    coverage: dict[str, object] = field(default_factory=dict)
    relevance: dict[str, float] = field(default_factory=dict)  # article id -> best chunk cosine to the topic
    sources: dict[str, Article] = field(default_factory=dict)  # for rendering
    usage: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "topic": self.topic,
            "articles": list(self.articles),
            "overview": [i.to_dict() for i in self.overview],
            "timeline": [i.to_dict(dated=True) for i in self.timeline],
            "conflicts": [i.to_dict() for i in self.conflicts],
            "coverage": self.coverage,
        }

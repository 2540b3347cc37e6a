"""Gold data for the eval harness: JSONL files in `eval/gold/`, one item per line, validated on load.

A question item (`GoldItem`) says what a good answer must hold: the facts (each a list of accepted
spellings), the gold passages (verbatim spans of named articles; their offsets are found on load, and a
passage that does not occur in its article is an error), and whether the articles answer it at all.
A digest item (`DigestCheck`) names the articles a day's digest must cover.

Every malformed line raises `GoldError` with one line naming the file, the line and the field.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from rag.errors import RagError
from rag.types import Article

# fact, date, two-article: the first blind set; comparison ("which was larger, A or B?"), order ("how many days
# after X did Y?"), arithmetic (totals, differences) and joined ("who won, and by how much?"): two-part questions.
Kind = Literal["fact", "date", "two-article", "comparison", "order", "arithmetic", "joined", "unanswerable"]


class GoldError(RagError):
    """A gold file cannot be used: names the file, line and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GoldPassage(_Strict):
    article_id: str = Field(min_length=1, description="Id of the article the passage comes from.")
    text: str = Field(min_length=3, description="A verbatim span of that article's text.")


class GoldItem(_Strict):
    id: str = Field(min_length=1, description="Unique within the file.")
    question: str = Field(min_length=3)
    kind: Kind
    facts: list[list[str]] = Field(
        default_factory=list, description="Each fact: accepted spellings (aliases, number formats); one must occur."
    )
    passages: list[GoldPassage] = Field(default_factory=list, description="Where the facts are stated.")
    since: str | None = Field(default=None, description="Optional date scope passed to ask() (ISO, inclusive).")
    until: str | None = None
    as_of: str | None = Field(
        default=None, pattern=r"^\d{4}-\d{2}-\d{2}$",
        description="The day relative dates in the question are read against (default: the set's as_of).",
    )
    split: Literal["tune", "test"] | None = Field(
        default=None,
        description="tune: heuristics, prompts and thresholds may be changed while looking at it; test: reported only.",
    )
    note: str = ""

    @property
    def answerable(self) -> bool:
        return self.kind != "unanswerable"

    @field_validator("facts")
    @classmethod
    def _facts_nonempty(cls, v: list[list[str]]) -> list[list[str]]:
        for aliases in v:
            if not aliases or not all(a.strip() for a in aliases):
                raise ValueError("every fact needs at least one non-empty spelling")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> GoldItem:
        if self.answerable and not (self.facts and self.passages):
            raise ValueError(f"a {self.kind!r} item needs 'facts' and 'passages'")
        if not self.answerable and (self.facts or self.passages):
            raise ValueError("an 'unanswerable' item must have no 'facts' or 'passages'")
        if self.kind == "two-article" and len({p.article_id for p in self.passages}) < 2:
            raise ValueError("a 'two-article' item needs passages from two articles")
        return self


class Claim(_Strict):
    """A labelled claim for the verifier's eval: a sentence and the evidence span it is checked against."""

    id: str = Field(min_length=1)
    kind: Literal["verbatim", "paraphrase", "summary", "name", "number", "date", "negation", "role", "unrelated"]
    label: Literal["supported", "unsupported"]
    claim: str = Field(min_length=3)
    article_id: str = Field(min_length=1)
    evidence: str = Field(min_length=3, description="A verbatim span of the article: one to three whole sentences.")
    split: Literal["tune", "test"] | None = None
    note: str = ""

    @model_validator(mode="after")
    def _label_fits_kind(self) -> Claim:
        supported = self.kind in ("verbatim", "paraphrase", "summary")
        if supported != (self.label == "supported"):
            raise ValueError(f"a {self.kind!r} claim must be labelled {'supported' if supported else 'unsupported'}")
        return self


def load_claims(path: Path) -> list[Claim]:
    return _load(path, Claim)


class DigestCheck(_Strict):
    date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    must_cover: list[str] = Field(min_length=1, description="Article ids that some story of the day must include.")
    together: list[list[str]] = Field(
        default_factory=list, description="Groups of article ids about one event: each must fall in one story."
    )
    note: str = ""


class Span(BaseModel):
    """A located span: `article_text[start:end] == text`."""

    model_config = ConfigDict(frozen=True)
    article_id: str
    start: int
    end: int


T = TypeVar("T", bound=BaseModel)


def _load(path: Path, model: type[T]) -> list[T]:
    try:
        lines = Path(path).read_text(encoding="utf-8").split("\n")
    except OSError as e:
        raise GoldError(f"cannot read gold file {path}: {e.strerror or e}") from e
    out: list[T] = []
    for n, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as e:
            raise GoldError(f"{path}:{n}: invalid JSON ({e.msg} at column {e.colno})") from e
        try:
            out.append(model.model_validate(raw))
        except ValidationError as e:
            err = e.errors()[0]
            field = ".".join(str(x) for x in err["loc"]) or "(item)"
            raise GoldError(f"{path}:{n}: field {field}: {err['msg']}") from e
    if not out:
        raise GoldError(f"{path}: no items")
    return out


def load_gold(path: Path, articles: Mapping[str, Article] | None = None) -> list[GoldItem]:
    """Question items of a gold file; with `articles`, each gold passage must occur in its article."""
    items = _load(path, GoldItem)
    seen: dict[str, int] = {}
    for n, it in enumerate(items):
        if it.id in seen:
            raise GoldError(f"{path}: field id: {it.id!r} is used twice")
        seen[it.id] = n
    if articles is not None:
        locate_all(path, items, articles)
    return items


def load_digest_checks(path: Path) -> list[DigestCheck]:
    return _load(path, DigestCheck)


def locate(passage: GoldPassage, articles: Mapping[str, Article]) -> Span | None:
    a = articles.get(passage.article_id)
    if a is None:
        return None
    i = a.text.find(passage.text)
    return None if i < 0 else Span(article_id=a.id, start=i, end=i + len(passage.text))


def locate_all(path: Path, items: list[GoldItem], articles: Mapping[str, Article]) -> dict[str, list[Span]]:
    """Gold spans per item id; a passage missing from its article is a GoldError naming the item."""
    lines = _line_numbers(path)
    out: dict[str, list[Span]] = {}
    for it in items:
        spans = []
        for k, p in enumerate(it.passages):
            if p.article_id not in articles:
                raise GoldError(f"{path}:{lines.get(it.id, '?')}: field passages.{k}.article_id: "
                                f"no article {p.article_id!r} in the eval corpus")
            span = locate(p, articles)
            if span is None:
                raise GoldError(f"{path}:{lines.get(it.id, '?')}: field passages.{k}.text: "
                                f"not a verbatim span of article {p.article_id!r}: {p.text[:60]!r}")
            spans.append(span)
        out[it.id] = spans
    return out


def _line_numbers(path: Path) -> dict[str, int]:
    out: dict[str, int] = {}
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(rec, dict) and "id" in rec:
            out[str(rec["id"])] = n
    return out

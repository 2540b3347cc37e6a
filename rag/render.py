"""Plain-text rendering of results for the terminal (JSON comes from the types' to_dict)."""

from __future__ import annotations

import textwrap

from rag.ingest import IngestReport
from rag.types import Answer


def _clean(text: str) -> str:
    """Article text made safe for a terminal: no control or bidi-override characters."""
    return "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in text)


def _highlight(article_text: str, start: int, end: int) -> str:
    """The cited span inside up to 200 characters of its paragraph, the span bold on a terminal
    (marked »like this« elsewhere)."""
    lo = max(0, article_text.rfind("\n", 0, start) + 1, start - 200)
    hi = min(len(article_text), start + max(end - start, 0) + 200)
    nl = article_text.find("\n", end)
    if nl != -1:
        hi = min(hi, nl)
    before, span, after = (_clean(article_text[lo:start]), _clean(article_text[start:end]), _clean(article_text[end:hi]))
    if _color():
        return f"{'…' if lo > 0 else ''}{before}\x1b[1;33m{span}\x1b[0m{after}{'…' if hi < len(article_text) else ''}"
    return f"{'…' if lo > 0 else ''}{before}»{span}«{after}{'…' if hi < len(article_text) else ''}"


def _color() -> bool:
    import os
    import sys

    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def answer_text(a: Answer, articles: dict[str, str] | None = None, skip_answer: bool = False) -> str:
    """Answer, then numbered sources: title, date, url, id and offsets, the passage with the span marked."""
    articles = articles or {}
    lines = [] if skip_answer else [textwrap.fill(_clean(a.answer), 100), ""]
    if a.citations:
        lines.append("Sources:")
        for c in a.citations:
            head = f"[{c.n}] {_clean(c.title)} ({c.date or 'undated'})" + (f" {c.url}" if c.url else "")
            lines.append(head)
            lines.append(f"    {c.article_id} [{c.start}:{c.end}]")
            text = articles.get(c.article_id)
            body = _highlight(text, c.start, c.end) if text is not None else textwrap.fill(_clean(c.text), 96)
            lines.append(textwrap.indent(body, "    "))
    elif a.related:
        lines.append("Related passages (they do not answer the question):")
        for p in a.related:
            lines.append(f"- {_clean(p.title)} ({p.date or 'undated'}) {p.article_id} [{p.start}:{p.end}]")
            lines.append(textwrap.indent(textwrap.fill(_clean(p.text[:300]), 96), "    "))
    return "\n".join(lines)


def ingest_text(r: IngestReport) -> str:
    out = [
        f"added {r.added}, updated {r.updated}, unchanged {r.unchanged}, duplicates {r.duplicates}, "
        f"rejected {len(r.rejected)}; index: {r.articles} articles, {r.chunks} chunks"
    ]
    out += [f"rejected {x['path']}: {x['reason']}" for x in r.rejected]
    return "\n".join(out)

"""Plain-text rendering of results for the terminal (JSON comes from the types' to_dict)."""

from __future__ import annotations

import contextlib
import textwrap
import time
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING

from rag.ingest import IngestReport
from rag.render.terminal import safe as _clean  # the one terminal-safety rule (rag.render.terminal)
from rag.types import Answer

if TYPE_CHECKING:
    from rag.check import CheckReport
    from rag.ingest.feeds import Feed, UpdateReport


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
            head = f"[{c.n}] {_clean(c.title)} ({c.date or 'undated'})" + (f" {_clean(c.url)}" if c.url else "")
            lines.append(head)
            lines.append(f"    {_clean(c.article_id)} [{c.start}:{c.end}]")
            text = articles.get(c.article_id)
            body = _highlight(text, c.start, c.end) if text is not None else textwrap.fill(_clean(c.text), 96)
            lines.append(textwrap.indent(body, "    "))
    elif a.related:
        lines.append("Related passages (they do not answer the question):")
        for p in a.related:
            lines.append(f"- {_clean(p.title)} ({p.date or 'undated'}) {_clean(p.article_id)} [{p.start}:{p.end}]")
            lines.append(textwrap.indent(textwrap.fill(_clean(p.text[:300]), 96), "    "))
    return "\n".join(lines)


def check_text(report: CheckReport) -> str:
    """Each statement marked with its verdict, its reason, and the evidence span that decided it."""
    marks = {"supported": "✓", "contradicted": "✗", "unsupported": "✗", "no_evidence": "?"}
    lines = []
    for st in report.statements:
        v = st.verdict
        lines.append(f"{marks[v.verdict]} {v.verdict}: {_clean(st.text)}")
        lines.append(f"    {_clean(v.reason)}")
        for c in st.citations():
            lines.append(f"    {_clean(c.title)} ({c.date or 'undated'}) {c.article_id} [{c.start}:{c.end}]")
            lines.append(textwrap.indent(textwrap.fill(f"«{_clean(c.text)}»", 96), "    "))
    n = len(report.statements)
    lines.append(f"\n{report.supported} of {n} statement{'s' if n != 1 else ''} supported")
    return "\n".join(lines)


def ingest_notes(r: IngestReport) -> list[str]:
    """What the JSON contract does not carry: duplicates' originals, undated articles."""
    out = [f"duplicate {_clean(d)} is a copy of {_clean(o)} (not indexed)" for d, o in r.duplicate_of.items()]
    if r.undated:
        shown = ", ".join(_clean(i) for i in r.undated[:10]) + (" ..." if len(r.undated) > 10 else "")
        out.append(f"{len(r.undated)} article(s) have no date (none given, none stated in the text): {shown}; "
                   "set one with --date or in the input's metadata")
    return out


def ingest_text(r: IngestReport) -> str:
    out = [
        f"added {r.added}, updated {r.updated}, unchanged {r.unchanged}, duplicates {r.duplicates}, "
        f"rejected {len(r.rejected)}; index: {r.articles} articles, {r.chunks} chunks"
    ]
    out += ingest_notes(r)
    out += [f"rejected {_clean(x['path'])}: {_clean(x['reason'])}" for x in r.rejected]
    return "\n".join(out)


def usage_text(usage: dict[str, float]) -> str:
    """One line of token and time accounting, e.g. for --verbose on stderr."""
    parts = []
    if "calls" in usage:
        parts.append(f"{usage['calls']:g} LLM call(s), {usage.get('prompt_tokens', 0):g} prompt + "
                     f"{usage.get('completion_tokens', 0):g} completion tokens in {usage.get('llm_seconds', 0):.2f} s")
        if "cached_prompt_tokens" in usage:
            parts[-1] += f" ({usage['cached_prompt_tokens']:g} prompt tokens from the model's cache)"
    if "retrieve_seconds" in usage:
        parts.append(f"retrieval {usage['retrieve_seconds']:.2f} s")
    if "embed_texts" in usage:
        parts.append(f"{usage['embed_texts']:g} texts embedded in {usage['embed_calls']:g} call(s), "
                     f"{usage['embed_seconds']:.2f} s")
    if "seconds" in usage:
        parts.append(f"total {usage['seconds']:.2f} s")
    return "usage: " + "; ".join(parts)


@contextlib.contextmanager
def ingest_progress(stream: IO[str]) -> Iterator[Callable[[int, int], None] | None]:
    """A live progress line on `stream` when it is a terminal; otherwise no callback at all."""
    if not stream.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    cols = (SpinnerColumn(), TextColumn("ingest: {task.fields[articles]} articles read, "
                                        "{task.fields[chunks]} chunks embedded"), TimeElapsedColumn())
    with Progress(*cols, console=Console(file=stream), transient=True) as bar:
        task = bar.add_task("ingest", total=None, articles=0, chunks=0)

        def update(articles: int, chunks: int) -> None:
            bar.update(task, articles=articles, chunks=chunks)

        yield update


def list_text(total: int, rows: list[dict[str, str | None]]) -> str:
    """One line per article (date, id, source, title), and how many more matched than are shown."""
    lines = [f"{r['date'] or 'undated':<10}  {_clean(r['id'] or '')}  [{_clean(r['source'] or '-')}]  {_clean(r['title'] or '')}"
             for r in rows]
    if total > len(rows):
        lines.append(f"... {total - len(rows)} more (raise --limit, or narrow with --since/--until/--source)")
    return "\n".join(lines) if lines else "no indexed article matches"


def stats_text(st: dict[str, object]) -> str:
    rng = st.get("date_range") or {}
    first, last = (rng.get("first"), rng.get("last")) if isinstance(rng, dict) else (None, None)
    lines = [
        f"{st['articles']} articles, {st['chunks']} chunks, {st['duplicates']} duplicates recorded, "
        f"{st['undated']} undated" + (f", {st['pending']} pending (`rag ingest` finishes them)" if st["pending"] else ""),
        f"dates: {_clean(str(first))} .. {_clean(str(last))}" if first else "dates: none",
    ]
    sources = st.get("sources") or {}
    if isinstance(sources, dict):
        lines.append("sources: " + ", ".join(f"{_clean(str(k))} ({v})" for k, v in list(sources.items())[:10]))
    return "\n".join(lines)


_STAGES = {"feeds": "feeds fetched", "pages": "article pages fetched", "articles": "articles ingested",
           "briefs": "briefs written"}


@contextlib.contextmanager
def stage_progress(stream: IO[str], enabled: bool) -> Iterator[Callable[[str, int, int | None], None] | None]:
    """Progress bars on `stream` for the long steps of `rag update` / `rag daily` (feeds fetched, pages
    fetched, articles ingested, briefs written), when enabled and `stream` is a terminal; else no callback."""
    if not enabled or not stream.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(file=stream), transient=True) as bar:
        tasks: dict[str, object] = {}

        def update(stage: str, done: int, total: int | None) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(_STAGES.get(stage, stage), total=total)
            bar.update(tasks[stage], completed=done, total=total)  # type: ignore[arg-type]

        yield update


def update_text(r: UpdateReport) -> str:
    """What `rag update` prints: feeds, entries, pages, the ingest counts, then each failure and warning."""
    i = r.ingest
    out = [f"feeds {r.feeds} ({r.unchanged_feeds} unchanged), entries {r.entries} ({r.skipped_entries} seen before), "
           f"pages fetched {r.pages}; added {i.added}, updated {i.updated}, unchanged {i.unchanged}, "
           f"duplicates {i.duplicates}, failed {len(r.failed) + len(i.rejected)}; index: {i.articles} articles"]
    out += [f"note: {_clean(w)}" for w in ingest_notes(i) + r.warnings]
    out += [f"failed {_clean(f['url'])}: {_clean(f['reason'])}" for f in r.failed]
    out += [f"rejected {_clean(x['path'])}: {_clean(x['reason'])}" for x in i.rejected]
    return "\n".join(out)


def feeds_text(feeds: list[Feed]) -> str:
    """One block per feed: name and URL, then its last update's outcome."""
    if not feeds:
        return "no feeds: add one with `rag feeds add URL`"
    lines = []
    for f in feeds:
        state = f.status or "not fetched yet"
        if f.checked_at:
            state += time.strftime(" at %Y-%m-%d %H:%M", time.localtime(f.checked_at))
        if f.entries is not None:
            state += f", {f.entries} entries"
        lines.append(f"{_clean(f.label)}  {_clean(f.url)}")
        lines.append(f"    {_clean(state)}" + (f": {_clean(f.error)}" if f.error else ""))
    return "\n".join(lines)

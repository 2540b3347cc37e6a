"""Digest rendering: terminal text, Markdown, and one self-contained HTML page (JSON is Digest.to_dict).

The HTML page (a Jinja2 template, rag/assets/digest.html.j2, autoescaped) has no external resources and
no script: every article-derived string is escaped by the engine;
each citation mark links to the cited passage (an element shown via CSS `:target`), which displays the
surrounding sentences with the supporting span highlighted.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from datetime import date as Date

from rag.render.html import safe_url
from rag.render.terminal import safe as _clean  # the one terminal-safety rule (rag.render.terminal)
from rag.render.terminal import safe_json
from rag.types import Article, Citation, Digest, Story

CONTEXT_CHARS = 240  # article text shown around a cited span in HTML


def _day_title(iso: str) -> str:
    d = Date.fromisoformat(iso)
    return f"{d.strftime('%A')} {d.day} {d.strftime('%B %Y')}"


def _continues(s: Story) -> str:
    c = s.continues
    return f"Developing: continues \u201c{c.title}\u201d ({c.date})" if c else ""


def digest_text(d: Digest) -> str:
    out: list[str] = []
    for day in d.days:
        out.append(f"== {_day_title(day.date)} ({day.date}) ==")
        if not day.articles:
            out += ["No articles on this date.", ""]
            continue
        out.append(f"{len(day.articles)} article(s), {len(day.stories)} stor{'y' if len(day.stories) == 1 else 'ies'}")
        for s in day.stories:
            out.append("")
            out.append(("* " + _clean(s.headline)) + ("  [developing]" if s.continues else ""))
            if s.continues:
                out.append("  " + _clean(_continues(s)))
            out.append(textwrap.indent(textwrap.fill(_clean(s.summary), 96), "  "))
            for c in s.citations:
                out.append(f"    [{c.n}] {_clean(c.title)} ({_clean(c.article_id)} [{c.start}:{c.end}])")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _md_escape(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", _clean(text))


def md_code(text: str) -> str:
    """Text as one inline Markdown code span, whatever it holds: whitespace (newlines too, which would
    start a new block) collapsed, a fence longer than any run of backticks inside, padded with a space
    when the text starts or ends with a backtick (CommonMark strips one space each side).

    >>> md_code("a`b")
    '``a`b``'
    >>> md_code("`x")
    '`` `x ``'
    """
    t = " ".join(_clean(text).split())
    fence = "`" * (max((len(r) for r in re.findall(r"`+", t)), default=0) + 1)
    pad = " " if t.startswith("`") or t.endswith("`") else ""
    return f"{fence}{pad}{t}{pad}{fence}"


def digest_markdown(d: Digest) -> str:
    out: list[str] = ["# News digest", ""]
    for day in d.days:
        out += [f"## {_day_title(day.date)}", ""]
        if not day.articles:
            out += ["_No articles on this date._", ""]
            continue
        for s in day.stories:
            out.append(f"### {_md_escape(s.headline)}")
            out.append("")
            if s.continues:
                out += [f"_{_md_escape(_continues(s))}_", ""]
            body = re.sub(r"\\\[(\d+)\\\]", r"[\1]", _md_escape(s.summary))
            out += [body, ""]
            for c in s.citations:
                url = safe_url(c.url)
                link = f"[{_md_escape(c.title)}](<{url}>)" if url else _md_escape(c.title)
                out.append(f"{c.n}. {link} ({c.date or 'undated'}, {md_code(c.article_id)} {c.start}-{c.end}): "
                           f"\u201c{_md_escape(' '.join(c.text.split()))}\u201d")
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def _sentence_window(text: str, start: int, end: int) -> tuple[int, int]:
    """Bounds around [start, end) of about CONTEXT_CHARS each side, cut at whitespace."""
    a = max(0, start - CONTEXT_CHARS)
    b = min(len(text), end + CONTEXT_CHARS)
    if a > 0:
        sp = text.find(" ", a, start)
        a = sp + 1 if sp != -1 else a
    if b < len(text):
        sp = text.rfind(" ", end, b)
        b = sp if sp != -1 else b
    return a, b


def cite_context(articles: dict[str, Article]) -> Callable[[Citation], dict[str, object] | None]:
    """For the page templates: the article text around a citation (None when the citation's text is not
    the article's at its offsets: then only the cited text is shown)."""

    def context(c: Citation) -> dict[str, object] | None:
        a = articles.get(c.article_id)
        if a is None or a.text[c.start : c.end] != c.text:
            return None
        lo, hi = _sentence_window(a.text, c.start, c.end)
        return {"before": a.text[lo : c.start], "after": a.text[c.end : hi], "before_cut": lo > 0,
                "after_cut": hi < len(a.text)}

    return context


def digest_html(d: Digest) -> str:
    """One self-contained page (rag/assets/digest.html.j2, autoescaped by Jinja2)."""
    from rag.render.html import render

    span = f"{d.days[0].date} to {d.days[-1].date}" if len(d.days) > 1 else (d.days[0].date if d.days else "")
    return render("digest.html.j2", **digest_values(d), span=span, title=f"News digest {span}")


def digest_values(d: Digest, day_href: Callable[[str], str] | None = None,
                  article_href: Callable[[Citation], str] | None = None) -> dict[str, object]:
    """What rag/assets/digest_days.html.j2 renders (the static page, and the web app's day page with links)."""
    days = [{"date": day.date, "title": _day_title(day.date), "articles": day.articles, "stories": day.stories}
            for day in d.days]
    return {"days": days, "shown": {day.date for day in d.days}, "titles": {i: a.title for i, a in d.articles.items()},
            "context": cite_context(d.articles), "day_href": day_href, "article_href": article_href}


def render_digest(d: Digest, fmt: str) -> str:
    import json

    if fmt == "json":
        return safe_json(json.dumps(d.to_dict(), ensure_ascii=False)) + "\n"
    return {"text": digest_text, "md": digest_markdown, "html": digest_html}[fmt](d)

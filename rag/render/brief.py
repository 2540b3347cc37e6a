"""Brief rendering: terminal text, Markdown and a self-contained HTML page (JSON is Brief.to_dict).

The HTML page (rag/assets/brief.html.j2, Jinja2, autoescaped) shares the digest page's look and citation
behaviour: escaped text,
no script, citation marks opening the cited passage with the supporting span highlighted.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable

from rag.render.digest import _md_escape, cite_context, md_code
from rag.render.terminal import safe as _clean  # the one terminal-safety rule (rag.render.terminal)
from rag.render.terminal import safe_json
from rag.types import Brief, BriefItem, Citation


def _coverage_line(b: Brief) -> str:
    c = b.coverage
    left = c.get("left_out") or []
    line = (f"Coverage: {c.get('relevant', 0)} relevant article(s) found (of {c.get('recalled', 0)} recalled, "
            f"relevance cut {c.get('min_relevance')}), {c.get('used', 0)} used, "
            f"{c.get('from') or '?'} to {c.get('to') or '?'}")
    k, n = c.get("overview_developments"), c.get("used", 0)
    if isinstance(k, int) and isinstance(n, int) and k < n:
        line += f"; the overview reads {k} of the {n} developments (token budget)"
    if isinstance(left, list) and left:
        line += f"; left out for the token budget: {', '.join(str(x['id']) for x in left)}"
    return line + "."


def brief_text(b: Brief) -> str:
    out = [f"Brief: {_clean(b.topic)}", _clean(_coverage_line(b)), ""]
    if not b.articles:
        return "\n".join(out + ["No indexed article is relevant to this topic."]) + "\n"

    def items(title: str, xs: list[BriefItem]) -> None:
        if not xs:
            return
        out.append(title)
        for i in xs:
            head = f"  {i.date}  " if i.date else "  "
            out.append(textwrap.fill(_clean(i.text), 100, initial_indent=head, subsequent_indent=" " * len(head)))
            for c in i.citations:
                out.append(f"{' ' * len(head)}  [{c.n}] {_clean(c.title)} ({_clean(c.article_id)} [{c.start}:{c.end}])")
        out.append("")

    items("Overview", b.overview)
    items("Timeline", b.timeline)
    items("Where sources disagree", b.conflicts)
    return "\n".join(out).rstrip() + "\n"


def brief_markdown(b: Brief) -> str:
    out = [f"# Brief: {_md_escape(b.topic)}", "", f"_{_md_escape(_coverage_line(b))}_", ""]

    def body(i: BriefItem) -> str:
        return re.sub(r"\\\[(\d+)\\\]", r"[\1]", _md_escape(i.text))

    def sources(i: BriefItem) -> list[str]:
        return [f"   {c.n}. {_md_escape(c.title)} ({c.date or 'undated'}, {md_code(c.article_id)} {c.start}-{c.end}): "
                f"\u201c{_md_escape(' '.join(c.text.split()))}\u201d" for c in i.citations]

    for title, xs in (("Overview", b.overview), ("Timeline", b.timeline), ("Where sources disagree", b.conflicts)):
        if not xs:
            continue
        out += [f"## {title}", ""]
        for i in xs:
            out.append(f"- **{i.date}** {body(i)}" if i.date else f"- {body(i)}")
            out += sources(i)
        out.append("")
    if not b.articles:
        out.append("No indexed article is relevant to this topic.")
    return "\n".join(out).rstrip() + "\n"


def brief_html(b: Brief) -> str:
    """One self-contained page (rag/assets/brief.html.j2, autoescaped by Jinja2), the digest page's look."""
    from rag.render.html import render

    return render("brief.html.j2", **brief_values(b))


def brief_values(b: Brief, article_href: Callable[[Citation], str] | None = None) -> dict[str, object]:
    """What rag/assets/brief_body.html.j2 renders (the static page, and the web app's story page)."""
    sections = [("o", "Overview", b.overview), ("t", "Timeline", b.timeline), ("x", "Where sources disagree", b.conflicts)]
    return {"title": f"Brief: {b.topic}", "topic": b.topic, "coverage": _coverage_line(b), "sections": sections,
            "articles": b.articles, "context": cite_context(b.sources), "article_href": article_href}


def render_brief(b: Brief, fmt: str) -> str:
    import json

    if fmt == "json":
        return safe_json(json.dumps(b.to_dict(), ensure_ascii=False)) + "\n"
    return {"text": brief_text, "md": brief_markdown, "html": brief_html}[fmt](b)

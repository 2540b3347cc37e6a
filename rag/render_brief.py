"""Brief rendering: terminal text, Markdown and a self-contained HTML page (JSON is Brief.to_dict).

The HTML page shares the digest page's look and citation behaviour (rag.render_digest): escaped text,
no script, citation marks opening the cited passage with the supporting span highlighted.
"""

from __future__ import annotations

import html
import re
import textwrap

from rag.render_digest import _CSS, _cite_html, _md_escape, md_code
from rag.terminal import safe as _clean  # the one terminal-safety rule (rag.terminal)
from rag.terminal import safe_json
from rag.types import Brief, BriefItem


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


def _item_html(prefix: str, i: BriefItem, b: Brief) -> str:
    e = html.escape
    text = re.sub(r"\[(\d+)\]", lambda m: "\x00" + m.group(1) + "\x01", i.text)
    text = re.sub(r"\x00(\d+)\x01", lambda m: f'<sup><a href="#{prefix}{m.group(1)}">[{m.group(1)}]</a></sup>', e(text))
    date = f'<span class="date">{e(i.date)}</span> ' if i.date else ""
    cites = "".join(_cite_html(f"{prefix}{c.n}", c, b.sources) for c in i.citations)
    return f"<li>{date}{text}{cites}</li>"


def brief_html(b: Brief) -> str:
    e = html.escape
    parts = [f"<h1>Brief: {e(b.topic)}</h1>", f'<p class="meta">{e(_coverage_line(b))}</p>']
    for name, title, xs in (("o", "Overview", b.overview), ("t", "Timeline", b.timeline),
                            ("x", "Where sources disagree", b.conflicts)):
        if xs:
            parts.append(f"<h2>{title}</h2><ul>")
            parts += [_item_html(f"c-{name}{k}-", i, b) for k, i in enumerate(xs)]
            parts.append("</ul>")
    if not b.articles:
        parts.append('<p class="empty">No indexed article is relevant to this topic.</p>')
    css = _CSS + ".date{font:600 .85rem sans-serif;color:#555;margin-right:.3rem} li{margin-bottom:.6rem}"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>Brief: {e(b.topic)}</title><style>{css}</style></head><body>\n" + "\n".join(parts)
            + "\n</body></html>\n")


def render_brief(b: Brief, fmt: str) -> str:
    import json

    if fmt == "json":
        return safe_json(json.dumps(b.to_dict(), ensure_ascii=False)) + "\n"
    return {"text": brief_text, "md": brief_markdown, "html": brief_html}[fmt](b)

"""Digest rendering: terminal text, Markdown, and one self-contained HTML page (JSON is Digest.to_dict).

The HTML page has no external resources and no script: every article-derived string is escaped;
each citation mark links to the cited passage (an element shown via CSS `:target`), which displays the
surrounding sentences with the supporting span highlighted.
"""

from __future__ import annotations

import html
import re
import textwrap
from datetime import date as Date

from rag.terminal import safe as _clean  # the one terminal-safety rule (rag.terminal)
from rag.terminal import safe_json
from rag.types import Article, Citation, DayDigest, Digest, Story

CONTEXT_CHARS = 240  # article text shown around a cited span in HTML


_URL_ENCODE = {"(": "%28", ")": "%29", "<": "%3C", ">": "%3E", "\\": "%5C", '"': "%22", "`": "%60"}


def safe_url(url: str | None) -> str | None:
    """The URL if it is http(s), for use as a link target (a `javascript:` URL in article metadata must
    not become a clickable link); characters that could end a Markdown link destination or start markup
    (parentheses, angle brackets, backslash, quotes, backtick) are percent-encoded so links stay whole."""
    if url and re.match(r"https?://", url, flags=re.I) and not re.search(r"[\s\x00-\x1f\x7f-\x9f]", url):
        return "".join(_URL_ENCODE.get(ch, ch) for ch in url)
    return None


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


_CSS = """
body{font:17px/1.55 Georgia,serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#222;background:#fdfcf9}
h1{font-size:1.9rem;margin-bottom:.2rem} h2{border-bottom:2px solid #222;margin-top:2.4rem;padding-bottom:.2rem}
h3{font-size:1.2rem;margin:1.4rem 0 .3rem} .meta,.empty{color:#666;font-size:.9rem}
.dev{display:inline-block;background:#fff3cd;color:#7a5a00;font:600 .75rem sans-serif;padding:.1rem .4rem;
border-radius:.3rem;margin-bottom:.3rem} .dev a{color:inherit}
sup a{text-decoration:none;font:600 .75rem sans-serif;color:#0645ad;padding:0 .1rem}
.cite{display:none;border-left:3px solid #0645ad;background:#f1f4fa;padding:.5rem .8rem;margin:.5rem 0;font-size:.95rem}
.cite:target{display:block} .cite .src{font:.8rem sans-serif;color:#444;margin-bottom:.3rem}
mark{background:#ffe27a;padding:0 .1rem} .story{margin-bottom:1.2rem}
"""


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


def _cite_html(cid: str, c: Citation, articles: dict[str, Article]) -> str:
    e = html.escape
    a = articles.get(c.article_id)
    if a is not None and a.text[c.start : c.end] == c.text:
        lo, hi = _sentence_window(a.text, c.start, c.end)
        body = (("\u2026" if lo > 0 else "") + e(a.text[lo : c.start]) + "<mark>" + e(c.text) + "</mark>"
                + e(a.text[c.end : hi]) + ("\u2026" if hi < len(a.text) else ""))
    else:
        body = "<mark>" + e(c.text) + "</mark>"
    url = safe_url(c.url)
    title = f'<a href="{e(url)}">{e(c.title)}</a>' if url else e(c.title)
    return (f'<div class="cite" id="{cid}"><div class="src">[{c.n}] {title} \u00b7 {e(c.date or "undated")} \u00b7 '
            f"<code>{e(c.article_id)}</code> chars {c.start}\u2013{c.end}</div>{body}</div>")


def _story_html(day: DayDigest, k: int, s: Story, articles: dict[str, Article], shown_days: set[str]) -> str:
    e = html.escape
    sid = f"s-{day.date}-{k}"
    prefix = f"c-{day.date}-{k}-"

    def mark(m: re.Match[str]) -> str:
        nums = re.findall(r"\d+", m.group(0))
        return "".join(f'<sup><a href="#{prefix}{n}">[{n}]</a></sup>' for n in nums)

    summary = re.sub(r"\[(\d+)\]", lambda m: "\x00" + m.group(1) + "\x01", s.summary)
    summary = e(summary)
    summary = re.sub(r"\x00(\d+)\x01", lambda m: mark(m), summary)
    parts = [f'<article class="story" id="{sid}">']
    if s.continues:
        c = s.continues
        ref = e(f"\u201c{c.title}\u201d ({c.date})")
        if c.date in shown_days:
            ref = f'<a href="#s-{e(c.date)}-{c.story}">{ref}</a>'
        parts.append(f'<div class="dev">Developing \u00b7 continues {ref}</div>')
    parts.append(f"<h3>{e(s.headline)}</h3>")
    parts.append(f"<p>{summary}</p>")
    parts += [_cite_html(f"{prefix}{c.n}", c, articles) for c in s.citations]
    n = len(s.article_ids)
    parts.append(f'<div class="meta">{n} article{"s" if n != 1 else ""}: '
                 + ", ".join(e(articles[i].title) if i in articles else e(i) for i in s.article_ids) + "</div>")
    parts.append("</article>")
    return "\n".join(parts)


def digest_html(d: Digest) -> str:
    e = html.escape
    shown = {day.date for day in d.days}
    span = f"{d.days[0].date} to {d.days[-1].date}" if len(d.days) > 1 else (d.days[0].date if d.days else "")
    body = [f"<h1>News digest</h1><div class=\"meta\">{e(span)} \u00b7 every summary sentence links to its source; "
            "click a number to see the passage</div>"]
    for day in d.days:
        body.append(f'<section class="day" id="d-{day.date}"><h2>{e(_day_title(day.date))}</h2>')
        if not day.articles:
            body.append('<p class="empty">No articles on this date.</p>')
        for k, s in enumerate(day.stories):
            body.append(_story_html(day, k, s, d.articles, shown))
        body.append("</section>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>News digest {e(span)}</title><style>{_CSS}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def render_digest(d: Digest, fmt: str) -> str:
    import json

    if fmt == "json":
        return safe_json(json.dumps(d.to_dict(), ensure_ascii=False)) + "\n"
    return {"text": digest_text, "md": digest_markdown, "html": digest_html}[fmt](d)

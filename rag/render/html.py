"""Jinja2 for the HTML pages (digest, brief): templates in rag/assets/*.html.j2, autoescaped, so every
article-derived string is escaped by the engine, not by hand.

Filters the templates use: `safe_url` (a link target only for http(s) URLs; Markdown links and the site use it too) and
`marks(prefix)` (the text escaped, then its `[n]` marks made links to the citations `#{prefix}{n}`).
Not handled here: Markdown and terminal text (their escaping is not HTML's; rag.render.digest).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from markupsafe import Markup, escape

_URL_ENCODE = {"(": "%28", ")": "%29", "<": "%3C", ">": "%3E", "\\": "%5C", '"': "%22", "`": "%60"}


def safe_url(url: str | None) -> str | None:
    """The URL if it is http(s), for use as a link target (a `javascript:` URL in article metadata must
    not become a clickable link); characters that could end a Markdown link destination or start markup
    (parentheses, angle brackets, backslash, quotes, backtick) are percent-encoded so links stay whole."""
    if url and re.match(r"https?://", url, flags=re.I) and not re.search(r"[\s\x00-\x1f\x7f-\x9f]", url):
        return "".join(_URL_ENCODE.get(ch, ch) for ch in url)
    return None


def marks(text: str, prefix: str) -> Markup:
    """Escaped text whose [n] citation marks link to `#{prefix}{n}`.

    >>> str(marks("A <b> [1][2].", "c-"))
    'A &lt;b&gt; <sup><a href="#c-1">[1]</a></sup><sup><a href="#c-2">[2]</a></sup>.'
    """
    out, last = [], 0
    for m in re.finditer(r"\[(\d+)\]", text):
        out += [str(escape(text[last : m.start()])),
                str(Markup('<sup><a href="#{0}{1}">[{1}]</a></sup>').format(prefix, m.group(1)))]
        last = m.end()
    out.append(str(escape(text[last:])))
    return Markup("".join(out))


@cache
def environment() -> Any:
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("rag", "assets"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["safe_url"] = safe_url
    env.filters["marks"] = marks
    return env


def render(template: str, **values: Any) -> str:
    """The named template (rag/assets) rendered with `values`."""
    return str(environment().get_template(template).render(**values))

"""The HTML pages: Jinja2 templates of rag/assets (autoescaped), the static pages' look and partials.

    /ask            the question form; the answer streams in (rag/assets/web.js), [n] open the article view
    /days           a calendar of indexed days;  /days/{date}  the day's digest and articles
    /story          the topic form, its progress, the briefs written;  /story/brief  the brief
    /check          paste a draft (POST): each sentence supported or not, with its evidence
    /articles/{id}  the stored text as citations index into it, the requested span and the spans cited anywhere
"""

from __future__ import annotations

import calendar
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from rag.errors import InputError, NotFoundError
from rag.types import Brief, Citation, Digest
from rag.web.api import article_json, brief_href, off_model, on_model, state_of

router = APIRouter(include_in_schema=False)


def page(template: str, status: int = 200, **values: Any) -> HTMLResponse:
    from rag.render.html import render

    return HTMLResponse(render(template, **values), status_code=status)


def page_of(template: str, values: dict[str, object], **more: Any) -> HTMLResponse:
    return page(template, **{**values, **more})


def article_href(c: Citation) -> str:
    return f"/articles/{quote(c.article_id, safe='')}?start={c.start}&end={c.end}#span"


def day_href(d: str) -> str:
    return f"/days/{d}"


def _stats(request: Request) -> Any:
    from rag.store import Index

    with Index.open(state_of(request).settings) as ix:
        return ix.stats()


@router.get("/")
async def home() -> RedirectResponse:
    return RedirectResponse("/ask", status_code=303)


@router.get("/ask")
async def ask_page(request: Request, q: str = "", as_of: str = "", since: str = "", until: str = "") -> HTMLResponse:
    stats, _ = await off_model(lambda: _stats(request))
    return page("web_ask.html.j2", title=f"Ask: {q}" if q else "Ask", here="ask", q=q[:2000], as_of=as_of,
                since=since, until=until, stats=stats)


@router.get("/days")
async def days_page(request: Request) -> HTMLResponse:
    stats, _ = await off_model(lambda: _stats(request))
    per_day: dict[str, int] = stats["articles_per_day"]
    months = []
    for ym in sorted({d[:7] for d in per_day}, reverse=True):
        y, m = int(ym[:4]), int(ym[5:])
        weeks = [[None if n == 0 else {"day": n, "iso": f"{ym}-{n:02d}", "count": per_day.get(f"{ym}-{n:02d}", 0)}
                  for n in week] for week in calendar.Calendar().monthdayscalendar(y, m)]
        months.append({"title": f"{calendar.month_name[m]} {y}", "weeks": weeks})
    return page("web_days.html.j2", title="Days", here="days", months=months, days=list(per_day),
                total=sum(per_day.values()), undated=stats["undated"])


@router.get("/days/{day}")
async def day_page(request: Request, day: str, result: str = "") -> HTMLResponse:
    from rag.render.digest import digest_values
    from rag.store import Index
    from rag.summarise.digest import parse_day

    st = state_of(request)
    d = parse_day(day, "the day")

    def around() -> tuple[list[dict[str, Any]], list[str]]:
        with Index.open(st.settings) as ix:
            _, rows = ix.listing(d, d, None, 1000)
            return rows, list(ix.stats()["articles_per_day"])  # type: ignore[call-overload]

    (rows, days), _ = await off_model(around)
    if not rows:
        raise NotFoundError(f"no indexed article is dated {d}: pick a day on /days")
    earlier, later = [x for x in days if x < d], [x for x in days if x > d]
    articles = [{"title": r["title"], "source": r.get("source"), "href": f"/articles/{quote(r['id'], safe='')}"}
                for r in rows]
    around_values: dict[str, object] = dict(title=f"{d}: digest", here="days", prev_day=earlier[-1] if earlier else None,
                         next_day=later[0] if later else None, articles=articles)
    dg = st.kept(result) if result else None
    if not isinstance(dg, Digest) or [x.date for x in dg.days] != [d]:
        # the digest is written in its turn on the model: the page shows the queue, then the result (web.js)
        return page_of("web_day.html.j2", around_values, heading=d, waiting=f"/api/digest/stream?date={d}", days=[],
                       shown=set(), titles={}, context=None, day_href=None, article_href=None)
    values = digest_values(dg, day_href=day_href, article_href=article_href)
    return page_of("web_day.html.j2", {**values, **around_values}, waiting=None,
                   heading=values["days"][0]["title"])  # type: ignore[index]


@router.get("/story")
async def story_page(request: Request, topic: str = "", since: str = "", until: str = "") -> HTMLResponse:
    st = state_of(request)
    briefs = [{**b, "href": brief_href(b["topic"], b.get("since"), b.get("until"))} for b in st.briefs()]
    return page("web_story.html.j2", title=f"Story: {topic}" if topic else "Story", here="story", topic=topic[:500],
                since=since, until=until, briefs=briefs)


@router.get("/story/brief")
async def brief_page(request: Request, topic: str = "", since: str = "", until: str = "",
                     result: str = "") -> Response:
    """The brief a /story stream wrote (its `result`); without one, /story writes it (queue and progress shown)."""
    from rag.render.brief import brief_values

    st = state_of(request)
    if not topic.strip():
        raise InputError("the topic is empty: name a story on /story")
    b = st.kept(result) if result else None
    if not isinstance(b, Brief) or b.topic != topic:
        return RedirectResponse("/story?" + urlencode({k: v for k, v in (("topic", topic), ("since", since),
                                                                            ("until", until)) if v}), status_code=303)
    return page_of("web_brief.html.j2", brief_values(b, article_href=article_href), here="story")


@router.get("/check")
async def check_form(request: Request, result: str = "") -> HTMLResponse:
    """The form; with `result`, the report a /api/check/stream wrote (the page's script posts there, so the
    queue shows while it waits; without the script the form posts to /check and the page waits)."""
    from rag.web.api import CheckIn

    kept = state_of(request).kept(result) if result else None
    if isinstance(kept, tuple) and isinstance(kept[0], CheckIn):
        body, report = kept
        return page("web_check.html.j2", title="Check a draft", here="check", text=body.text, lines=body.lines,
                    since=body.since or "", until=body.until or "", report=report, article_href=article_href)
    return page("web_check.html.j2", title="Check a draft", here="check", text="", lines=False, since="", until="",
                report=None, article_href=article_href)


@router.post("/check")
async def check_page(request: Request) -> HTMLResponse:
    st = state_of(request)
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
    text, lines = form.get("text", ""), form.get("lines") == "1"
    since, until = form.get("since", ""), form.get("until", "")
    report, _ = await on_model(request, lambda t: st.check(t, text, lines, None, since, until))
    return page("web_check.html.j2", title="Check a draft", here="check", text=text, lines=lines, since=since,
                until=until, report=report, article_href=article_href)


def segments(text: str, target: tuple[int, int] | None, cited: set[tuple[int, int]]) -> list[tuple[str, str]]:
    """The article text cut into ("plain" | "cited" | "target", text) pieces whose concatenation is the text;
    the target span is one piece (the page scrolls to it), cited spans elsewhere are marked around it.

    >>> segments("abcdefgh", (2, 4), {(1, 3), (6, 7)})
    [('plain', 'a'), ('cited', 'b'), ('target', 'cd'), ('plain', 'ef'), ('cited', 'g'), ('plain', 'h')]
    """
    cuts = {0, len(text)}
    for a, b in cited | ({target} if target else set()):
        cuts |= {max(0, min(a, len(text))), max(0, min(b, len(text)))}
    out: list[tuple[str, str]] = []
    points = sorted(cuts)
    for a, b in zip(points, points[1:], strict=False):
        if target and target[0] <= a and b <= target[1]:
            kind = "target"
        else:
            kind = "cited" if any(x <= a and b <= y for x, y in cited) else "plain"
        if out and out[-1][0] == kind:
            out[-1] = (kind, out[-1][1] + text[a:b])
        else:
            out.append((kind, text[a:b]))
    return out


@router.get("/articles/{article_id:path}")
async def article_page(request: Request, article_id: str, start: int | None = None,
                       end: int | None = None) -> HTMLResponse:
    st = state_of(request)

    def read() -> tuple[dict[str, Any], set[tuple[int, int]]]:
        art = article_json(st, article_id)
        return art, st.spans(article_id, art["text"])

    (a, cited), _ = await off_model(read)
    target = None
    if start is not None or end is not None:
        if start is None or end is None or not 0 <= start < end <= len(a["text"]):
            raise InputError(f"start={start} end={end} is not a span of this article (0 to {len(a['text'])}): "
                             "follow a citation link")
        target = (start, end)
    return page("web_article.html.j2", title=a["title"] or article_id, here="", a=a, target=target,
                spans=sorted(cited), segments=segments(a["text"], target, cited))


def error_page(status: int, message: str) -> HTMLResponse:
    heading = {404: "Not found", 413: "Too large", 429: "Too many requests", 503: "Busy"}.get(status, "Cannot do that")
    return page("web_error.html.j2", status=status, title=heading, here="", heading=heading, message=message)

"""The static site `rag daily` publishes: one page per day, briefs of developing stories, an index of the
latest days, an Atom feed of the digests, and the JSON behind them.

    OUT/index.html            the latest `site_days` days, newest first, each story linked
    OUT/index.json            the same list as data
    OUT/feed.atom             one entry per day (newest `site_days`), linking its page
    OUT/days/DATE.html        the day's stories; citation marks open the cited passage (CSS :target, no script)
    OUT/days/DATE.json        {"date", "updated", "digest": rag digest --format json's day, "briefs": [...]}
    OUT/briefs/DATE-K.html    the story so far, for the day's developing story K

Pages are Jinja2 templates (rag/site_templates, autoescaped: article text is never markup) and link only
to each other and to the articles' own http(s) URLs. Each day's JSON is the site's memory: the index and
the feed are rebuilt from every `days/*.json`, so earlier days stay listed, and nothing is ever deleted.
Files are written beside and renamed over (never half-written), and only when their bytes change; a
day's `updated` time changes only when its content does, so a second run with nothing new rewrites no
file.

Not handled: removing a day (delete its files and run again); pagination beyond `site_days`.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2

from rag.config import Settings
from rag.errors import StorageError
from rag.render.brief import _coverage_line
from rag.render.digest import _day_title, _sentence_window
from rag.render.html import safe_url
from rag.types import Article, Brief, BriefItem, Citation, DayDigest

SITE_TITLE = "News digest"
SITE_VERSION = 1  # bump when the pages' layout changes: every day's pages are then rewritten


@dataclass
class DayBrief:
    """A brief written for the day's story number `story`."""

    story: int
    brief: Brief


@dataclass
class SiteReport:
    written: list[str] = field(default_factory=list)  # paths relative to the site root
    unchanged: list[str] = field(default_factory=list)


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("rag", "site_templates"),
        autoescape=jinja2.select_autoescape(["html", "atom"]), trim_blocks=True, lstrip_blocks=True,
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
    )


def segments(text: str) -> list[tuple[str, int | None]]:
    """A cited text as (text, None) and (\"\", n) pieces, so a template escapes the text and links the marks.

    >>> segments("Talks ended [1][2].")
    [('Talks ended ', None), ('', 1), ('', 2), ('.', None)]
    """
    out: list[tuple[str, int | None]] = []
    pos = 0
    for m in re.finditer(r"\[(\d+)\]", text):
        if m.start() > pos:
            out.append((text[pos : m.start()], None))
        out.append(("", int(m.group(1))))
        pos = m.end()
    if pos < len(text):
        out.append((text[pos:], None))
    return out


def _cite(c: Citation, articles: dict[str, Article]) -> dict[str, Any]:
    """A citation with the article text around its span (when the stored text still holds it)."""
    a = articles.get(c.article_id)
    d: dict[str, Any] = {"n": c.n, "article_id": c.article_id, "title": c.title, "date": c.date,
                         "url": safe_url(c.url), "start": c.start, "end": c.end, "span": c.text,
                         "before": "", "after": "", "lead": False, "trail": False}
    if a is not None and a.text[c.start : c.end] == c.text:
        lo, hi = _sentence_window(a.text, c.start, c.end)
        d.update(before=a.text[lo : c.start], after=a.text[c.end : hi], lead=lo > 0, trail=hi < len(a.text))
    return d


def _write(root: Path, rel: str, text: str, report: SiteReport) -> None:
    """Write root/rel atomically (temp file + rename), and only when its bytes change."""
    path = root / rel
    data = text.encode("utf-8")
    try:
        if path.exists() and path.read_bytes() == data:
            report.unchanged.append(rel)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
        try:
            tmp.write_bytes(data)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    except OSError as e:
        raise StorageError(f"cannot write {path}: {e.strerror or e}; make --out a writable directory") from e
    report.written.append(rel)


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def day_record(day: DayDigest, briefs: list[DayBrief], out: Path) -> dict[str, Any]:
    """The day's JSON: its digest and briefs, with `updated` kept from the file already there when the
    content is the same (so an unchanged day is byte-identical)."""
    content = {"digest": day.to_dict(),
               "briefs": [{"story": b.story, "page": f"briefs/{day.date}-{b.story}.html", **b.brief.to_dict()}
                          for b in briefs]}
    old = _read_json(out / "days" / f"{day.date}.json")
    same = old is not None and old.get("digest") == content["digest"] and old.get("briefs") == content["briefs"] \
        and old.get("version") == SITE_VERSION
    updated = old["updated"] if same and old is not None else _now()
    return {"date": day.date, "updated": updated, "version": SITE_VERSION, **content}


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def known_days(out: Path) -> list[dict[str, Any]]:
    """Every day record under out/days, newest first (unreadable files are skipped)."""
    days = []
    for p in sorted((out / "days").glob("*.json"), reverse=True):
        rec = _read_json(p)
        if rec is not None and isinstance(rec.get("digest"), dict) and re.fullmatch(r"\d{4}-\d\d-\d\d", p.stem):
            days.append(rec)
    return days


def publish(out: Path, day: DayDigest, articles: dict[str, Article], briefs: list[DayBrief],
            settings: Settings) -> SiteReport:
    """Write the day's pages, its briefs and JSON, then the index and the feed over every known day."""
    report = SiteReport()
    env = _env()
    rec = day_record(day, briefs, out)
    _write(out, f"days/{day.date}.json", json.dumps(rec, ensure_ascii=False, indent=1) + "\n", report)
    days = known_days(out)
    dates = sorted(d["date"] for d in days)
    by_story = {b.story: b for b in briefs}
    stories = []
    for k, s in enumerate(day.stories):
        prefix = f"c-{day.date}-{k}-"
        cont = None
        if s.continues:
            c = s.continues
            href = f"{c.date}.html#s-{c.date}-{c.story}" if c.date in dates else None
            cont = {"date": c.date, "title": c.title, "href": href}
        stories.append({
            "id": f"s-{day.date}-{k}", "prefix": prefix, "headline": s.headline, "segments": segments(s.summary),
            "citations": [_cite(c, articles) for c in s.citations], "continues": cont,
            "brief": f"../briefs/{day.date}-{k}.html" if k in by_story else None,
            "articles": [{"title": articles[i].title if i in articles else i,
                          "url": safe_url(articles[i].url) if i in articles else None} for i in s.article_ids],
        })
    i = dates.index(day.date)
    page = env.get_template("day.html").render(
        site_title=SITE_TITLE, root="../", date=day.date, day_title=_day_title(day.date), stories=stories,
        n_articles=len(day.articles), prev=dates[i - 1] if i > 0 else None,
        next=dates[i + 1] if i + 1 < len(dates) else None)
    _write(out, f"days/{day.date}.html", page, report)
    for b in briefs:
        _write(out, f"briefs/{day.date}-{b.story}.html", _brief_page(env, day.date, b), report)
    for j in (i - 1, i + 1):  # the neighbouring days' pages link to this one
        if 0 <= j < len(dates):
            _relink(out, dates[j], dates, report)
    _index(env, out, days, settings, report)
    return report


def _relink(out: Path, date: str, dates: list[str], report: SiteReport) -> None:
    """Set the previous/next links in the nav line of another day's page (written by day.html); its stories
    stay as written (their citations need that day's article texts, which the record does not keep)."""
    path = out / "days" / f"{date}.html"
    try:
        html = path.read_text(encoding="utf-8")
    except OSError:
        return
    i = dates.index(date)
    prev = f'<a href="{dates[i - 1]}.html">← {dates[i - 1]}</a>' if i > 0 else ""
    nxt = f'<a href="{dates[i + 1]}.html">{dates[i + 1]} →</a>' if i + 1 < len(dates) else ""
    new = re.sub(r'(<a href="../feed.atom">Atom feed</a>).*?(<a href="[\d-]+\.json">JSON</a></nav>)',
                 lambda m: m.group(1) + prev + nxt + m.group(2), html, count=1)
    if new != html:
        _write(out, f"days/{date}.html", new, report)
    else:
        report.unchanged.append(f"days/{date}.html")


def _items(items: list[BriefItem], prefix: str, sources: dict[str, Article]) -> list[dict[str, Any]]:
    return [{"date": i.date, "segments": segments(i.text), "prefix": f"{prefix}{k}-",
             "citations": [_cite(c, sources) for c in i.citations]} for k, i in enumerate(items)]


def _brief_page(env: jinja2.Environment, date: str, b: DayBrief) -> str:
    br = b.brief
    sections = [{"title": t, "entries": _items(xs, f"c-{n}", br.sources)}
                for n, t, xs in (("o", "Overview", br.overview), ("t", "Timeline", br.timeline),
                                 ("x", "Where sources disagree", br.conflicts)) if xs]
    return env.get_template("brief.html").render(
        site_title=SITE_TITLE, root="../", date=date, story_id=f"s-{date}-{b.story}", topic=br.topic,
        coverage=_coverage_line(br), sections=sections)


def _index(env: jinja2.Environment, out: Path, days: list[dict[str, Any]], settings: Settings,
           report: SiteReport) -> None:
    latest = days[: max(1, settings.site_days)]
    listed = [{"date": d["date"], "title": _day_title(d["date"]), "updated": d["updated"],
               "articles": len(d["digest"].get("articles", [])),
               "stories": [{"id": f"s-{d['date']}-{k}", "headline": s["headline"],
                            "developing": s.get("continues") is not None, "summary": s["summary"]}
                           for k, s in enumerate(d["digest"].get("stories", []))]}
              for d in latest]
    _write(out, "index.html", env.get_template("index.html").render(site_title=SITE_TITLE, root="", days=listed),
           report)
    _write(out, "index.json", json.dumps({"days": [{k: v for k, v in d.items() if k != "title"} for d in listed]},
                                         ensure_ascii=False, indent=1) + "\n", report)
    _write(out, "feed.atom", atom(env, listed, settings.site_url), report)


_ENTRY = """<p>{{ n }} stor{{ "y" if n == 1 else "ies" }} from {{ articles }} article{{ "" if articles == 1 else "s" }}.</p>
{% for s in stories %}<h3><a href="{{ base }}days/{{ date }}.html#{{ s.id }}">{{ s.headline }}</a>{% if s.developing %} (developing){% endif %}</h3>
<p>{{ s.summary }}</p>
{% endfor %}"""


def atom(env: jinja2.Environment, days: list[dict[str, Any]], site_url: str | None) -> str:
    """The Atom feed (RFC 4287) of the listed days: one entry per day, its id stable across runs."""
    base = (site_url.rstrip("/") + "/") if site_url else ""
    entry_html = env.from_string(_ENTRY)
    entries = []
    for d in days:
        text = "; ".join(s["headline"] for s in d["stories"]) or "No articles on this date."
        entries.append({
            "title": f"{SITE_TITLE}: {d['title']}", "id": f"{base}days/{d['date']}.html" if base
            else f"urn:rag-news:digest:{d['date']}", "link": f"{base}days/{d['date']}.html",
            "published": f"{d['date']}T00:00:00Z", "updated": d["updated"], "summary": text[:500],
            "content": entry_html.render(base=base, date=d["date"], stories=d["stories"], n=len(d["stories"]),
                                         articles=d["articles"]),
        })
    updated = max((d["updated"] for d in days), default="1970-01-01T00:00:00Z")
    return env.get_template("feed.atom").render(site_title=SITE_TITLE, base=base, entries=entries, updated=updated,
                                                feed_id=f"{base}feed.atom" if base else "urn:rag-news:digest")

"""Feeds: subscriptions stored in the index, and `update`, which fetches them and ingests what is new.

Subscriptions live in the index's SQLite store (table `feeds`: URL, optional name, the validators of the
last good fetch, the last outcome); `feed_items` remembers, per article id, a hash of the feed entry it came
from, so an entry seen before and unchanged costs nothing (its page is not fetched again).

`update(settings)`, holding the index's writer lock for the whole run:
1. fetches every feed (rag.ingest.fetch: conditional GET, so an unchanged feed is one 304);
2. reads its entries (feedparser; RSS and Atom). An entry whose text has fewer than
   `feed_summary_words` words is a summary: the page it links to is fetched and its article extracted by
   trafilatura (title, date, author, main text); the longer of the two texts is kept;
3. ingests the articles like `rag ingest` (rag.ingest.ingest_into): ids from the entry's guid (else its
   link), so the same entry always lands on the same article and a changed one replaces it; copies of one
   story syndicated on several feeds are recorded as duplicates of the first; dates from the entry, else
   the page, else the text, else the day it was first fetched;
4. only then stores each feed's new validators, and only for feeds whose every entry landed: a feed with
   a failed page is fetched in full next time, and its entries that did land are skipped as unchanged.

A feed or page that fails is listed in `failed` with its reason; the others still land. A run killed at
any point leaves whole articles only (ingest's guarantee) and the previous validators, so the next run
redoes what was lost.

Not handled: feeds needing authentication; entries without a link and with only a summary (the summary
is ingested); pages whose article text is rendered by JavaScript.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date as Date
from typing import Any
from urllib.parse import urlsplit

from rag.config import Settings
from rag.errors import ConfigError, FetchError, NotFoundError
from rag.ingest import IngestReport, ingest_into
from rag.ingest.fetch import Fetched, Fetcher, check_url, decode_html
from rag.ingest.readers import MIN_HTML_WORDS, _clean_title, _entry_date, _entry_text, _str_or_none, short_hash
from rag.models.embed import Embedder
from rag.store import Index
from rag.types import Article

FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
_TABLES = """
CREATE TABLE IF NOT EXISTS feeds (
    url TEXT PRIMARY KEY, name TEXT, title TEXT, added_at REAL NOT NULL, etag TEXT, last_modified TEXT,
    checked_at REAL, status TEXT, error TEXT, entries INTEGER
);
CREATE TABLE IF NOT EXISTS feed_items (
    article_id TEXT PRIMARY KEY, feed_url TEXT NOT NULL, entry_hash TEXT NOT NULL, seen_at REAL NOT NULL
);
"""
# progress(stage, done, total): stage is "feeds", "pages" or "articles"; total None when not known
Progress = Callable[[str, int, int | None], None]


@dataclass
class Feed:
    url: str
    name: str | None = None  # given with --name; else the feed's own title shows
    title: str | None = None
    added_at: float = 0.0
    etag: str | None = None
    last_modified: str | None = None
    checked_at: float | None = None
    status: str | None = None  # "ok", "unchanged", "failed" (the last update's outcome)
    error: str | None = None
    entries: int | None = None

    @property
    def label(self) -> str:
        return self.name or self.title or (urlsplit(self.url).hostname or self.url)

    def to_dict(self) -> dict[str, object]:
        return {"url": self.url, "name": self.name, "title": self.title, "status": self.status,
                "error": self.error, "entries": self.entries,
                "checked": _iso_time(self.checked_at), "added": _iso_time(self.added_at)}


def _iso_time(t: float | None) -> str | None:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t)) if t else None


@dataclass
class UpdateReport:
    feeds: int = 0
    unchanged_feeds: int = 0  # answered 304
    entries: int = 0  # entries read from changed feeds
    skipped_entries: int = 0  # seen before and unchanged: not fetched nor ingested again
    pages: int = 0  # article pages fetched
    failed: list[dict[str, str]] = field(default_factory=list)  # {url, reason}: feeds, pages
    warnings: list[str] = field(default_factory=list)
    ingest: IngestReport = field(default_factory=IngestReport)

    def to_dict(self) -> dict[str, object]:
        return {"feeds": self.feeds, "unchanged_feeds": self.unchanged_feeds, "entries": self.entries,
                "skipped_entries": self.skipped_entries, "pages": self.pages, "failed": self.failed,
                "warnings": self.warnings, "ingest": self.ingest.to_dict()}

    @property
    def ok(self) -> bool:
        return not self.failed and not self.ingest.rejected


# ---- the subscription store ------------------------------------------------------------------------------
def _ensure(index: Index) -> None:
    try:
        index.db.script(_TABLES)
    except Exception as e:  # a read-only or full disk, a server gone
        raise index.db.fail(e) from e


def _has_tables(index: Index) -> bool:
    return "feeds" in index.db.tables()


def _feed(row: Any) -> Feed:
    return Feed(row["url"], row["name"], row["title"], row["added_at"], row["etag"], row["last_modified"],
                row["checked_at"], row["status"], row["error"], row["entries"])


def _all(index: Index) -> list[Feed]:
    if not _has_tables(index):
        return []
    return [_feed(r) for r in index.db.execute("SELECT * FROM feeds ORDER BY added_at, url")]


def add_feed(settings: Settings, url: str, name: str | None = None,
             on_wait: Callable[[str], None] | None = None) -> tuple[Feed, bool]:
    """Subscribe to a feed (nothing is fetched until `update`). Returns (the feed, whether it is new);
    adding a known URL again only renames it when a name is given. A name must be unique."""
    url = check_url(url)
    name = " ".join(name.split()) if name else None
    if name == "":
        name = None
    with Index.open(settings, create=True) as index:
        index.lock(timeout=settings.lock_timeout, on_wait=on_wait)
        _ensure(index)
        if name:
            other = index.db.execute("SELECT url FROM feeds WHERE name=? AND url<>?", (name, url)).fetchone()
            if other:
                raise ConfigError(f"the name {name!r} is already used by {other['url']}; choose another --name")
        row = index.db.execute("SELECT * FROM feeds WHERE url=?", (url,)).fetchone()
        with index.transaction() as db:
            if row is None:
                db.execute("INSERT INTO feeds(url, name, added_at) VALUES (?, ?, ?)", (url, name, time.time()))
            elif name:
                db.execute("UPDATE feeds SET name=? WHERE url=?", (name, url))
        feed = _feed(index.db.execute("SELECT * FROM feeds WHERE url=?", (url,)).fetchone())
    return feed, row is None


def list_feeds(settings: Settings) -> list[Feed]:
    """Every subscription, oldest first, with its last update's outcome."""
    with Index.open(settings) as index:
        return _all(index)


def remove_feeds(settings: Settings, keys: Iterable[str], on_wait: Callable[[str], None] | None = None) -> list[Feed]:
    """Unsubscribe from feeds named by URL or name; their articles stay in the index (`rag remove` removes
    articles). Raises NotFoundError, removing nothing, when a key matches no feed."""
    with Index.open(settings) as index:
        index.lock(timeout=settings.lock_timeout, on_wait=on_wait)
        feeds = _all(index)
        chosen: list[Feed] = []
        for k in keys:
            match = [f for f in feeds if k in (f.url, f.name)]
            if not match:
                known = ", ".join(f.name or f.url for f in feeds) or "none"
                raise NotFoundError(f"no feed with the URL or name {k!r} (subscribed: {known}); see `rag feeds list`")
            chosen += [f for f in match if f not in chosen]
        with index.transaction() as db:
            for f in chosen:
                db.execute("DELETE FROM feeds WHERE url=?", (f.url,))
                db.execute("DELETE FROM feed_items WHERE feed_url=?", (f.url,))
    return chosen


# ---- entries -> articles ---------------------------------------------------------------------------------
@dataclass
class _Entry:
    """One feed entry, before its page (if any) is fetched."""

    article: Article  # from the feed alone
    entry_hash: str
    link: str | None
    needs_page: bool
    feed_url: str


def parse_feed(body: bytes, charset: str | None, content_type: str) -> Any:
    """feedparser's result for a feed body, decoded by the header's charset, else the document's own."""
    import feedparser

    headers = {"content-type": f"{content_type or 'application/xml'}" + (f"; charset={charset}" if charset else "")}
    return feedparser.parse(body, response_headers=headers, sanitize_html=True, resolve_relative_uris=True)


def looks_like_feed(f: Fetched) -> bool:
    """Whether a response is a feed (by its media type, else by its first tag)."""
    if any(t in f.content_type for t in ("rss", "atom", "xml")) and "html" not in f.content_type:
        return True
    head = f.body[:1024].lstrip().lower()
    return head.startswith((b"<?xml", b"<rss", b"<feed", b"<rdf"))


def entries_of(parsed: Any, feed_url: str, source: str | None, min_words: int) -> tuple[list[_Entry], list[str]]:
    """The feed's entries as articles (the feed's text only) and the reasons of entries left out."""
    out, skipped = [], []
    site = source or _str_or_none(parsed.feed.get("title")) or urlsplit(feed_url).hostname
    for n, entry in enumerate(parsed.entries, 1):
        body = _entry_text(entry)
        link = _str_or_none(entry.get("link"))
        if link and not link.lower().startswith(("http://", "https://")):
            link = None
        if not body and not link:
            skipped.append(f"{feed_url} entry {n}: no text and no link")
            continue
        key = entry.get("id") or entry.get("link") or (entry.get("title", "") + body[:500])
        title = _str_or_none(entry.get("title"))
        date = _entry_date(entry)
        a = Article(id=f"feed-{short_hash(str(key), 16)}", title=_clean_title(title) if title else "",
                    text=body, date=date, date_source="metadata" if date else "none", url=link, source=site,
                    author=_str_or_none(entry.get("author")), path=link or f"{feed_url}#{n}")
        h = hashlib.sha256(json.dumps([a.id, a.title, a.text, a.date, a.url, a.author, site],
                                      ensure_ascii=False).encode()).hexdigest()
        out.append(_Entry(a, h, link, len(body.split()) < min_words and link is not None, feed_url))
    return out, skipped


def page_article(f: Fetched, base: Article | None = None) -> Article | None:
    """The article of a fetched page (trafilatura: title, date, author, main text), merged into the feed
    entry's `base` (whose title and date come first; the longer text wins). None: no article text."""
    import trafilatura

    from rag.ingest.dates import parse_metadata_date

    html = decode_html(f.body, f.charset)
    try:
        doc = trafilatura.bare_extraction(html, url=f.url, with_metadata=True, include_comments=False,
                                          include_tables=False, favor_precision=True)
    except Exception:  # lxml and trafilatura raise many types on hostile markup
        doc = None
    text = (getattr(doc, "text", None) or "").strip() if doc is not None else ""
    if len(text.split()) < MIN_HTML_WORDS:
        return None
    date = parse_metadata_date(getattr(doc, "date", None))
    title = _str_or_none(getattr(doc, "title", None))
    author = _str_or_none(getattr(doc, "author", None))
    site = _str_or_none(getattr(doc, "sitename", None)) or urlsplit(f.url).hostname
    if base is None:
        return Article(id=f"web-{short_hash(f.url, 16)}", title=_clean_title(title) if title else "", text=text,
                       date=date, date_source="metadata" if date else "none", url=f.url, source=site,
                       author=author, path=f.url)
    longer = text if len(text) > len(base.text) else base.text
    return replace(base, text=longer, title=base.title or (_clean_title(title) if title else ""),
                   date=base.date or date, date_source="metadata" if (base.date or date) else "none",
                   author=base.author or author)


def _finish(a: Article, known_date: str | None, today: Date) -> Article:
    """Every article a headline; an undated one keeps the date it was given when first fetched, else gets the
    day of this fetch (news is about the day it appears), marked date_source "flag"."""
    from rag.ingest.readers import _finish as finish

    a = finish(a)
    if a.date is None:
        from rag.ingest.dates import infer_date

        inferred = infer_date(a.text, today)
        a = (replace(a, date=known_date, date_source="flag") if known_date else
             replace(a, date=inferred, date_source="text") if inferred else
             replace(a, date=today.isoformat(), date_source="flag"))
    return a


def _fetch_pages(fetcher: Fetcher, entries: list[_Entry], workers: int,
                 tick: Callable[[], None]) -> dict[str, Fetched | FetchError]:
    """Pages of the entries that need one, fetched in parallel (the fetcher paces each host)."""
    links = list(dict.fromkeys(e.link for e in entries if e.needs_page and e.link))

    def one(link: str) -> Fetched | FetchError:
        try:
            return fetcher.get(link, accept=PAGE_ACCEPT)
        except FetchError as e:
            return e
        finally:
            tick()

    with ThreadPoolExecutor(max(1, workers)) as pool:
        return dict(zip(links, pool.map(one, links), strict=True))


def _articles(entries: list[_Entry], pages: dict[str, Fetched | FetchError], report: UpdateReport,
              index: Index | None, today: Date, incomplete: set[str] | None = None) -> Iterator[_Entry]:
    """The entries whose article is complete (page merged in when one was needed); failures reported, and
    the feeds of the failed entries added to `incomplete`."""
    incomplete = set() if incomplete is None else incomplete
    for e in entries:
        a = e.article
        if e.needs_page and e.link:
            got = pages.get(e.link)
            if isinstance(got, FetchError):
                report.failed.append({"url": e.link, "reason": f"article page: {_reason(got, e.link)}"})
                incomplete.add(e.feed_url)
                continue
            if got is not None:
                merged = page_article(got, a)
                if merged is not None:
                    a = merged
                elif not a.text:
                    report.failed.append({"url": e.link, "reason": "article page: no article text found in it "
                                          f"(fewer than {MIN_HTML_WORDS} words of main text)"})
                    incomplete.add(e.feed_url)
                    continue
                else:
                    report.warnings.append(f"{e.link}: no article text in the page; the feed's summary is indexed")
        known = None
        if index is not None:
            row = index.db.execute("SELECT date FROM articles WHERE id=?", (a.id,)).fetchone()
            known = row["date"] if row else None
        yield replace(e, article=_finish(a, known, today))


# ---- update --------------------------------------------------------------------------------------------
def update(
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    fetcher: Fetcher | None = None,
    progress: Progress | None = None,
    on_wait: Callable[[str], None] | None = None,
    today: Date | None = None,
) -> UpdateReport:
    """Fetch every subscribed feed and ingest what is new (module doc). Never raises for a failing feed or
    page (they are in `failed`); raises what ingest raises for the index itself (StorageError, LockedError,
    ConfigError) and BackendError when the embedder is down."""
    report = UpdateReport()
    day = today or Date.today()
    own = fetcher is None
    fetcher = fetcher or Fetcher(settings)
    try:
        with Index.open(settings, create=True) as index:
            index.lock(timeout=settings.lock_timeout, on_wait=on_wait)
            _ensure(index)
            feeds = _all(index)
            report.feeds = len(feeds)
            fetched = _fetch_feeds(fetcher, feeds, settings.fetch_workers, progress)
            entries: list[_Entry] = []
            outcome: dict[str, tuple[str, str | None, int | None, Fetched | None]] = {}
            for feed in feeds:
                got = fetched[feed.url]
                if isinstance(got, FetchError):
                    report.failed.append({"url": feed.url, "reason": _reason(got, feed.url)})
                    outcome[feed.url] = ("failed", _reason(got, feed.url), None, None)
                    continue
                if got.not_modified:
                    report.unchanged_feeds += 1
                    outcome[feed.url] = ("unchanged", None, feed.entries, None)
                    continue
                parsed = parse_feed(got.body, got.charset, got.content_type)
                if not parsed.entries:
                    why = _bozo(parsed) or "no entries"
                    reason = f"not an RSS or Atom feed ({why}); check the URL"
                    if looks_like_feed(got) and not parsed.get("bozo"):
                        reason = ""  # a well-formed feed with no entries today
                    if reason:
                        report.failed.append({"url": feed.url, "reason": reason})
                        outcome[feed.url] = ("failed", reason, None, None)
                        continue
                elif parsed.get("bozo") and _bozo(parsed):
                    report.warnings.append(f"{feed.url}: not well-formed ({_bozo(parsed)}); "
                                           f"{len(parsed.entries)} entries read leniently")
                title = _str_or_none(parsed.feed.get("title"))
                found, skipped = entries_of(parsed, feed.url, feed.name or title, settings.feed_summary_words)
                report.warnings += skipped
                report.entries += len(found)
                fresh = [e for e in found if not _seen(index, e)]
                report.skipped_entries += len(found) - len(fresh)
                entries += fresh
                outcome[feed.url] = ("ok", None, len(found), got)
                if title and title != feed.title:
                    feed.title = title
            entries = _unique(entries)
            total_pages = len({e.link for e in entries if e.needs_page})
            done = [0]

            def tick() -> None:
                done[0] += 1
                if progress:
                    progress("pages", done[0], total_pages)

            pages = _fetch_pages(fetcher, entries, settings.fetch_workers, tick)
            report.pages = sum(1 for p in pages.values() if not isinstance(p, FetchError))
            incomplete: set[str] = set()
            ready = list(_articles(entries, pages, report, index, day, incomplete))
            n_ready = len(ready)

            def ingest_tick(read: int, chunks: int) -> None:
                if progress:
                    progress("articles", min(read, n_ready), n_ready)

            ingest_into(index, ((None, e.article) for e in ready), settings, embedder, ingest_tick, report.ingest,
                        today=day)
            _commit(index, feeds, outcome, ready, incomplete)
    finally:
        if own:
            fetcher.close()
    return report


def _reason(e: FetchError, url: str) -> str:
    """A fetch error's message without the URL it starts with (reports list the URL beside it)."""
    return str(e).removeprefix(f"{url}: ")


def _bozo(parsed: Any) -> str:
    """feedparser's complaint about a feed, when it is about the XML (not a charset override)."""
    e = parsed.get("bozo_exception")
    if e is None or e.__class__.__name__ in ("CharacterEncodingOverride", "NonXMLContentType"):
        return ""
    line = getattr(e, "getLineNumber", lambda: None)()
    return f"{e}" + (f" at line {line}" if line else "")


def _fetch_feeds(fetcher: Fetcher, feeds: list[Feed], workers: int,
                 progress: Progress | None) -> dict[str, Fetched | FetchError]:
    done = [0]

    def one(feed: Feed) -> Fetched | FetchError:
        try:
            return fetcher.get(feed.url, feed.etag, feed.last_modified, accept=FEED_ACCEPT)
        except FetchError as e:
            return e
        finally:
            done[0] += 1
            if progress:
                progress("feeds", done[0], len(feeds))

    with ThreadPoolExecutor(max(1, workers)) as pool:
        return dict(zip([f.url for f in feeds], pool.map(one, feeds), strict=True))


def _seen(index: Index, e: _Entry) -> bool:
    """The entry was ingested before from the same entry text, and its article (or copy) is still stored."""
    row = index.db.execute("SELECT entry_hash FROM feed_items WHERE article_id=?", (e.article.id,)).fetchone()
    if row is None or row["entry_hash"] != e.entry_hash:
        return False
    return index.has_article(e.article.id) or index.duplicate_hash(e.article.id) is not None


def _unique(entries: list[_Entry]) -> list[_Entry]:
    """One entry per article id (a feed listing an entry twice, or two feeds sharing a guid): the first."""
    seen: set[str] = set()
    out = []
    for e in entries:
        if e.article.id not in seen:
            seen.add(e.article.id)
            out.append(e)
    return out


def _commit(index: Index, feeds: list[Feed], outcome: dict[str, tuple[str, str | None, int | None, Fetched | None]],
            ready: list[_Entry], incomplete: set[str]) -> None:
    """Remember what landed: entries stored (or recorded as copies), then each feed's validators -- only for
    a feed whose every entry landed, so a failure is retried by the next run (module doc)."""
    now = time.time()
    landed = {e.article.id for e in ready
              if index.has_article(e.article.id) or index.duplicate_hash(e.article.id) is not None}
    incomplete = incomplete | {e.feed_url for e in ready if e.article.id not in landed}
    with index.transaction() as db:
        for e in ready:
            if e.article.id in landed:
                db.execute("INSERT INTO feed_items(article_id, feed_url, entry_hash, seen_at) VALUES (?, ?, ?, ?) "
                           "ON CONFLICT(article_id) DO UPDATE SET feed_url=excluded.feed_url, "
                           "entry_hash=excluded.entry_hash, seen_at=excluded.seen_at",
                           (e.article.id, e.feed_url, e.entry_hash, now))
        for feed in feeds:
            status, error, n, got = outcome[feed.url]
            if status == "ok" and got is not None and feed.url not in incomplete:
                db.execute("UPDATE feeds SET etag=?, last_modified=?, title=? WHERE url=?",
                           (got.etag, got.last_modified, feed.title, feed.url))
            elif status == "ok" and feed.url in incomplete:
                status, error = "failed", "some entries did not land (see the failures above); retried next run"
            db.execute("UPDATE feeds SET checked_at=?, status=?, error=?, entries=?, title=? WHERE url=?",
                       (now, status, error, n, feed.title, feed.url))


# ---- rag ingest URL ------------------------------------------------------------------------------------
def read_urls(urls: Iterable[str], settings: Settings, report: IngestReport, *,
              today: Date | None = None) -> Iterator[Article]:
    """Articles from URLs given to `rag ingest`: a feed's entries (pages fetched for summaries), or a page's
    article. Failures go to report.rejected; nothing is stored about the URL itself (`rag feeds add` does)."""
    day = today or Date.today()
    with Fetcher(settings) as fetcher:
        for url in urls:
            try:
                got = fetcher.get(url, accept=f"{FEED_ACCEPT}, {PAGE_ACCEPT}")
            except FetchError as e:
                report.rejected.append({"path": url, "reason": _reason(e, url)})
                continue
            if looks_like_feed(got):
                parsed = parse_feed(got.body, got.charset, got.content_type)
                if not parsed.entries:
                    report.rejected.append({"path": url, "reason": f"not an RSS or Atom feed ({_bozo(parsed) or 'no entries'})"})
                    continue
                found, skipped = entries_of(parsed, url, None, settings.feed_summary_words)
                report.rejected += [{"path": url, "reason": s} for s in skipped]
                sub = UpdateReport()
                pages = _fetch_pages(fetcher, found, settings.fetch_workers, lambda: None)
                for entry in _articles(found, pages, sub, None, day):
                    yield entry.article
                report.rejected += [{"path": f["url"], "reason": f["reason"]} for f in sub.failed]
                continue
            if "html" not in got.content_type and not got.body.lstrip()[:20].lower().startswith((b"<!doctype", b"<html")):
                report.rejected.append({"path": url, "reason": f"neither a feed nor an HTML page ({got.content_type or 'no content type'})"})
                continue
            a = page_article(got)
            if a is None:
                report.rejected.append({"path": url, "reason": f"no article text in the page (fewer than {MIN_HTML_WORDS} words of main text)"})
                continue
            yield _finish(a, None, day)

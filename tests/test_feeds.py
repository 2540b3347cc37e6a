"""Feeds and the fetcher against a real HTTP server on 127.0.0.1 (tests/feedserver.py): subscriptions,
`rag update` (full-content and summary feeds, conditional GET, failures of every kind reported while the
rest lands, syndicated copies, updated entries), `rag ingest URL`, and the fetcher's politeness."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.config import Settings
from rag.errors import FetchError
from rag.ingest import ingest
from rag.ingest.feeds import add_feed, list_feeds, update
from rag.ingest.fetch import Fetcher
from rag.models.embed import OnnxMiniLM
from rag.store import Index

from .conftest import MODEL_DIR
from .feedserver import NewsServer, article_page, atom, rss, wikinews
from .test_backends import free_port

runner = CliRunner()
W = wikinews()
FAST = {"fetch_timeout": 1.0, "fetch_retries": 1, "fetch_backoff": 0.05, "fetch_host_delay": 0.0}
FAST_ENV = {f"RAG_{k.upper()}": str(v) for k, v in FAST.items()}


@pytest.fixture
def news() -> Iterator[NewsServer]:
    s = NewsServer()
    yield s
    s.close()


@pytest.fixture
def fs(tmp_path: Path) -> Settings:
    return Settings(index_dir=tmp_path / "index", model_dir=MODEL_DIR, **FAST)  # type: ignore[arg-type]


def _arts(*ids: str) -> list[dict[str, str]]:
    return [W[i] for i in ids]


def _stored(settings: Settings) -> dict[str, object]:
    with Index.open(settings) as ix:
        return {a.url: a for a in ix.articles()}


def test_full_content_and_summary_feeds_land_with_their_metadata(news: NewsServer, fs: Settings,
                                                                 embedder: OnnxMiniLM) -> None:
    full = _arts("wikinews-5793", "wikinews-5799")
    summ = _arts("wikinews-5804", "wikinews-5833")
    news.pages(full + summ)
    add_feed(fs, news.feed("/wire.xml", rss("The Wire", full, news.base)), name="Wire")
    add_feed(fs, news.feed("/gazette.atom", atom("Test Gazette", summ, news.base)))
    r = update(fs, embedder=embedder)
    assert r.ok, r.to_dict()
    assert (r.feeds, r.entries, r.pages, r.ingest.added) == (2, 4, 2, 4)
    # full content: no page fetched; summaries: each page fetched once
    assert not news.requests_to("/articles/wikinews-5793.html")
    assert len(news.requests_to("/articles/wikinews-5804.html")) == 1
    stored = _stored(fs)
    for a in full + summ:
        s = stored[f"{news.base}/articles/{a['id']}.html"]
        last = [p for p in a["text"].split("\n") if p.strip()][-1].strip()
        assert last[:60] in s.text  # the whole article, not the feed's one-sentence summary
        assert s.title == a["title"] and s.date == a["date"]
        assert "All rights reserved" not in s.text and "Sport" not in s.text.split()  # the page's chrome is not
    assert stored[f"{news.base}/articles/wikinews-5793.html"].source == "Wire"  # the name given
    assert stored[f"{news.base}/articles/wikinews-5804.html"].source == "Test Gazette"  # else the feed's title
    assert stored[f"{news.base}/articles/wikinews-5804.html"].author == "Jane Reporter"  # from the page
    ua = news.requests_to("/wire.xml")[0].headers["user-agent"]
    assert ua.startswith("rag-news/") and ua == fs.fetch_user_agent
    feeds = {f.url: f for f in list_feeds(fs)}
    assert all(f.status == "ok" and f.entries == 2 for f in feeds.values())


def test_an_unchanged_feed_costs_one_304_and_seen_entries_fetch_no_page(news: NewsServer, fs: Settings,
                                                                        embedder: OnnxMiniLM) -> None:
    summ = _arts("wikinews-5804", "wikinews-5833")
    news.pages(summ)
    add_feed(fs, news.feed("/cond.atom", atom("Cond", summ, news.base), etag='"v1"'))
    add_feed(fs, news.feed("/plain.atom", atom("Plain", _arts("wikinews-5861"), news.base)))
    news.pages(_arts("wikinews-5861"))
    first = update(fs, embedder=embedder)
    assert first.ingest.added == 3 and first.unchanged_feeds == 0
    before = len(news.hits)
    second = update(fs, embedder=embedder)
    new_hits = news.hits[before:]
    assert second.ok and second.unchanged_feeds == 1 and second.ingest.added == 0
    cond = [h for h in new_hits if h.path == "/cond.atom"]
    assert len(cond) == 1 and cond[0].headers.get("if-none-match") == '"v1"'  # one conditional request: a 304
    # the feed without validators is read again, but its entry was seen: its page is not fetched again
    assert sorted(h.path for h in new_hits) == ["/cond.atom", "/plain.atom"]
    assert second.skipped_entries == 1 and second.pages == 0
    # a changed entry on the feed replaces its article
    changed = {**W["wikinews-5861"], "title": "Corrected: " + W["wikinews-5861"]["title"]}
    news.feed("/plain.atom", atom("Plain", [changed], news.base))
    third = update(fs, embedder=embedder)
    assert third.ingest.updated == 1 and third.ingest.added == 0
    assert _stored(fs)[f"{news.base}/articles/wikinews-5861.html"].title.startswith("Corrected: ")


def test_failures_are_reported_with_their_reason_and_the_rest_lands(news: NewsServer, tmp_path: Path) -> None:
    good = _arts("wikinews-5793")
    news.pages(good)
    urls = {
        "good": news.feed("/good.xml", rss("Good", good, news.base)),
        "missing": news.url("/missing.xml"),
        "flaky": news.feed("/flaky.xml", rss("Flaky", _arts("wikinews-5799"), news.base), then=[(500, {})]),
        "slow": news.feed("/slow.xml", rss("Slow", _arts("wikinews-5861"), news.base), delay=3.0),
        "malformed": news.route("/malformed.xml", body=b"<rss><channel><title>Broken</ti <<< &&& not xml",
                                headers={"Content-Type": "application/rss+xml"}),
        "loop": news.route("/loop-a", status=302, headers={"Location": "/loop-b"}),
        "huge": news.feed("/huge.atom", atom("Huge", _arts("wikinews-5833"), news.base)),
    }
    news.route("/loop-b", status=302, headers={"Location": "/loop-a"})
    news.route("/articles/wikinews-5833.html", stream_bytes=20 * 1024 * 1024, headers={"Content-Type": "text/html"})
    index = str(tmp_path / "index")
    for name, url in urls.items():
        r = runner.invoke(app, ["feeds", "add", url, "--name", name, "--index", index])
        assert r.exit_code == 0, r.output
    t0 = time.monotonic()
    r = runner.invoke(app, ["update", "--index", index], env=FAST_ENV)
    took = time.monotonic() - t0
    assert r.exit_code == 1, r.output
    assert "Traceback" not in r.output
    failed = {line.split()[1].rstrip(":"): line for line in r.output.splitlines() if line.startswith("failed ")}
    assert set(failed) == {urls["missing"], urls["slow"], urls["malformed"], urls["loop"],
                           news.url("/articles/wikinews-5833.html")}, r.output
    assert "HTTP 404" in failed[urls["missing"]]
    assert "RAG_FETCH_TIMEOUT" in failed[urls["slow"]]
    assert "not an RSS or Atom feed" in failed[urls["malformed"]]
    assert "redirect loop" in failed[urls["loop"]]
    assert "RAG_FETCH_MAX_BYTES" in failed[news.url("/articles/wikinews-5833.html")]
    assert len(news.requests_to("/flaky.xml")) == 2  # the 500 was retried, then landed
    assert len(news.requests_to("/slow.xml")) == 2  # one retry after the timeout, then given up
    assert took < 20
    s = Settings(index_dir=Path(index), model_dir=MODEL_DIR)
    stored = _stored(s)
    assert {news.url(f"/articles/{i}.html") for i in ("wikinews-5793", "wikinews-5799")} == set(stored)
    state = {f.name: f for f in list_feeds(s)}
    assert state["good"].status == "ok" and state["flaky"].status == "ok"
    assert state["missing"].status == "failed" and "404" in (state["missing"].error or "")
    assert state["huge"].status == "failed"  # its entry did not land: it is fetched in full next time
    listing = runner.invoke(app, ["feeds", "list", "--index", index])
    assert "redirect loop" in listing.output and "HTTP 404" in listing.output


def test_retry_after_is_honoured(news: NewsServer, fs: Settings) -> None:
    news.route("/limited", body=b"<rss/>", then=[(429, {"Retry-After": "1"})])
    with Fetcher(fs) as f:
        got = f.get(news.url("/limited"))
    assert got.status == 200
    a, b = news.requests_to("/limited")
    assert b.at - a.at >= 0.95
    # a server asking for longer than RAG_FETCH_MAX_RETRY_AFTER is not waited for
    news.route("/later", body=b"x", then=[(503, {"Retry-After": "3600"})])
    with Fetcher(fs) as f, pytest.raises(FetchError, match="RAG_FETCH_MAX_RETRY_AFTER"):
        f.get(news.url("/later"))
    assert len(news.requests_to("/later")) == 1


def test_requests_to_one_host_are_spaced_by_the_host_delay(news: NewsServer, fs: Settings) -> None:
    for i in range(3):
        news.route(f"/p{i}", body=b"ok")
    with Fetcher(fs.model_copy(update={"fetch_host_delay": 0.4})) as f:
        for i in range(3):
            f.get(news.url(f"/p{i}"))
    times = [news.requests_to(f"/p{i}")[0].at for i in range(3)]
    assert all(b - a >= 0.38 for a, b in zip(times, times[1:], strict=False))


def test_redirects_are_followed_within_the_limit(news: NewsServer, fs: Settings) -> None:
    news.route("/final", body=b"here")
    for i in range(4):
        news.route(f"/r{i}", status=301, headers={"Location": f"/r{i + 1}" if i < 3 else "/final"})
    with Fetcher(fs) as f:
        got = f.get(news.url("/r0"))
        assert got.body == b"here" and got.url == news.url("/final")
        with pytest.raises(FetchError, match="RAG_FETCH_MAX_REDIRECTS"):
            Fetcher(fs.model_copy(update={"fetch_max_redirects": 2})).get(news.url("/r0"))
        with pytest.raises(FetchError, match="not an http"):
            f.get("ftp://example.org/feed")


def test_a_declared_content_length_over_the_limit_is_refused_unread(news: NewsServer, fs: Settings) -> None:
    news.route("/big", body=b"x" * 5000)
    with Fetcher(fs.model_copy(update={"fetch_max_bytes": 4000})) as f, pytest.raises(FetchError, match="5000 bytes"):
        f.get(news.url("/big"))


def test_a_page_in_windows_1252_declared_only_in_its_header(news: NewsServer, fs: Settings,
                                                            embedder: OnnxMiniLM) -> None:
    a = {**W["wikinews-5799"], "title": "Café owners’ naïve bet costs €40,000"}
    a["text"] = "The café’s owners lost €40,000 on a naïve bet, the court heard. " + a["text"]
    url = news.page("/cp1252.html", article_page(a, charset=None), charset="windows-1252")
    body = news.routes["/cp1252.html"].body
    assert b"\x80" in body and b"charset" not in body  # the euro sign in cp1252, no declaration in the page
    r = ingest([url], fs, embedder=embedder)
    assert r.added == 1 and not r.rejected
    (stored,) = _stored(fs).values()
    assert stored.title == "Café owners’ naïve bet costs €40,000"  # type: ignore[attr-defined]
    assert "The café’s owners lost €40,000 on a naïve bet" in stored.text  # type: ignore[attr-defined]
    # the header decides, not a guess: the same kind of page in windows-1251 (Cyrillic) reads right too
    ru = {**W["wikinews-5793"], "id": "ru", "title": "Протест в Бейруте"}
    ru["text"] = "Тысячи людей вышли на улицы Бейрута во вторник. " + ru["text"]
    url = news.page("/cp1251.html", article_page(ru, charset=None), charset="windows-1251")
    assert ingest([url], fs, embedder=embedder).added == 1
    assert _stored(fs)[url].title == "Протест в Бейруте"  # type: ignore[attr-defined]


def test_the_same_story_on_two_feeds_is_indexed_once(news: NewsServer, fs: Settings, embedder: OnnxMiniLM) -> None:
    story = W["wikinews-5805"]
    copy = {**story, "guid": "agency-1", "link": f"{news.base}/agency/china-law",
            "text": "BEIJING (Agency) - " + story["text"]}
    add_feed(fs, news.feed("/a.xml", rss("Paper A", [story, W["wikinews-5793"]], news.base)))
    add_feed(fs, news.feed("/b.xml", rss("Agency B", [copy], news.base)))
    r = update(fs, embedder=embedder)
    assert r.ok and r.ingest.added == 2 and r.ingest.duplicates == 1
    assert set(r.ingest.duplicate_of.values()) <= {a.id for a in _stored(fs).values()}  # type: ignore[attr-defined]
    again = update(fs, embedder=embedder)
    assert again.skipped_entries == 3 and again.ingest.duplicates == 0  # the copy is remembered as seen


def test_ingest_urls_and_bad_urls_from_the_cli(news: NewsServer, tmp_path: Path) -> None:
    news.pages(_arts("wikinews-5793"))
    feed = news.feed("/wire.xml", rss("Wire", _arts("wikinews-5799"), news.base))
    index = str(tmp_path / "index")
    r = runner.invoke(app, ["ingest", news.url("/articles/wikinews-5793.html"), feed, news.url("/nope.html"),
                            "ftp://example.org/x", "--index", index], env=FAST_ENV)
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert "added 2" in r.output, r.output
    assert f"rejected {news.url('/nope.html')}: HTTP 404" in r.output
    assert "not an http(s) URL" in r.output
    s = Settings(index_dir=Path(index), model_dir=MODEL_DIR)
    assert {a.title for a in _stored(s).values()} == {W["wikinews-5793"]["title"], W["wikinews-5799"]["title"]}  # type: ignore[attr-defined]


def test_feeds_add_list_remove(tmp_path: Path) -> None:
    index = ["--index", str(tmp_path / "index")]
    assert runner.invoke(app, ["feeds", "list", *index]).exit_code == 1  # no index yet: one error line
    r = runner.invoke(app, ["feeds", "add", "https://example.org/feed.xml", "--name", "Example", *index])
    assert r.exit_code == 0 and "added Example" in r.output
    r = runner.invoke(app, ["feeds", "add", "https://example.org/feed.xml", *index])
    assert r.exit_code == 0 and "already subscribed" in r.output
    r = runner.invoke(app, ["feeds", "add", "https://other.org/rss", "--name", "Example", *index])
    assert r.exit_code == 1 and "already used by https://example.org/feed.xml" in r.output
    r = runner.invoke(app, ["feeds", "add", "example.org/feed", *index])
    assert r.exit_code == 1 and r.output.startswith("error: ") and "http(s) URL" in r.output
    closed = f"http://127.0.0.1:{free_port()}/rss"  # nothing listens there
    runner.invoke(app, ["feeds", "add", closed, *index])
    r = runner.invoke(app, ["feeds", "list", "--json", *index])
    assert [f["url"] for f in json.loads(r.output)["feeds"]] == ["https://example.org/feed.xml", closed]
    r = runner.invoke(app, ["feeds", "remove", "Example", "nope", *index])
    assert r.exit_code == 1 and "'nope'" in r.output  # nothing removed when one key is unknown
    assert runner.invoke(app, ["feeds", "remove", "Example", *index]).exit_code == 0
    assert "example.org/feed.xml" not in runner.invoke(app, ["feeds", "list", *index]).output
    r = runner.invoke(app, ["update", *index], env={**FAST_ENV, "RAG_FETCH_RETRIES": "0"})
    assert r.exit_code == 1  # other.org is not reachable from the tests: reported, no traceback
    assert "Traceback" not in r.output and f"failed {closed}: cannot connect" in r.output

"""`rag daily` end to end against a real local HTTP server (tests/feedserver.py): feeds -> index -> digest ->
briefs -> static site. Run twice the same day it rewrites nothing; the next day adds a page, marks the
developing story and links its brief; the Atom feed reads back in feedparser; the pages render in headless
Chromium with working citation links."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.config import Settings
from rag.daily import daily
from rag.models.embed import OnnxMiniLM

from .conftest import MODEL_DIR, FakeChat
from .feedserver import NewsServer, atom, rss, wikinews
from .newsdata import CHROMIUM, chromium, copy_first
from .test_backends import StubOpenAI
from .test_feeds import FAST, FAST_ENV

runner = CliRunner()
W = wikinews()
DAY1 = sorted(i for i, a in W.items() if "2005-03-20" <= a["date"] <= "2005-03-25")  # nine articles
DAY2 = ["wikinews-6486", "wikinews-6487"]  # 2005-03-26: two reports of the Taipei march (continues 6441)


@pytest.fixture
def news() -> Iterator[NewsServer]:
    s = NewsServer()
    s.pages([W[i] for i in DAY1 + DAY2])
    s.feed("/wire.xml", rss("The Wire", [W[i] for i in DAY1], s.base), etag='"d1"')
    s.feed("/gazette.atom", atom("Test Gazette", [], s.base))
    yield s
    s.close()


def _day2(news: NewsServer) -> None:
    """The next day's news: the Gazette's summaries of both march reports (their pages are fetched), and
    the wire's syndicated copy of one of them (a duplicate)."""
    news.feed("/gazette.atom", atom("Test Gazette", [W[i] for i in DAY2], news.base))
    copy = {**W["wikinews-6487"], "guid": "wire-6487", "link": f"{news.base}/wire/6487",
            "text": "TAIPEI (Wire) - " + W["wikinews-6487"]["text"]}
    news.feed("/wire.xml", rss("The Wire", [W[i] for i in DAY1] + [copy], news.base), etag='"d2"')


def _settings(tmp_path: Path, news: NewsServer) -> Settings:
    from rag.ingest.feeds import add_feed

    s = Settings(index_dir=tmp_path / "index", model_dir=MODEL_DIR, **FAST)  # type: ignore[arg-type]
    add_feed(s, news.url("/wire.xml"), name="Wire")
    add_feed(s, news.url("/gazette.atom"))
    return s


def _site(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and not p.name.startswith(".")}


def test_daily_twice_then_the_next_day(news: NewsServer, tmp_path: Path, embedder: OnnxMiniLM) -> None:
    s = _settings(tmp_path, news)
    out = tmp_path / "site"
    lines: list[str] = []
    llm = FakeChat(copy_first)
    r1 = daily(s, out, day="2005-03-25", llm=llm, embedder=embedder, log=lines.append)
    assert r1.ok and r1.update is not None and r1.update.ingest.added == len(DAY1)
    assert [line.split(":")[0] for line in lines] == ["update", "digest 2005-03-25", "briefs", "site"]
    first = _site(out)
    assert {"index.html", "index.json", "feed.atom", "days/2005-03-25.html", "days/2005-03-25.json"} <= set(first)
    calls = len(llm.prompts)

    # the same day again: the feed answers 304, the digest is cached, no file is rewritten
    r2 = daily(s, out, day="2005-03-25", llm=llm, embedder=embedder)
    assert r2.update is not None and r2.update.unchanged_feeds == 1
    assert r2.site.written == [] and _site(out) == first
    assert len(llm.prompts) == calls  # no model call for an unchanged day

    # the next day: a new page, the developing story marked and briefed, yesterday's page kept and linked
    _day2(news)
    r3 = daily(s, out, day="2005-03-26", llm=llm, embedder=embedder)
    assert r3.ok and r3.update is not None
    assert r3.update.ingest.added == 2 and r3.update.ingest.duplicates == 1 and r3.update.pages == 2
    assert r3.stories == 1 and r3.developing == 1 and r3.briefs == 1
    site = _site(out)
    assert first["days/2005-03-25.json"] == site["days/2005-03-25.json"]  # the earlier day is kept as it was
    day2 = site["days/2005-03-26.html"].decode()
    assert "Developing" in day2 and 'href="2005-03-25.html#s-2005-03-25-0"' in day2
    assert 'href="../briefs/2005-03-26-0.html"' in day2 and "briefs/2005-03-26-0.html" in site
    assert 'href="2005-03-26.html"' in site["days/2005-03-25.html"].decode()  # yesterday links to today
    index = site["index.html"].decode()
    assert index.index("days/2005-03-26.html") < index.index("days/2005-03-25.html")  # newest first
    _check_atom(out / "feed.atom", ["2005-03-26", "2005-03-25"])
    _check_links(out)


def _check_atom(path: Path, days: list[str]) -> None:
    import feedparser

    ET.parse(path)  # well-formed XML
    f = feedparser.parse(path.read_bytes())
    assert not f.bozo, f.get("bozo_exception")
    assert f.version == "atom10" and f.feed.title and f.feed.updated_parsed
    assert [e.link for e in f.entries] == [f"days/{d}.html" for d in days]
    for e, d in zip(f.entries, days, strict=True):
        assert e.updated_parsed and e.published.startswith(d) and e.id and e.title.endswith(d[:4])
        assert "<h3>" in e.content[0].value  # the day's stories, as HTML
    assert len({e.id for e in f.entries}) == len(days)


def _check_links(out: Path) -> None:
    """Every relative link of every page names a file of the site, and every #fragment an element of it."""
    for page in out.rglob("*.html"):
        html = page.read_text()
        ids = set(re.findall(r'\bid="([^"]+)"', html))
        for href in re.findall(r'href="([^"]+)"', html):
            if href.startswith(("http://", "https://")):
                continue
            target, _, frag = href.partition("#")
            dest = (page.parent / target).resolve() if target else page
            assert dest.exists(), (page, href)
            if frag:
                assert frag in (ids if dest == page else set(re.findall(r'\bid="([^"]+)"', dest.read_text()))), (page, href)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install -y chromium)")
def test_site_pages_render_in_headless_chromium(news: NewsServer, tmp_path: Path, embedder: OnnxMiniLM) -> None:
    s = _settings(tmp_path, news)
    out = tmp_path / "site"
    llm = FakeChat(copy_first)
    daily(s, out, day="2005-03-25", llm=llm, embedder=embedder)
    _day2(news)
    daily(s, out, day="2005-03-26", llm=llm, embedder=embedder)
    page = out / "days" / "2005-03-26.html"
    dom = chromium(["--dump-dom", page.as_uri()], tmp_path)
    assert "Saturday 26 March 2005" in dom and "Developing" in dom
    marks = re.findall(r'<sup><a href="#(c-2005-03-26-0-\d+)">', dom)
    assert marks, dom[:2000]
    for m in marks:  # every citation mark opens a passage of the page, its cited span highlighted
        block = re.search(rf'<div class="cite" id="{m}">(.*?)</div>\s*(?:<div class="cite"|<div class="meta")', dom, re.S)
        assert block and "<mark>" in block.group(1)
    shot = tmp_path / "day.png"
    chromium([f"--screenshot={shot}", "--window-size=1000,1400", page.as_uri() + f"#{marks[0]}"], tmp_path)
    assert shot.stat().st_size > 10_000
    shutil.copy(shot, "/tmp/daily-test-screenshot.png")  # to look at
    brief = chromium(["--dump-dom", (out / "briefs" / "2005-03-26-0.html").as_uri()], tmp_path)
    assert "The story so far" in brief and "Timeline" in brief and "<mark>" in brief
    index = chromium(["--dump-dom", (out / "index.html").as_uri()], tmp_path)
    assert index.count('class="dev"') >= 1 and "Friday 25 March 2005" in index


def test_cli_daily_reports_failed_feeds_and_still_publishes(news: NewsServer, tmp_path: Path) -> None:
    s = _settings(tmp_path, news)
    runner.invoke(app, ["feeds", "add", news.url("/gone.xml"), "--index", str(s.index_dir)])
    stub = StubOpenAI()
    try:
        env = {**FAST_ENV, "RAG_LLM_BASE_URL": stub.url, "RAG_LLM_MODEL": "stub-model", "RAG_LLM_MAX_RETRIES": "0"}
        out = tmp_path / "site"
        r = runner.invoke(app, ["daily", "--date", "2005-03-25", "--out", str(out), "--index", str(s.index_dir)],
                          env=env)
        assert r.exit_code == 1, r.output
        assert "Traceback" not in r.output
        assert f"error: {news.url('/gone.xml')}: HTTP 404" in r.output
        steps = [line for line in r.output.splitlines() if " rag daily: " in line]
        assert [line.split(" rag daily: ")[1].split(":")[0] for line in steps] == \
            ["update", "digest 2005-03-25", "briefs", "site"]
        assert (out / "days" / "2005-03-25.html").exists()
        q = runner.invoke(app, ["daily", "--date", "2005-03-25", "--out", str(out), "--index", str(s.index_dir),
                                "--quiet"], env=env)
        assert q.exit_code == 1 and q.output.strip().splitlines() == [f"error: {news.url('/gone.xml')}: HTTP 404 "
                                                                      "Not Found; check the URL or remove it"]
        bad = runner.invoke(app, ["daily", "--date", "2005-02-30", "--out", str(out), "--index", str(s.index_dir)],
                            env=env)
        assert bad.exit_code == 1 and bad.output.strip().splitlines() == [
            "error: --date '2005-02-30' is not a date: use YYYY-MM-DD"]
    finally:
        stub.close()

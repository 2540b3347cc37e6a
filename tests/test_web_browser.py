"""`rag web`'s pages in real headless Chromium (playwright driving the system Chromium) against a real
uvicorn server: an answer streams in before generation ends and its citation lands on the highlighted
span; a day's developing link; a brief with its progress; a draft checked; hostile articles inert."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from rag.config import Settings

from .conftest import FakeChat
from .newsdata import CHROMIUM, copy_first
from .test_hostile import HOSTILE_JS
from .webserver import GatedChat, browser_or_skip, web_server

SEED_Q = "Which city hosted the US-Ukraine talks?"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_playwright = browser_or_skip()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1000, "height": 800})
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.dialogs = dialogs
    try:
        yield pg
    finally:
        ctx.close()


def _lands_on_span(page: Any, url: str) -> None:
    """The article view shows the stored text exactly, the cited span highlighted and scrolled into view."""
    import httpx

    m = re.search(r"/articles/([^?]+)\?start=(\d+)&end=(\d+)#span$", page.url)
    assert m, page.url
    art = httpx.get(f"{url}/api/articles/{m.group(1)}").json()
    start, end = int(m.group(2)), int(m.group(3))
    assert page.inner_text("mark#span") == art["text"][start:end]
    assert page.eval_on_selector("#article", "e => e.textContent") == art["text"]
    box, height = page.locator("mark#span").bounding_box(), page.evaluate("innerHeight")
    assert box and 0 <= box["y"] < height  # in view
    assert page.eval_on_selector("mark#span", "e => getComputedStyle(e).backgroundColor") != "rgba(0, 0, 0, 0)"


def test_a_cited_sentence_appears_before_generation_ends_and_opens_its_span(seed_settings: Settings, embedder: object,
                                                                            page: Any) -> None:
    llm = GatedChat(hold="city")  # holds generation after the first sentence until the test has seen it
    with web_server(seed_settings, embedder=embedder, llm=llm) as url:
        page.goto(f"{url}/ask?q={quote(SEED_Q)}")
        first = page.wait_for_selector("#answer .sentence")
        assert llm.held.is_set() and not llm.gate.is_set()  # the model is still generating
        assert page.get_attribute("#ask", "data-generated") is None
        assert first.get_attribute("data-generating") == "running" and re.search(r"\[\d+\]", first.inner_text())
        llm.gate.set()
        page.wait_for_selector("#ask[data-done]")
        assert page.get_attribute("#ask", "data-generated") == "1"
        assert "Geneva" in page.inner_text("#answer")
        page.click("#answer a.cref")
        page.wait_for_url(re.compile(r"/articles/"))
        _lands_on_span(page, url)
        assert not page.dialogs


@pytest.mark.slow
def test_real_model_answers_the_seed_question_in_the_page(seed_settings: Settings, embedder: object, local_llm: object,
                                                          page: Any) -> None:
    page.set_default_timeout(900_000)  # the embedded model on a shared 2-core machine
    with web_server(seed_settings, embedder=embedder, llm=local_llm) as url:
        page.goto(f"{url}/ask?q={quote(SEED_Q)}")
        page.wait_for_selector("#ask[data-done]")
        assert page.get_attribute("#ask", "data-first-sentence-ms") is not None  # a verified sentence was streamed
        assert "Geneva" in page.inner_text("#answer") and page.get_attribute("#ask", "data-generated") == "1"
        page.click("#answer a.cref")
        page.wait_for_url(re.compile(r"/articles/"))
        _lands_on_span(page, url)
        page.goto(f"{url}/days/2025-11-24")  # the seed day's digest by the real model
        page.wait_for_selector("article.story")


def test_a_refusal_shows_why_and_the_closest_passages(seed_settings: Settings, embedder: object, page: Any) -> None:
    with web_server(seed_settings, embedder=embedder, llm=FakeChat(lambda s, u: "NOT IN ARTICLES")) as url:
        page.goto(f"{url}/ask?q={quote('At what time did the Geneva talks start?')}")
        page.wait_for_selector("#ask[data-done]")
        assert "Why: the model found no answer" in page.inner_text("#why")
        assert page.locator("#related li a").count() >= 1
        page.click("#related li a >> nth=0")
        page.wait_for_url(re.compile(r"/articles/"))
        _lands_on_span(page, url)


def test_a_day_and_its_developing_link(ssettings: Settings, embedder: object, page: Any) -> None:
    with web_server(ssettings, embedder=embedder, llm=FakeChat(copy_first)) as url:
        page.goto(f"{url}/days")
        page.click('a[href="/days/2005-03-26"]')
        page.wait_for_url(re.compile(r"/days/2005-03-26\?result=[\w-]+$"))  # written in its turn on the model
        assert page.locator("article.story").count() == 1 and page.locator("ul.articles li").count() == 2
        page.click("a.developing")
        page.wait_for_url(re.compile(r"/days/2005-03-25\?result=[\w-]+#s-2005-03-25-\d+$"))
        target = page.url.rsplit("#", 1)[1]
        assert page.locator(f"article#{target}").count() == 1
        assert "wikinews-6441" in page.inner_html(f"article#{target}") or page.locator(f"article#{target} h3").count()
        page.click("ul.articles li a >> nth=0")
        page.wait_for_url(re.compile(r"/articles/"))
        assert page.inner_text("#title")
        page.go_back()
        cited = page.inner_text("div.cite code >> nth=0")  # an article the day's digest cites
        page.goto(f"{url}/articles/{quote(cited, safe='')}")  # no span asked: the spans cited anywhere are marked
        assert page.locator("mark.cited").count() >= 1 and page.locator("mark#span").count() == 0


def test_a_brief_with_progress_then_listed(ssettings: Settings, embedder: object, page: Any) -> None:
    topic = "China's anti-secession law and Taiwan"
    with web_server(ssettings, embedder=embedder, llm=FakeChat(copy_first)) as url:
        page.goto(f"{url}/story")
        page.fill("input[name=topic]", topic)
        page.click("form button")
        page.wait_for_url(re.compile(r"/story/brief\?"))
        assert page.locator("h2", has_text="Timeline").count() == 1
        assert page.locator("li sup a").count() >= 1 and "Coverage:" in page.inner_text("p.meta")
        page.click("li sup a >> nth=0")  # the mark shows its passage, which opens the article at the span
        page.click("div.cite:target a.open")
        page.wait_for_url(re.compile(r"/articles/"))
        _lands_on_span(page, url)
        page.goto(f"{url}/story")
        assert page.locator("ul.briefs li a", has_text=topic).count() == 1
        import httpx  # the progress the page shows while a brief is written: one event per article, then the overview

        stream = httpx.get(f"{url}/api/brief/stream", params={"topic": topic}, timeout=120).text
        progress = [json.loads(d) for d in re.findall(r"^event: progress\ndata: (.*)$", stream, flags=re.M)]
        assert len(progress) >= 2 and progress[-1]["done"] == progress[-1]["total"], stream[:500]


def test_a_draft_with_one_false_sentence(seed_settings: Settings, embedder: object, page: Any) -> None:
    draft = ("Ukrainian President Volodymyr Zelensky confirmed that his negotiation team is returning from Switzerland. "
             "Kremlin aide Yuri Ushakov called the European plan totally constructive.")
    with web_server(seed_settings, embedder=embedder, llm=FakeChat()) as url:
        page.goto(f"{url}/check")
        page.fill("textarea[name=text]", draft)
        page.click("form button")
        page.wait_for_selector("#summary")
        assert re.search(r"/check\?result=[\w-]+$", page.url)  # posted as a stream (queue shown), then its report
        assert page.input_value("textarea[name=text]") == draft
        assert page.inner_text("#summary").startswith("1 of 2")
        ok, bad = page.locator(".statement").all()
        assert "supported" in (ok.get_attribute("class") or "") and "Switzerland" in ok.inner_text()
        assert "unsupported" in (bad.get_attribute("class") or "") and "Ushakov" in bad.inner_text()
        assert ok.locator("blockquote.evidence a").count() == 1


def test_hostile_articles_do_nothing_on_any_page(settings: Settings, embedder: object, tmp_path: Path,
                                                 page: Any) -> None:
    from rag.ingest import ingest

    src = tmp_path / "hostile.jsonl"
    src.write_text(json.dumps(HOSTILE_JS) + "\n")
    assert ingest([src], settings, embedder=embedder).added == 1  # type: ignore[arg-type]
    topic = quote("Zanzibar ferry workers strike")
    with web_server(settings, embedder=embedder, llm=FakeChat(copy_first)) as url:
        pages = [f"/ask?q={quote('Why did the Zanzibar ferry workers strike?')}", "/days", "/days/2005-02-02",
                 f"/story?topic={topic}", "/articles/hostile-js", "/articles/hostile-js?start=0&end=40", "/check"]
        for path in pages:
            page.goto(url + path)
            if "/ask?" in path:
                page.wait_for_selector("#ask[data-done]")
            if "/story?" in path:
                page.wait_for_url(re.compile(r"/story/brief\?"))
            if path.startswith("/days/"):
                page.wait_for_url(re.compile(r"result="))
            page.wait_for_load_state("load")
            assert page.evaluate("document.documentElement.getAttribute('data-ran')") is None, path
            assert page.locator('a[href^="javascript:"]').count() == 0, path
            assert page.locator("iframe, img[src=x], svg").count() == 0, path
        page.goto(url + "/check")
        page.fill("textarea[name=text]", HOSTILE_JS["text"] + " " + HOSTILE_JS["title"])
        page.click("form button")
        page.wait_for_selector("#summary")
        assert page.evaluate("document.documentElement.getAttribute('data-ran')") is None
        page.goto(url + "/articles/hostile-js")
        assert "<script>" in page.inner_text("#article") and "onerror=" in page.inner_text("#title")
        assert not page.dialogs
        # the detector works: the same payloads pasted raw into a page do run in this browser
        page.goto("about:blank")  # a page without the app's Content-Security-Policy
        page.set_content(f"<h1>{HOSTILE_JS['title']}</h1><p>{HOSTILE_JS['text']}</p>")
        page.wait_for_function("document.documentElement.getAttribute('data-ran') !== null")

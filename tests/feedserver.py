"""A real HTTP server on 127.0.0.1 serving feeds and article pages for the feed, update and daily tests
(and eval/bench_daily.py): RSS with full content, Atom with summaries linking to pages, and resources that
misbehave on purpose (404, 500 then 200, 429 with Retry-After, slow, malformed, huge, redirect loops, a
page in windows-1252 declared only in its header, conditional GET answered with 304)."""

from __future__ import annotations

import contextlib
import html
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from datetime import date as Date
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data" / "wikinews_stories_2005.jsonl"


def wikinews() -> dict[str, dict[str, str]]:
    """The real Wikinews articles of tests/data, by id."""
    return {r["id"]: r for r in (json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines())}


def rfc822(day: str, hour: int = 12) -> str:
    d = Date.fromisoformat(day)
    return format_datetime(datetime(d.year, d.month, d.day, hour, tzinfo=UTC))


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n|\n", text) if p.strip()]


def article_page(a: dict[str, str], author: str = "Jane Reporter", charset: str | None = "utf-8") -> str:
    """An article page as newspapers write them: navigation, the article with its metadata, a footer."""
    e = html.escape
    meta = f'<meta charset="{charset}">' if charset else ""
    body = "".join(f"<p>{e(p)}</p>" for p in paragraphs(a["text"]))
    return (f"<!DOCTYPE html><html><head>{meta}<title>{e(a['title'])} | Test Gazette</title>"
            f'<meta property="og:title" content="{e(a["title"])}">'
            f'<meta name="author" content="{e(author)}">'
            f'<meta property="article:published_time" content="{a["date"]}T09:00:00+00:00">'
            "</head><body><nav><a href='/'>Home</a> <a href='/world'>World</a> <a href='/sport'>Sport</a></nav>"
            f"<article><h1>{e(a['title'])}</h1><p class='byline'>By {e(author)}</p>{body}</article>"
            "<footer>Copyright Test Gazette. All rights reserved.</footer></body></html>")


def rss(title: str, items: list[dict[str, str]], base: str, full: bool = True) -> str:
    """RSS 2.0: full text in content:encoded (full=True), else only a one-sentence description."""
    e = html.escape
    out = [f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
           f"<channel><title>{e(title)}</title><link>{base}/</link><description>test</description>"]
    for a in items:
        first = re.split(r"(?<=[.!?])\s", a["text"], maxsplit=1)[0]
        link = a.get("link") or f"{base}/articles/{a['id']}.html"
        out.append(f"<item><title>{e(a['title'])}</title><link>{e(link)}</link>"
                   f"<guid isPermaLink=\"false\">{e(a.get('guid', a['id']))}</guid><pubDate>{rfc822(a['date'])}</pubDate>"
                   f"<description>{e(first)}</description>")
        if full:
            content = "".join(f"<p>{e(p)}</p>" for p in paragraphs(a["text"]))
            out.append(f"<content:encoded><![CDATA[{content}]]></content:encoded>")
        out.append("</item>")
    out.append("</channel></rss>")
    return "".join(out)


def atom(title: str, items: list[dict[str, str]], base: str) -> str:
    """Atom with summaries only; each entry links to its article page."""
    e = html.escape
    out = ['<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">',
           f"<title>{e(title)}</title><id>{base}/atom</id><updated>2005-04-01T00:00:00Z</updated>"]
    for a in items:
        first = re.split(r"(?<=[.!?])\s", a["text"], maxsplit=1)[0]
        out.append(f"<entry><title>{e(a['title'])}</title><id>tag:gazette,{a['id']}</id>"
                   f'<link rel="alternate" href="{base}/articles/{a["id"]}.html"/>'
                   f"<updated>{a['date']}T12:00:00Z</updated><summary>{e(first)}</summary></entry>")
    out.append("</feed>")
    return "".join(out)


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    at: float


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    then: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # statuses answered first, in order
    delay: float = 0.0
    etag: str | None = None  # answer 304 to If-None-Match with it
    stream_bytes: int = 0  # send this many bytes of filler, without Content-Length
    handler: Callable[[Any], None] | None = None


class NewsServer:
    """Routes are set by tests (`route`, `feed`, `page`); every request is recorded in `hits`."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[Hit] = []
        self.lock = threading.Lock()
        srv = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                with srv.lock:
                    srv.hits.append(Hit(path, {k.lower(): v for k, v in self.headers.items()}, time.monotonic()))
                    r = srv.routes.get(path)
                    first = r.then.pop(0) if r is not None and r.then else None
                if r is None:
                    return self._send(404, b"<h1>Not found</h1>", {"Content-Type": "text/html"})
                if r.delay:
                    time.sleep(r.delay)
                if first is not None:
                    return self._send(first[0], b"try again", first[1])
                if r.handler is not None:
                    return r.handler(self)
                if r.etag and self.headers.get("If-None-Match") == r.etag:
                    return self._send(304, b"", {"ETag": r.etag})
                headers = dict(r.headers)
                if r.etag:
                    headers["ETag"] = r.etag
                if r.stream_bytes:
                    self.send_response(r.status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    block = b"<p>" + b"filler " * 1400 + b"</p>\n"
                    sent = 0
                    try:
                        while sent < r.stream_bytes:
                            self.wfile.write(block)
                            sent += len(block)
                    except OSError:  # the client stopped reading at its limit
                        pass
                    return None
                return self._send(r.status, r.body, headers)

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                if status != 304:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if status != 304:
                    with contextlib.suppress(OSError):
                        self.wfile.write(body)

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that hung up (timeout, size limit) is what some tests do on purpose

        self.server = Server(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return self.base + path

    def route(self, path: str, **kw: Any) -> str:
        self.routes[path] = Route(**kw)
        return self.url(path)

    def feed(self, path: str, xml: str, **kw: Any) -> str:
        ctype = "application/atom+xml" if "<feed" in xml[:200] else "application/rss+xml"
        return self.route(path, body=xml.encode("utf-8"), headers={"Content-Type": f"{ctype}; charset=utf-8"}, **kw)

    def page(self, path: str, page: str, charset: str = "utf-8") -> str:
        return self.route(path, body=page.encode(charset),
                          headers={"Content-Type": f"text/html; charset={charset}"})

    def pages(self, articles: list[dict[str, str]]) -> None:
        for a in articles:
            self.page(f"/articles/{a['id']}.html", article_page(a))

    def requests_to(self, path: str) -> list[Hit]:
        return [h for h in self.hits if h.path == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

"""A polite, robust HTTP fetcher for feeds and article pages (httpx).

One `Fetcher` per run, shared by threads. Each `get` does, in order:
- refuses URLs that are not http(s) with a host (FetchError, nothing sent);
- waits for the host's turn: one request at a time per host, each starting `fetch_host_delay` seconds after
  the previous one to that host ended (across threads; other hosts go on meanwhile);
- sends a clear User-Agent (`fetch_user_agent`) and, when given, the validators of the last fetch
  (If-None-Match / If-Modified-Since): an unchanged resource costs one 304 and no body;
- follows at most `fetch_max_redirects` redirects itself (each hop waits for its host's turn), and names a
  redirect loop as such;
- reads the body as a stream and stops at `fetch_max_bytes` (a Content-Length over it is refused before
  reading);
- retries `fetch_retries` times on 429, 5xx, timeouts and connection errors, waiting `fetch_backoff`
  seconds doubled each time, or what Retry-After asks (seconds or an HTTP date) when that is not more than
  `fetch_max_retry_after`; the whole request (every byte) must arrive within `fetch_timeout` seconds.

Errors (one line each, naming the URL's problem and what to do):

    FetchError (rag.errors.InputError)   bad URL, HTTP status, timeout, too large, redirect loop, network

Not handled: cookies, authentication, JavaScript-rendered pages, robots.txt (feeds are fetched because the
user subscribed to them; article pages are the ones those feeds link to).
"""

from __future__ import annotations

import email.utils
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from rag.config import Settings
from rag.errors import FetchError

RETRY_STATUSES = {429, 500, 502, 503, 504}
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)


@dataclass(frozen=True)
class Fetched:
    """One response: `url` is the final URL (after redirects); `not_modified` for a 304 (no body)."""

    url: str
    status: int
    body: bytes
    content_type: str  # the media type, lower case, without parameters ("" when not sent)
    charset: str | None  # from the Content-Type header only (documents declare their own: see `decode_html`)
    etag: str | None
    last_modified: str | None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def check_url(url: str) -> str:
    """The URL, stripped, if it is http(s) with a host; FetchError otherwise.

    >>> check_url(" https://example.org/feed ")
    'https://example.org/feed'
    """
    u = url.strip()
    try:
        parts = urlsplit(u)
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise FetchError(f"{url!r} is not an http(s) URL with a host; give one like https://example.org/feed.xml")
    return u


def is_url(text: str) -> bool:
    """Whether a command-line argument is a URL rather than a file (any scheme: the fetcher refuses
    what is not http(s) with a clear reason, instead of "no such file").

    >>> is_url("https://example.org/a"), is_url("ftp://example.org/a"), is_url("news/a.html")
    (True, True, False)
    """
    return bool(re.match(r"[a-z][a-z0-9+.-]*://", text.strip(), re.I))


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds a Retry-After header asks for (delta-seconds or an HTTP date); None when absent or unreadable.

    >>> retry_after("7"), retry_after(None), retry_after("soon")
    (7.0, None, None)
    """
    if not value:
        return None
    v = value.strip()
    if v.isdigit():
        return float(v)
    try:
        when = email.utils.parsedate_to_datetime(v)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def decode_html(body: bytes, charset: str | None) -> str:
    """A page's text: the header's charset, else the document's own `<meta charset>` (or http-equiv),
    else UTF-8 if it is valid, else windows-1252 (what browsers assume for undeclared Western pages).

    >>> decode_html("caf\\u00e9".encode("cp1252"), "windows-1252")
    'café'
    >>> decode_html(b'<meta charset="iso-8859-1">caf\\xe9', None)[-4:]
    'café'
    """
    for enc in (charset, _declared(body)):
        if enc:
            try:
                return body.decode(enc, errors="replace")
            except LookupError:  # an unknown encoding name: try the next source
                continue
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("cp1252", errors="replace")


def _declared(body: bytes) -> str | None:
    head = body[:4096].decode("ascii", errors="replace")
    m = re.search(r"<meta[^>]+charset\s*=\s*[\"']?([\w.:-]+)", head, re.I)
    return m.group(1) if m else None


class Fetcher:
    """See the module doc. Thread-safe; close it (or use `with`) to release connections."""

    def __init__(self, settings: Settings, transport: httpx.BaseTransport | None = None) -> None:
        self.s = settings
        self.client = httpx.Client(
            headers={"User-Agent": settings.fetch_user_agent, "Accept-Encoding": "gzip, deflate"},
            timeout=httpx.Timeout(settings.fetch_timeout), follow_redirects=False, transport=transport,
        )
        self._lock = threading.Lock()
        self._host_locks: dict[str, threading.Lock] = {}
        self._next: dict[str, float] = {}  # host -> monotonic time of its next allowed request
        self.requests = 0

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()

    def get(self, url: str, etag: str | None = None, last_modified: str | None = None,
            accept: str = "*/*") -> Fetched:
        """The resource at `url` (module doc); raises FetchError with the reason."""
        start = check_url(url)
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        attempt = 0
        while True:
            try:
                return self._follow(start, headers)
            except _Retry as r:
                attempt += 1
                wait = r.wait if r.wait is not None else self.s.fetch_backoff * 2 ** (attempt - 1)
                if attempt > self.s.fetch_retries:
                    raise FetchError(f"{url}: {r.reason} (gave up after {attempt} attempts; RAG_FETCH_RETRIES)") from None
                if wait > self.s.fetch_max_retry_after:
                    raise FetchError(f"{url}: {r.reason}, and the server asks to retry after {wait:.0f} s, over "
                                     "RAG_FETCH_MAX_RETRY_AFTER; run again later") from None
                time.sleep(wait)

    def _follow(self, url: str, headers: dict[str, str]) -> Fetched:
        seen = [url]
        while True:
            status, resp_headers, body = self._once(url, headers)
            if status in (301, 302, 303, 307, 308):
                loc = resp_headers.get("location")
                if not loc:
                    raise FetchError(f"{seen[0]}: HTTP {status} redirect without a Location header")
                nxt = urljoin(url, loc.strip())
                if nxt in seen:
                    raise FetchError(f"{seen[0]}: redirect loop ({' -> '.join([*seen, nxt])[:300]}); fix the URL")
                if len(seen) > self.s.fetch_max_redirects:
                    raise FetchError(f"{seen[0]}: more than {self.s.fetch_max_redirects} redirects "
                                     "(RAG_FETCH_MAX_REDIRECTS); give the final URL")
                try:
                    check_url(nxt)
                except FetchError:
                    raise FetchError(f"{seen[0]}: redirected to {nxt!r}, which is not http(s)") from None
                seen.append(nxt)
                url = nxt
                continue
            ctype = resp_headers.get("content-type", "")
            m = _CHARSET.search(ctype)
            return Fetched(url, status, body, ctype.split(";")[0].strip().lower(), m.group(1) if m else None,
                           resp_headers.get("etag"), resp_headers.get("last-modified"))

    def _once(self, url: str, headers: dict[str, str]) -> tuple[int, httpx.Headers, bytes]:
        """One request, after the host's turn: (status, headers, body) for 2xx, 304 and redirects;
        _Retry for what may pass; FetchError for the rest."""
        with self._turn(urlsplit(url).hostname or ""):
            return self._request(url, headers)

    def _request(self, url: str, headers: dict[str, str]) -> tuple[int, httpx.Headers, bytes]:
        self.requests += 1
        deadline = time.monotonic() + self.s.fetch_timeout
        limit = self.s.fetch_max_bytes
        try:
            with self.client.stream("GET", url, headers=headers) as r:
                if r.status_code in RETRY_STATUSES:
                    raise _Retry(f"HTTP {r.status_code} {r.reason_phrase}".strip(),
                                 retry_after(r.headers.get("retry-after")))
                if r.status_code == 304 or 300 <= r.status_code < 400:
                    return r.status_code, r.headers, b""
                if r.status_code >= 400:
                    hint = {404: "; check the URL or remove it", 410: "; it is gone: remove it",
                            401: "; it needs a login, which is not supported", 403: "; the server refuses us"}
                    raise FetchError(f"{url}: HTTP {r.status_code} {r.reason_phrase}{hint.get(r.status_code, '')}"
                                     .strip())
                length = r.headers.get("content-length", "")
                if length.isdigit() and int(length) > limit:
                    raise FetchError(f"{url}: {int(length)} bytes, over the {limit}-byte limit (RAG_FETCH_MAX_BYTES)")
                parts, got = [], 0
                for chunk in r.iter_bytes():
                    got += len(chunk)
                    if got > limit:
                        raise FetchError(f"{url}: more than {limit} bytes, over the limit (RAG_FETCH_MAX_BYTES)")
                    if time.monotonic() > deadline:
                        raise _Retry(f"no complete answer in {self.s.fetch_timeout:g} s (RAG_FETCH_TIMEOUT)", None)
                    parts.append(chunk)
                return r.status_code, r.headers, b"".join(parts)
        except httpx.TimeoutException:
            raise _Retry(f"no answer in {self.s.fetch_timeout:g} s (RAG_FETCH_TIMEOUT)", None) from None
        except httpx.DecodingError as e:
            raise FetchError(f"{url}: the body cannot be decoded ({e})") from None
        except (httpx.TransportError, OSError) as e:
            raise _Retry(f"cannot connect ({e.__class__.__name__}: {str(e)[:150] or 'no detail'})", None) from None

    @contextmanager
    def _turn(self, host: str) -> Iterator[None]:
        """The host's turn: one request at a time per host, starting `fetch_host_delay` seconds after the
        previous one to that host ended (other hosts are fetched meanwhile, by other threads)."""
        with self._lock:
            lock = self._host_locks.setdefault(host, threading.Lock())
        with lock:
            wait = self._next.get(host, 0.0) - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                yield
            finally:
                self._next[host] = time.monotonic() + self.s.fetch_host_delay


class _Retry(Exception):
    """Internal: a failure that may pass (429, 5xx, timeout, connection); `wait` from Retry-After."""

    def __init__(self, reason: str, wait: float | None) -> None:
        super().__init__(reason)
        self.reason, self.wait = reason, wait

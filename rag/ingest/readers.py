"""Readers: one per input format, each turning a file into Articles and Rejections (never raising).

Formats (by suffix):
- `.txt`: the first non-empty line is the headline; the whole file is the text.
- `.md` / `.markdown`: optional YAML front matter (`title`, `date`, `url`, `source`, `author`, `id`);
  without a title, the first heading or non-empty line is the headline.
- `.html` / `.htm`: main text and metadata (title, date, site, url, author) by trafilatura; a page
  whose main text is under MIN_HTML_WORDS words is rejected as having no article text.
- `.jsonl` / `.json`: records `{id, title, date, url, source, text}`; a `.json` file holds one record or
  a list of them. A bad line or record is rejected with its line (record) number; the good ones are kept.
- `.xml` / `.rss` / `.atom` / `.feed`: RSS or Atom by feedparser; each entry with content is an article.

Text encoding: `.txt`, `.md`, `.json(l)` must be UTF-8 (a BOM is dropped); anything else is rejected
with the byte offset of the first invalid byte, never guessed. HTML and feeds are decoded by their
own declared encoding (trafilatura / feedparser), falling back to UTF-8.

Ids (stable across re-ingest): a record's or front matter's own `id`; for a feed entry, a hash of its
guid (or link); for other files, the file name without suffix (the pipeline adds a hash of the path
when two different files share a stem).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rag.ingest.dates import parse_metadata_date
from rag.types import Article

MAX_BYTES = 50 * 1024 * 1024  # larger inputs are rejected: split them first
MAX_TITLE = 300
MIN_HTML_WORDS = 15  # less than this from a page is navigation or a stub, not an article
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Rejection:
    path: str
    reason: str


Item = Article | Rejection
Reader = Callable[[Path, bytes], Iterator[Item]]


class BadInput(Exception):
    """Internal: a whole file is unreadable; turned into one Rejection by `read_path`."""


def short_hash(s: str, n: int = 12) -> str:
    return hashlib.sha256(s.encode("utf-8", "surrogatepass")).hexdigest()[:n]


def decode_utf8(data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise BadInput("binary file (NUL bytes); only text, Markdown, HTML, JSON(L) and feeds are read")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise BadInput(f"not valid UTF-8 at byte {e.start}; convert the file to UTF-8 (no encoding is guessed)") from e
    if not text.strip():
        raise BadInput("empty file (no text)")
    return text


def _clean_title(s: object) -> str:
    t = _CONTROL.sub(" ", str(s)).strip()
    t = " ".join(t.split())
    return t[:MAX_TITLE]


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return _clean_title(line.lstrip("#").strip() or line)
    return ""


def _str_or_none(v: object) -> str | None:
    if v is None or isinstance(v, dict | list):
        return None
    s = _CONTROL.sub(" ", str(v)).strip()
    return s[:2000] or None


def _meta_date(value: object) -> tuple[str | None, str]:
    d = parse_metadata_date(value)
    return d, ("metadata" if d else "none")


# ---- .txt ------------------------------------------------------------------------------------
def read_txt(path: Path, data: bytes) -> Iterator[Item]:
    text = decode_utf8(data)
    yield Article(id=path.stem, title=_first_line(text), text=text, path=str(path))


# ---- .md -------------------------------------------------------------------------------------
_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)


def read_md(path: Path, data: bytes) -> Iterator[Item]:
    import yaml

    text = decode_utf8(data)
    meta: dict[str, Any] = {}
    m = _FRONT.match(text)
    if m:
        try:
            loaded = yaml.safe_load(m.group(1))
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = f" at line {mark.line + 2}" if mark is not None else ""
            raise BadInput(f"invalid YAML front matter{where}; fix it or remove the --- block") from e
        if loaded is not None and not isinstance(loaded, dict):
            raise BadInput("YAML front matter is not a mapping of keys (title:, date:, ...)")
        meta = {str(k).lower(): v for k, v in (loaded or {}).items()}
        text = text[m.end() :]
    if not text.strip():
        raise BadInput("no article text after the front matter")
    date, how = _meta_date(meta.get("date"))
    yield Article(
        id=_str_or_none(meta.get("id")) or path.stem,
        title=_clean_title(meta["title"]) if _str_or_none(meta.get("title")) else _first_line(text),
        text=text, date=date, date_source=how,  # type: ignore[arg-type]
        url=_str_or_none(meta.get("url")), source=_str_or_none(meta.get("source")),
        author=_str_or_none(meta.get("author")), path=str(path),
    )


# ---- .html -----------------------------------------------------------------------------------
def read_html(path: Path, data: bytes) -> Iterator[Item]:
    import trafilatura

    if b"\x00" in data[:8192]:
        raise BadInput("binary file (NUL bytes), not HTML")
    if not data.strip():
        raise BadInput("empty file (no text)")
    try:
        doc = trafilatura.bare_extraction(
            data, with_metadata=True, include_comments=False, include_tables=False, favor_precision=True,
        )
    except Exception as e:  # lxml and trafilatura raise many types on hostile markup
        raise BadInput(f"cannot parse HTML ({e.__class__.__name__})") from e
    text = (getattr(doc, "text", None) or "").strip() if doc is not None else ""
    if len(text.split()) < MIN_HTML_WORDS:
        raise BadInput(f"HTML page with no article text (the extracted main text has fewer than {MIN_HTML_WORDS} words)")
    date, how = _meta_date(getattr(doc, "date", None))
    title = _str_or_none(getattr(doc, "title", None))
    yield Article(
        id=path.stem, title=_clean_title(title) if title else _first_line(text), text=text,
        date=date, date_source=how,  # type: ignore[arg-type]
        url=_str_or_none(getattr(doc, "url", None)),
        source=_str_or_none(getattr(doc, "sitename", None)) or _str_or_none(getattr(doc, "hostname", None)),
        author=_str_or_none(getattr(doc, "author", None)), path=str(path),
    )


# ---- .jsonl / .json --------------------------------------------------------------------------
def _record(rec: object, path: Path, where: str, n: int) -> Item:
    return record_article(rec, f"{path}:{n}", where, path.stem)


def record_article(rec: object, origin: str, where: str, stem: str) -> Item:
    """A record `{id, title, date, url, source, author, text}` -> Article, or a Rejection naming `where`:
    what a .jsonl line becomes, and a document read by another tool (rag.integrations.llamaindex).
    Without an id, the id is `stem` and a hash of its url (or title and text); without a title, the
    first line of the text; the date is the record's only (the pipeline may infer one from the text)."""
    if not isinstance(rec, dict):
        return Rejection(origin, f"{where}: a record must be a JSON object")
    body = rec.get("text")
    if not isinstance(body, str) or not body.strip():
        return Rejection(origin, f"{where}: a record needs a non-empty string 'text'")
    rid = _str_or_none(rec.get("id"))
    url = _str_or_none(rec.get("url"))
    title = _str_or_none(rec.get("title"))
    date, how = _meta_date(rec.get("date"))
    return _finish(Article(
        id=rid or f"{stem}-{short_hash(url or (title or '') + body[:500])}",
        title=_clean_title(title) if title else _first_line(body), text=body, date=date,
        date_source=how,  # type: ignore[arg-type]
        url=url, source=_str_or_none(rec.get("source")), author=_str_or_none(rec.get("author")),
        path=origin,
    ))


def read_jsonl(path: Path, data: bytes) -> Iterator[Item]:
    text = decode_utf8(data)
    # "\n" only: str.splitlines() also splits on U+2028/U+2029/U+0085, which are legal inside JSON strings
    for n, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as e:
            msg = e.msg if isinstance(e, json.JSONDecodeError) else "nested too deeply"
            yield Rejection(f"{path}:{n}", f"line {n}: invalid JSON ({msg}); the other lines were kept")
            continue
        yield _record(rec, path, f"line {n}", n)


def read_json(path: Path, data: bytes) -> Iterator[Item]:
    text = decode_utf8(data)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        if "\n{" in text.strip() or text.lstrip().startswith("{"):
            # a JSON Lines file named .json: read it line by line rather than reject it whole
            yield from read_jsonl(path, data)
            return
        raise BadInput(f"invalid JSON at line {e.lineno} column {e.colno} ({e.msg})") from e
    except RecursionError as e:
        raise BadInput("invalid JSON (nested too deeply)") from e
    records = doc if isinstance(doc, list) else [doc]
    if not records:
        raise BadInput("empty JSON list (no records)")
    for n, rec in enumerate(records, 1):
        yield _record(rec, path, f"record {n}", n)


# ---- RSS / Atom ------------------------------------------------------------------------------
def read_feed(path: Path, data: bytes) -> Iterator[Item]:
    import feedparser

    if not data.strip():
        raise BadInput("empty file (no text)")
    try:
        feed = feedparser.parse(data, sanitize_html=True, resolve_relative_uris=False)
    except Exception as e:  # feedparser is lenient; anything it raises means unreadable
        raise BadInput(f"cannot parse feed ({e.__class__.__name__})") from e
    if not feed.entries:
        why = f": {feed.bozo_exception}" if feed.get("bozo") and feed.get("bozo_exception") else ""
        raise BadInput(f"not an RSS/Atom feed, or a feed with no entries{why}".splitlines()[0][:300])
    site = _str_or_none(feed.feed.get("title"))
    for n, entry in enumerate(feed.entries, 1):
        body = _entry_text(entry)
        label = f"{path}#{n}"
        if not body:
            yield Rejection(label, f"entry {n}: no content or summary text")
            continue
        key = entry.get("id") or entry.get("link") or (entry.get("title", "") + body[:500])
        date = _entry_date(entry)
        title = _str_or_none(entry.get("title"))
        yield Article(
            id=f"feed-{short_hash(str(key), 16)}", title=_clean_title(title) if title else _first_line(body),
            text=body, date=date, date_source="metadata" if date else "none", url=_str_or_none(entry.get("link")),
            source=site, author=_str_or_none(entry.get("author")), path=label,
        )


def _entry_date(entry: Any) -> str | None:
    """The entry's publication day as the publisher wrote it (the original string, read with its own
    offset: an evening story in New York keeps its day); feedparser's *_parsed values are converted to
    UTC, so they are the fallback only for strings parse_metadata_date cannot read."""
    # dict.get: FeedParserDict's own .get maps updated->published with a DeprecationWarning
    for field in ("published", "updated"):
        date = parse_metadata_date(dict.get(entry, field))
        if date is not None:
            return date
    for field in ("published_parsed", "updated_parsed"):
        t = dict.get(entry, field)
        if t:
            return parse_metadata_date(f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}")
    return None


def _entry_text(entry: Any) -> str:
    """The longest of an entry's content and summary, as plain text."""
    parts = [c.get("value", "") for c in entry.get("content", []) or []]
    parts.append(entry.get("summary", "") or "")
    best = max(parts, key=len)
    return html_to_text(best)


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment (feed content), paragraphs on their own lines."""
    if "<" not in fragment:
        return fragment.strip()
    import lxml.html

    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except Exception:  # lxml raises ParserError / ValueError on empty or odd fragments
        return ""
    for bad in root.xpath("//script|//style"):
        bad.drop_tree()
    for br in root.xpath("//br"):
        br.tail = "\n" + (br.tail or "")
    for block in root.xpath("//p|//div|//li|//h1|//h2|//h3|//h4|//blockquote"):
        block.tail = "\n\n" + (block.tail or "")
    text = root.text_content()
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


READERS: dict[str, Reader] = {
    ".txt": read_txt, ".text": read_txt, ".md": read_md, ".markdown": read_md, ".html": read_html,
    ".htm": read_html, ".jsonl": read_jsonl, ".ndjson": read_jsonl, ".json": read_json, ".xml": read_feed,
    ".rss": read_feed, ".atom": read_feed, ".feed": read_feed,
}


def read_path(path: Path, max_bytes: int = MAX_BYTES) -> Iterator[Item]:
    """Articles and Rejections from one file; never raises for bad input."""
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        yield Rejection(str(path), f"unsupported file type {path.suffix or '(none)'!r}; "
                                   f"use one of {', '.join(sorted(READERS))}")
        return
    try:
        size = path.stat().st_size
        if size > max_bytes:
            yield Rejection(str(path), f"file is {size} bytes, over the {max_bytes}-byte limit "
                                       "(RAG_MAX_INPUT_BYTES); split it into smaller files")
            return
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as e:
        yield Rejection(str(path), f"cannot read: {e.strerror or e}")
        return
    yield from parse_bytes(path, data, reader)


def parse_bytes(path: Path, data: bytes, reader: Reader | None = None) -> Iterator[Item]:
    """Articles and Rejections from a file's bytes (what `read_path` does after reading)."""
    reader = reader or READERS.get(path.suffix.lower())
    if reader is None:
        yield Rejection(str(path), f"unsupported file type {path.suffix!r}")
        return
    try:
        for item in reader(path, data):
            yield _finish(item) if isinstance(item, Article) else item
    except BadInput as e:
        yield Rejection(str(path), str(e))
    except RecursionError:
        yield Rejection(str(path), "input nested too deeply to parse")


def _finish(a: Article) -> Article:
    """Normalise what every reader produces: a headline, no control characters in metadata."""
    title = a.title or _first_line(a.text) or a.id
    return replace(a, title=title, id=_CONTROL.sub("", a.id).strip()[:200] or short_hash(a.text))

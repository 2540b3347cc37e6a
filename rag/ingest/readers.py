"""Readers: one function per input format, each turning a file into Articles or raising InputError.

Formats: .txt (first non-empty line is the headline), .jsonl / .json (records with id, title, date,
url, source, text). Anything else is rejected with a reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from rag.errors import InputError
from rag.types import Article

MAX_BYTES = 50 * 1024 * 1024  # larger inputs are rejected: split them first


def read_text_file(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise InputError(f"file is {size} bytes, over the {MAX_BYTES}-byte limit; split it into smaller files")
        data = path.read_bytes()
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror or e}") from e
    if b"\x00" in data[:8192]:
        raise InputError("binary file (NUL bytes); only text, Markdown, HTML, JSON(L) and feeds are read")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(f"not valid UTF-8 at byte {e.start}; convert the file to UTF-8") from e
    if not text.strip():
        raise InputError("empty file")
    return text


def read_txt(path: Path) -> Iterator[Article]:
    text = read_text_file(path)
    title = next(line.strip() for line in text.splitlines() if line.strip())
    yield Article(id=path.stem, title=title, text=text, path=str(path))


def read_jsonl(path: Path) -> Iterator[Article]:
    text = read_text_file(path)
    lines = text.splitlines() if path.suffix == ".jsonl" else [text]
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputError(f"line {n}: invalid JSON ({e.msg})") from e
        if not isinstance(rec, dict) or not str(rec.get("text") or "").strip():
            raise InputError(f"line {n}: a record needs a non-empty 'text'")
        body = str(rec["text"])
        title = str(rec.get("title") or body.strip().splitlines()[0][:120])
        yield Article(
            id=str(rec.get("id") or f"{path.stem}-{n}"), title=title, text=body,
            date=rec.get("date") or None, date_source="metadata" if rec.get("date") else "none",
            url=rec.get("url") or None, source=rec.get("source") or None, path=f"{path}:{n}",
        )


READERS = {".txt": read_txt, ".jsonl": read_jsonl, ".json": read_jsonl}

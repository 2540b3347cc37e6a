"""Article -> sentence spans -> chunks, with exact character offsets.

`sentences(text)` returns (start, end) spans such that `text[start:end]` is one sentence, trimmed.
`chunk_article` packs whole consecutive sentences into chunks of at most `max_chars`; a single
sentence longer than that is cut at whitespace. Chunks do not overlap: every character is embedded
once, because embedding is the cost of ingest.

Not handled: languages without spaces between sentences; abbreviations outside the short list below
may end a sentence early (harmless for retrieval, slightly narrower citations).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from rag.types import Article, Chunk

_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "gen", "col", "lt", "sgt", "capt", "gov", "sen",
    "rep", "rev", "hon", "pres", "vs", "etc", "inc", "ltd", "co", "corp", "no", "fig", "jan", "feb", "mar",
    "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "approx", "est", "dept", "univ", "mt", "ft",
}
# Dotted initials are not a sentence's end: "U.S.", "S.C. Johnson", "e.g.", "p.m." (one letter between dots).
# The price: "... in Washington, D.C. The next ..." is read as one sentence.
_INITIALS = re.compile(r"(?:[a-z]\.)+[a-z]")
# End of sentence: . ! ? (optionally closed by quotes/brackets) followed by whitespace; or a line break.
_BOUNDARY = re.compile(r"""(?<=[.!?])["'”’)\]]*\s+|\n\s*""")
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)\.$")


def _is_abbreviation(piece: str) -> bool:
    m = _WORD_BEFORE.search(piece)
    if not m:
        return False
    word = m.group(1).lower()
    return word in _ABBREVIATIONS or len(word) == 1 or bool(_INITIALS.fullmatch(word))  # initials: "J.", "S.C."


def sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans of `text`, trimmed of surrounding whitespace; empty spans are skipped.

    >>> t = "Mr. Smith went to Geneva. Talks began.\\nNext"
    >>> [t[s:e] for s, e in sentences(t)]
    ['Mr. Smith went to Geneva.', 'Talks began.', 'Next']
    >>> t = "He ran S.C. Johnson & Son for years. The U.S.A. Today list came out."
    >>> [t[s:e] for s, e in sentences(t)]
    ['He ran S.C. Johnson & Son for years.', 'The U.S.A. Today list came out.']
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        end = m.start()
        piece = text[start:end]
        # A boundary after an abbreviation, or before a lower-case word, is not a sentence end,
        # unless it is a line break.
        if "\n" not in m.group(0):
            nxt = text[m.end() : m.end() + 1]
            if _is_abbreviation(piece.rstrip("\"'”’)]")) or (nxt and nxt.islower()):
                continue
        _add_trimmed(text, start, m.end(), spans)
        start = m.end()
    _add_trimmed(text, start, len(text), spans)
    return spans


def _add_trimmed(text: str, start: int, end: int, out: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        out.append((start, end))


def _cut_long(text: str, start: int, end: int, max_chars: int) -> Iterator[tuple[int, int]]:
    """Cut one over-long span at whitespace into pieces of at most max_chars."""
    while end - start > max_chars:
        cut = text.rfind(" ", start + 1, start + max_chars)
        if cut <= start:
            cut = start + max_chars
        yield start, cut
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        yield start, end


def chunk_spans(text: str, max_chars: int) -> list[tuple[int, int]]:
    """Spans of whole consecutive sentences, each at most max_chars long (see module doc)."""
    pieces: list[tuple[int, int]] = []
    for s, e in sentences(text):
        pieces.extend(_cut_long(text, s, e, max_chars))
    chunks: list[tuple[int, int]] = []
    cur: tuple[int, int] | None = None
    for s, e in pieces:
        if cur is None:
            cur = (s, e)
        elif e - cur[0] <= max_chars:
            cur = (cur[0], e)
        else:
            chunks.append(cur)
            cur = (s, e)
    if cur is not None:
        chunks.append(cur)
    return chunks


def chunk_article(article: Article, max_chars: int) -> list[Chunk]:
    return [
        Chunk(article_id=article.id, index=i, start=s, end=e, text=article.text[s:e])
        for i, (s, e) in enumerate(chunk_spans(article.text, max_chars))
    ]


def embed_text(article: Article, chunk: Chunk) -> str:
    """What is embedded for a chunk: the headline gives the chunk its subject."""
    return f"{article.title}\n{chunk.text}" if chunk.index > 0 else chunk.text

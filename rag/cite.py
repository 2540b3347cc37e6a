"""Text utilities shared by verification, retrieval of evidence and the metrics: normalisation, content
words as Snowball stems (rag.stem), numbers and calendar words, and the `[n]` citation markers. Pure functions.

Verification itself lives in rag.verify.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from rag.calendar_names import MONTHS, WEEKDAYS
from rag.stem import stem

MARKER = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*|\d[\d,.]*\d|\d")
_QUOTE = re.compile(r"[\"“”]([^\"“”]{3,}?)[\"“”]")
STOPWORDS = frozenset(
    ["a", "an", "the", "and", "or", "but", "if", "of", "to", "in", "on", "at", "by", "for", "with", "from", "as", "is", "are", "was", "were", "be", "been", "being", "has", "have", "had", "do", "does", "did", "this", "that", "these", "those", "it", "its", "it's", "he", "she", "they", "them", "his", "her", "their", "we", "our", "you", "your", "i", "me", "my", "not", "no", "than", "then", "there", "here", "which", "who", "whom", "whose", "what", "when", "where", "why", "how", "will", "would", "shall", "should", "can", "could", "may", "might", "must", "also", "said", "says", "say", "about", "after", "before", "over", "under", "into", "onto", "out", "up", "down", "more", "most", "other", "some", "such", "only", "own", "same", "so", "too", "very", "just", "any", "each", "both", "few", "all", "nor", "per", "via", "while", "during", "between", "against", "through", "upon", "according", "told", "yes"]
)
# Calendar words are capitalised but name no one: the question's dates are resolved by the date filter
# (rag.answering.timeframe), and a passage says "today" where the question says "on 4 March".
CALENDAR = frozenset(MONTHS) | frozenset(WEEKDAYS)
SUPPORT_MIN = 0.6  # share of the sentence's new content words found in the passage


def normalize(text: str) -> str:
    t = unicodedata.normalize("NFKC", text)
    return t.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')


def _stem(w: str) -> str:
    w = w.lower().strip("'’-")
    if w.replace(",", "").replace(".", "").isdigit():
        return w.replace(",", "").rstrip(".")
    return stem(w) or w


def content_words(text: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(normalize(text)) if w.lower() not in STOPWORDS}


def _prefix(w: str) -> str:
    w = _stem(w) if w.replace(",", "").replace(".", "").isdigit() else w.lower().strip("'’-")
    return w[:5] if len(w) > 5 else w.rstrip("s") or w


def prefix_words(text: str) -> set[str]:
    """Content words as 5-letter prefixes: the keys evidence selection ranks sentences by. Measured on the
    tune split (eval/retrieval_measure.py), the gold passage reached the prompt more often with them than
    with Snowball stems (wikinews_new 0.956 against 0.912)."""
    return {_prefix(w) for w in _WORD.findall(normalize(text)) if w.lower() not in STOPWORDS}


def numbers(text: str) -> set[str]:
    return {_stem(w) for w in re.findall(r"\d[\d,.]*\d|\d", text)}


def strip_markers(sentence: str) -> str:
    return MARKER.sub("", sentence).strip()


def remap_markers(text: str, new: Callable[[int], int | None]) -> str:
    """Every citation marker's numbers mapped by `new` (None drops a number; a marker left empty goes).

    >>> remap_markers("Gates [1]. Webb [2, 3].", lambda n: n + 2)
    'Gates [3]. Webb [4, 5].'
    >>> remap_markers("Gates [1]. Webb [2, 3].", {2: 1}.get)
    'Gates. Webb [1].'
    """
    def one(m: re.Match[str]) -> str:
        kept = [str(k) for n in re.findall(r"\d+", m.group(1)) if (k := new(int(n))) is not None]
        return f"{m.group(0)[: len(m.group(0)) - len(m.group(0).lstrip())]}[{', '.join(kept)}]" if kept else ""

    return MARKER.sub(one, text)


def parse_markers(sentence: str) -> list[int]:
    out: list[int] = []
    for m in MARKER.finditer(sentence):
        out.extend(int(x) for x in re.split(r"\s*[,;]\s*", m.group(1)))
    return out


def _weight(w: str, raw: str) -> float:
    # Names and numbers carry the facts a reader checks; plain words weigh half as much.
    return 2.0 if raw[:1].isupper() or raw[:1].isdigit() else 1.0


def calendar(text: str) -> set[str]:
    """Stems of the month and weekday names in `text` (capitalised: "may" the verb is not one). Like
    numbers, a claim's dates must all be in its evidence."""
    return {_stem(w) for w in _WORD.findall(normalize(text)) if _is_calendar(w)}


def _is_calendar(word: str) -> bool:
    return word[:1].isupper() and word.lower().rstrip(".") in CALENDAR


def weighted_words(text: str) -> dict[str, float]:
    """Content-word stems of `text` with their weight (names and numbers 2, other words 1)."""
    words: dict[str, float] = {}
    for raw in _WORD.findall(normalize(text)):
        if raw.lower() not in STOPWORDS:
            stem = _stem(raw)
            words[stem] = max(words.get(stem, 0.0), _weight(stem, raw))
    return words


def support(claim: str, evidence: str, question: str = "") -> float:
    """Weighted share of the claim's content words found in the evidence, 0..1; 0 if a number, month or
    weekday of the claim is missing.

    Words the question already holds are left out when the answer has words of its own, so
    "The talks were held in Geneva" is judged on "held" and, twice as heavily, on the name "Geneva".
    """
    words = weighted_words(claim)
    if not words:
        return 0.0
    ev = content_words(evidence)
    if not numbers(claim) <= ev | numbers(evidence) or not calendar(claim) <= ev | calendar(evidence):
        return 0.0
    asked = content_words(question)
    new = {w: x for w, x in words.items() if w not in asked} or words
    return sum(x for w, x in new.items() if w in ev) / sum(new.values())


def missing_quotes(sentence: str, evidence: str) -> list[str]:
    """Quoted phrases of the sentence that do not occur verbatim in the evidence."""
    ev = " ".join(normalize(evidence).split())
    return [q for q in _QUOTE.findall(normalize(sentence)) if " ".join(q.split()) not in ev]

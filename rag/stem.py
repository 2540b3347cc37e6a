"""Word stems: the Snowball English stemmer (PyStemmer, C), for matching a claim's words with its evidence's
(rag.cite.content_words). BM25 keeps whole words: stemmed, it found fewer gold passages on the tune split.

    >>> stem("injured"), stem("talks"), stem("Australia"), stem("Austria")
    ('injur', 'talk', 'australia', 'austria')

Lower-cases first, and reads British spellings as American ones (rag/spelling.toml: "criticised" and
"criticized" share a stem). Not handled: irregular forms ("held"/"hold", "men"/"man") stay apart, and so do some
regular ones ("injured"/"injuries": "injur"/"injuri"); a demonym is not its country ("Austrian"/"Austria").
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from pathlib import Path
from typing import Any


@cache
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


@cache
def _spellings() -> tuple[dict[str, str], list[tuple[re.Pattern[str], dict[str, str]]]]:
    data = tomllib.loads((Path(__file__).parent / "spelling.toml").read_text(encoding="utf-8"))
    words = {uk: us for g in data["word"] for uk, us in g["pairs"]}
    rules = []
    for g in data["suffix"]:
        ends = dict(zip(g["uk"], g["us"], strict=True))
        alternation = "|".join(sorted(map(re.escape, ends), key=len, reverse=True))
        rules.append((re.compile(rf"(?<=[a-z]{{{g['min_before']}}})({alternation})$"), ends))
    return words, rules


def american(word: str) -> str:
    """The word in American spelling, as far as rag/spelling.toml knows it (lower case in, lower case out).

    >>> american("criticised"), american("labour"), american("centre"), american("four"), american("raise")
    ('criticized', 'labor', 'center', 'four', 'raise')
    """
    words, rules = _spellings()
    if word in words:
        return words[word]
    for pattern, ends in rules:
        m = pattern.search(word)
        if m:
            return word[: m.start()] + ends[m.group(1)]
    return word


def stem(word: str) -> str:
    """The stem of one word, lower case."""
    return str(_stemmer().stemWord(american(word.lower())))

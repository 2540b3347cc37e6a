"""Word stems: the Snowball English stemmer (PyStemmer, C), for matching a claim's words with its evidence's
(rag.cite.content_words). BM25 keeps whole words: stemmed, it found fewer gold passages on the tune split.

    >>> stem("injured"), stem("talks"), stem("Australia"), stem("Austria")
    ('injur', 'talk', 'australia', 'austria')

Lower-cases first. Not handled: irregular forms ("held"/"hold", "men"/"man") stay apart, and so do some
regular ones ("injured"/"injuries": "injur"/"injuri"); a demonym is not its country ("Austrian"/"Austria").
"""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def stem(word: str) -> str:
    """The stem of one word, lower case."""
    return str(_stemmer().stemWord(word.lower()))

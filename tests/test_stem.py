"""The verifier's word overlap matches words by their Snowball stem (rag.stem): inflections meet, and names
that merely share five letters do not. (BM25 keeps whole words: stemmed, it measured worse on the tune split;
python -m eval.retrieval_measure.)"""

from __future__ import annotations

from rag.cite import content_words, support


def test_the_verifier_no_longer_lets_austria_vouch_for_australia() -> None:
    assert content_words("Austria") != content_words("Australia")  # 5-letter prefixes made both "austr"
    assert support("Australia won the vote.", "Austria won the vote.") < support("Austria won the vote.", "Austria won the vote.")
    assert content_words("The talks were negotiated") == content_words("the talk was negotiating")
    assert content_words("1,200 votes") == {"1200", "vote"}

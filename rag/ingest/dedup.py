"""Near-duplicate detection: MinHash over word shingles, LSH bands for lookup, exact check to confirm.

A syndicated copy of a story (another outlet, another file name, a changed headline or byline, a
dateline, a credit line, a footer, closing paragraphs dropped) shares most of its 5-word shingles with
the original. `signature(text)` is a 128-value MinHash; it is cut into `BANDS` bands of `ROWS` values,
and texts sharing any band are candidates (the store keeps the band keys in SQLite). A candidate whose
estimated Jaccard similarity reaches `CANDIDATE` is confirmed on the exact shingle sets
(`copy_similarity`): it is a copy when

- their Jaccard similarity reaches `THRESHOLD` (0.88), or
- the shorter text has at least `MIN_RATIO` (half) of the longer's shingles, and `CONTAINMENT` (0.9) of
  them are in the longer text when it has at least `MIN_CONTAINED` shingles (~100 words), or all of them
  when it is shorter (at least `MIN_WHOLE`): in a short text one changed word is 5-10% of its shingles,
  which is how templated texts differ.

Why containment: what a wire service adds (dateline, "(wire copy)", "Reporting by ..." credits, a byline)
or drops (closing paragraphs) lowers Jaccard however little the story changed: a 130-word report with a
credit line scores 0.878 and was indexed twice, while the shorter text stays wholly inside the longer.

Why the floors, measured on the 4,959-article Wikinews corpus (1,568 pairs sharing at least a fifth of
the shorter text's shingles): the real copies are one pair at Jaccard 1.0 (wikinews-36511/36520) and one
at 0.913 (27044/27045). The closest distinct articles are templated candidate interviews -- the same
intro with another name -- at Jaccard up to 0.83 and containment up to 0.955, all shorter than 80
shingles; with the floors, the highest containment of a distinct pair is 0.803 (longer templated
interviews), so no distinct pair in the corpus is taken for a copy (`python -m eval.dedup_measure`).
On synthetic wire copies of every corpus article (ingest's own path: LSH band, CANDIDATE, this rule), it
finds all of those with a credit line, or with a dateline, byline and footer (Jaccard alone: 92%; under
100 shingles 0.4%), and of articles of 100+ shingles, 88% of the copies missing the last 30% of their
sentences and 71% of those missing 40% (Jaccard alone: 1% and 0.1%).

With 32 bands of 4 rows, a pair at Jaccard 0.7 becomes a candidate with probability > 0.999 (0.6: 0.988).

Not handled: translations, heavy rewrites (they are different articles here); a copy that kept less
than ~60% of a story is found only sometimes (its Jaccard is low for the LSH bands), and a cut copy of
a story under ~100 words with a dateline added is not found (it is not wholly inside); when the shorter
version is ingested first, the longer one is its copy and its extra paragraphs are not indexed; texts
shorter than one shingle are compared as one shingle.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

NUM_PERM = 128
BANDS, ROWS = 32, 4
SHINGLE_WORDS = 5
CANDIDATE = 0.4  # estimated Jaccard worth an exact check (a copy by containment can score ~0.45)
THRESHOLD = 0.88  # exact Jaccard similarity of shingle sets that makes a copy
CONTAINMENT = 0.9  # share of the shorter text's shingles found in the longer that makes a copy...
MIN_CONTAINED = 100  # ...when the shorter has at least this many shingles (templated interviews are under 80)
MIN_RATIO = 0.5  # ...and at least this share of the longer's (an article quoted inside a long one is no copy)
MIN_WHOLE = 25  # a shorter text (under MIN_CONTAINED) is a copy only if wholly inside, and at least this long
_rng = np.random.default_rng(20251124)  # fixed: signatures are stored and must stay comparable
_A = _rng.integers(1, (1 << 61) - 1, NUM_PERM, dtype=np.uint64)
_B = _rng.integers(0, (1 << 61) - 1, NUM_PERM, dtype=np.uint64)
_WORD = re.compile(r"\w+", re.UNICODE)


def shingles(text: str) -> set[str]:
    words = _WORD.findall(text.lower())
    if len(words) < SHINGLE_WORDS:
        return {" ".join(words)}
    return {" ".join(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)}


def signature(text: str) -> np.ndarray:
    """MinHash signature (NUM_PERM uint64 values) of the text's word shingles."""
    hs = np.fromiter(
        (int.from_bytes(hashlib.blake2b(s.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")
         for s in shingles(text)),
        dtype=np.uint64,
    )
    # NUM_PERM hash functions h_i(x) = mix((x ^ b_i) * a_i mod 2^64), vectorised; MinHash needs only
    # that they behave as independent random orderings of the shingle hashes.
    with np.errstate(over="ignore"):
        mixed = (hs[:, None] ^ _B[None, :]) * _A[None, :]
    mixed ^= mixed >> np.uint64(29)
    sig: np.ndarray = mixed.min(axis=0)
    return sig


def jaccard(a: str, b: str) -> float:
    """Exact Jaccard similarity of two texts' shingle sets."""
    sa, sb = shingles(a), shingles(b)
    return len(sa & sb) / len(sa | sb) if sa or sb else 1.0


def copy_similarity(a: str, b: str) -> float | None:
    """The similarity that makes one text a copy of the other (Jaccard, or containment of the shorter in
    the longer, by the rule of the module doc), or None when they are not copies.

    >>> story = " ".join(f"word{i}" for i in range(120))
    >>> credit = " Reporting by Jane Doe in Geneva and John Roe in Kyiv; editing by Mark Lee and Sam Fox."
    >>> round(jaccard(story, story + credit), 3), copy_similarity(story, story + credit)
    (0.866, 1.0)
    """
    sa, sb = shingles(a), shingles(b)
    inter = len(sa & sb)
    union = len(sa | sb)
    jac = inter / union if union else 1.0
    if jac >= THRESHOLD:
        return jac
    short, long = sorted((len(sa), len(sb)))
    if short < MIN_WHOLE or short < MIN_RATIO * long:
        return None
    contained = inter / short
    if contained >= CONTAINMENT and (short >= MIN_CONTAINED or contained == 1.0):
        return contained
    return None


def is_copy(a: str, b: str) -> bool:
    """Whether two texts are copies of one article (`copy_similarity`)."""
    return copy_similarity(a, b) is not None


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of two signatures."""
    return float(np.mean(a == b))


def band_keys(sig: np.ndarray) -> list[int]:
    """One 63-bit key per band (the band number is hashed in, so keys of different bands differ)."""
    keys = []
    for band in range(BANDS):
        part = sig[band * ROWS : (band + 1) * ROWS].tobytes()
        d = hashlib.blake2b(part, digest_size=8, person=band.to_bytes(2, "little")).digest()
        keys.append(int.from_bytes(d, "little") >> 1)
    return keys


def to_blob(sig: np.ndarray) -> bytes:
    return sig.astype("<u8").tobytes()


def from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<u8")

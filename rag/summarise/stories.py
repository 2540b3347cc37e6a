"""Articles -> stories, and story -> salient sentences: pure functions, no model calls.

- `cluster`: average-linkage grouping of article vectors; two articles whose leads are about one event
  (a syndicated copy, two reports of one verdict) land in one story.
- `salient`: extract-then-abstract's first half. The sentences of a story worth a reader's time, chosen
  within a token budget so the prompt stays short whatever the story's size: lead sentences first
  (news puts the facts up front), then sentences sharing the story's recurring words, at least one per
  article while the budget lasts, no near-repeats (a copy's sentences add nothing).
- `continues`: the earlier story (if any) whose centroid is close enough to say "developing".

Not handled: a day's articles are clustered in O(n^2) memory (thousands of articles a day are fine,
a whole corpus at once is not); sentence scores are lexical, so a salient sentence written only in
pronouns ranks low.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.chunk import sentences
from rag.cite import content_words
from rag.types import Article, Passage

CHARS_PER_TOKEN = 4.0  # as rag.answering.evidence: the real tokenizer gives 4.8 chars a token on news, budgets err short
MIN_WORDS = 6  # shorter "sentences" are datelines, bylines, captions
LONG_CHARS = 600  # longer sentences are used only when an article has nothing shorter


def normalized(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


def cluster(vectors: Sequence[Sequence[float]], threshold: float) -> list[list[int]]:
    """Groups of indices: average-linkage agglomeration while the closest groups' mean cosine >= threshold
    (scipy's linkage on cosine distances, cut at 1 - threshold).

    Groups are returned largest first, ties by their smallest index, members in index order.
    >>> cluster([[1, 0], [0.99, 0.14], [0, 1]], 0.7)
    [[0, 1], [2]]
    """
    n = len(vectors)
    if n < 2:
        return [[0]] if n else []
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    v = np.array([normalized(np.asarray(x, dtype=np.float64)) for x in vectors])
    dist = np.clip(1.0 - v @ v.T, 0.0, 2.0)
    np.fill_diagonal(dist, 0.0)
    # the mean of (1 - cosine) over two groups is 1 - their mean cosine: average linkage on it merges
    # exactly the groups the mean cosine would, and never reverses, so the cut stops where merging did
    labels = fcluster(linkage(squareform(dist, checks=False), method="average"), t=1.0 - threshold + 1e-12,
                      criterion="distance")
    groups: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        groups.setdefault(int(label), []).append(i)
    return sorted(groups.values(), key=lambda g: (-len(g), g[0]))


def centroid(vectors: Sequence[Sequence[float]]) -> list[float]:
    return [float(x) for x in normalized(np.asarray(vectors, dtype=np.float64).mean(axis=0))]


@dataclass(frozen=True)
class Previous:
    """An earlier day's story as the matcher sees it."""

    date: str
    story: int
    title: str
    article_ids: list[str]
    centroid: list[float]


def continues(center: Sequence[float], earlier: Sequence[Previous], threshold: float) -> Previous | None:
    """The earlier story closest to `center` if its cosine reaches threshold; ties go to the latest day."""
    best: tuple[float, str] | None = None
    found: Previous | None = None
    c = np.asarray(center, dtype=np.float64)
    for p in earlier:
        s = float(c @ np.asarray(p.centroid, dtype=np.float64))
        if s >= threshold and (best is None or (s, p.date) > best):
            best, found = (s, p.date), p
    return found


@dataclass(frozen=True)
class Scored:
    article: Article
    position: int  # sentence number in the article
    start: int
    end: int
    score: float
    words: frozenset[str]


def _scored_sentences(articles: Sequence[Article], focus: str = "") -> list[list[Scored]]:
    """Per article, its usable sentences with scores (see module doc); sentences sharing the focus
    text's words (a brief's topic) score higher."""
    wanted = content_words(focus)
    spans = {a.id: sentences(a.text) for a in articles}
    # The story's recurring words: its titles', and words found in more than one article (or, for a
    # single article, in more than one sentence).
    df: Counter[str] = Counter()
    for a in articles:
        if len(articles) > 1:
            df.update(content_words(a.text))
        else:
            for s, e in spans[a.id]:
                df.update(content_words(a.text[s:e]))
    topic = {w for w, k in df.items() if k >= 2} | {w for a in articles for w in content_words(a.title)}
    out: list[list[Scored]] = []
    for a in articles:
        mine: list[Scored] = []
        for pos, (s, e) in enumerate(spans[a.id]):
            text = a.text[s:e]
            words = content_words(text)
            if len(text.split()) < MIN_WORDS or not words:
                continue
            lead = 1.0 / (1.0 + 0.5 * pos)
            share = len(words & topic) / (len(words) + 3)
            on_topic = len(words & wanted) / len(wanted) if wanted else 0.0
            mine.append(Scored(a, pos, s, e, lead + share + on_topic, frozenset(words)))
        if not mine and spans[a.id]:  # keep something from every article, however short
            s, e = spans[a.id][0]
            mine.append(Scored(a, 0, s, e, 1.0, frozenset(content_words(a.text[s:e]))))
        out.append(sorted(mine, key=lambda x: (-x.score, x.position)))
    return out


def _redundant(words: frozenset[str], chosen: Sequence[Scored], limit: float = 0.6) -> bool:
    return any(len(words & c.words) / max(1, min(len(words), len(c.words))) >= limit for c in chosen)


def salient(articles: Sequence[Article], budget_tokens: int, focus: str = "") -> list[Passage]:
    """The story's salient sentences within budget_tokens, grouped by article in story order, each a
    sentence-sized Passage with offsets into its article (at least one sentence, even over budget)."""
    per_article = _scored_sentences(articles, focus)
    order = sorted(range(len(articles)), key=lambda i: -(per_article[i][0].score if per_article[i] else 0.0))
    chosen: list[Scored] = []
    used = 0.0
    queues = {i: [s for s in per_article[i] if s.end - s.start <= LONG_CHARS] or per_article[i][:1] for i in order}
    progress = True
    while progress:
        progress = False
        for i in order:  # round-robin: every article gets its best sentence before any gets a second
            while queues[i]:
                cand = queues[i].pop(0)
                if _redundant(cand.words, chosen):
                    continue
                cost = (cand.end - cand.start) / CHARS_PER_TOKEN + 3
                if chosen and used + cost > budget_tokens:
                    continue  # a shorter sentence of this article may still fit
                chosen.append(cand)
                used += cost
                progress = True
                break
    rank = {a.id: n for n, a in enumerate(articles)}
    chosen.sort(key=lambda s: (rank[s.article.id], s.start))
    return [
        Passage(
            chunk_id=f"{s.article.id}@{s.start}", article_id=s.article.id, title=s.article.title,
            date=s.article.date, url=s.article.url, start=s.start, end=s.end, text=s.article.text[s.start : s.end],
            score=s.score,
        )
        for s in chosen
    ]


def whole(article: Article) -> Passage:
    """The whole article as one passage (for verification beyond the salient sentences)."""
    return Passage(f"{article.id}@0", article.id, article.title, article.date, article.url, 0, len(article.text),
                   article.text)

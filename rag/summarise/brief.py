"""Topic -> Brief: a cited overview, a dated timeline and the sources' disagreements over a whole story.

1. Recall: the topic's nearest chunks (dense) and its BM25 matches, many of each, grouped by article;
   an article's relevance is its best chunk's cosine to the topic, and the cut (settings
   .brief_min_relevance) is stated in the brief's coverage. Beyond brief_max_articles the least
   relevant are left out and listed.
2. Map (one model call per article, cached per article and topic): the article's salient sentences
   (favouring the topic's words) -> one timeline sentence, verified like an answer; if it fails, the
   most salient sentence itself.
3. Conflicts (no model): sentences of reports close in time that say the same thing with different
   numbers (rag.summarise.conflicts); both sides are cited.
4. Reduce (one call, cached by its inputs): the timeline entries within a token budget -> a 2-3 sentence
   overview citing them, verified against the entries' cited spans and the articles.

Not handled: disagreements without numbers; a topic phrased so differently from its articles that
neither the embedder nor BM25 finds them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date as Date

import numpy as np

from rag.answering.retrieve import DateRange
from rag.cache import JsonCache, key
from rag.cite import remap_markers, strip_markers
from rag.config import Settings
from rag.errors import IndexEmptyError
from rag.index.lexical import Lexical
from rag.ingest import content_hash
from rag.models.embed import Embedder, make_embedder
from rag.models.llm import LLM, ChatModel
from rag.prompts import load_prompt
from rag.store import Index
from rag.summarise.conflicts import Conflict, find_conflicts
from rag.summarise.digest import cited_or_extracted, first_sentences, format_sentences, model_name
from rag.summarise.stories import salient, whole
from rag.types import Article, Brief, BriefItem, Citation, Passage
from rag.verify import make_judge, verify

BRIEF_VERSION = 3  # bump when selection, prompts' use or verification changes
Progress = Callable[[int, int, str], None]


def find_articles(
    topic: str, settings: Settings, index: Index, embedder: Embedder, dates: DateRange
) -> dict[str, float]:
    """Article id -> best chunk cosine to the topic, for every article either retriever recalls."""
    vec = np.asarray(embedder.embed([topic])[0], dtype=np.float32)
    cosine = dict(index.dense_query(vec.tolist(), settings.brief_recall_chunks, dates.where()))
    lexical = [c for c, _ in Lexical(index).search(topic, settings.brief_recall_chunks, dates.since, dates.until)]
    missing = [c for c in lexical if c not in cosine]
    if missing:
        for cid, v in zip(missing, index.vectors(missing), strict=True):
            cosine[cid] = float(np.dot(vec, np.asarray(v, dtype=np.float32))) if v is not None else 0.0
    best: dict[str, float] = {}
    for cid, s in cosine.items():
        aid = cid.rsplit("#", 1)[0]
        best[aid] = max(best.get(aid, -1.0), s)
    return best


def _event(article: Article, topic: str, settings: Settings, llm: ChatModel) -> BriefItem:
    picked = salient([article], settings.brief_event_tokens, focus=topic)
    system, user = load_prompt("brief_event", {"topic", "sentences"}).render(
        topic=topic, sentences=format_sentences(picked))
    done = llm.complete(system, user, settings.brief_event_max_tokens)
    text, cites, fell_back = cited_or_extracted(done.text.strip(), picked, [article], 1, 1, done.truncated,
                                                make_judge(llm, settings))
    return BriefItem(text, cites, article.date, extractive=fell_back)


def _overview(topic: str, timeline: list[BriefItem], sources: dict[str, Article], settings: Settings,
              llm: ChatModel) -> list[BriefItem]:
    """2-3 sentences over the developments that fit the budget (first and last always, the rest spread
    evenly in time); falls back to the first and last developments themselves."""
    chosen = _spread(timeline, settings.brief_context_tokens)
    lines, context = [], []
    for k, item in enumerate(chosen, 1):
        lines.append(f"[{k}] ({item.date or 'undated'}) {strip_markers(item.text)}")
        c = item.citations[0]
        context.append(Passage(f"{c.article_id}@{c.start}", c.article_id, c.title, c.date, c.url, c.start, c.end,
                               c.text))
    system, user = load_prompt("brief", {"topic", "developments"}).render(topic=topic, developments="\n".join(lines))
    done = llm.complete(system, user, settings.brief_overview_max_tokens)
    extra = [Passage(f"{c.article_id}@{c.start}", c.article_id, c.title, c.date, c.url, c.start, c.end, c.text)
             for item in chosen for c in item.citations[1:]]
    extra += [whole(sources[a]) for a in dict.fromkeys(c.article_id for item in chosen for c in item.citations)]
    checked = verify(first_sentences(done.text.strip(), 3, done.truncated), context, extra=extra,
                     judge=make_judge(llm, settings))
    if checked.citations:
        return [_item_of(s, checked.citations) for s in _split_cited(checked.answer)]
    ends = [timeline[0]] + ([timeline[-1]] if len(timeline) > 1 else [])
    return [BriefItem(i.text, i.citations, extractive=True) for i in ends]


def _spread(items: list[BriefItem], budget_tokens: int) -> list[BriefItem]:
    cost = [len(i.text) / 4 + 8 for i in items]
    if sum(cost) <= budget_tokens or len(items) <= 2:
        return items
    n = max(2, int(budget_tokens / (sum(cost) / len(items))))
    idx = sorted({round(k * (len(items) - 1) / (n - 1)) for k in range(n)})
    return [items[i] for i in idx]


def _split_cited(answer: str) -> list[str]:
    """Sentences of a verified answer: each ends with its markers (and punctuation)."""
    return [m.group(0).strip() for m in re.finditer(r".*?(?:\[\d+\])+[.!?\"'”]*", answer)]


def _item_of(sentence: str, citations: list[Citation]) -> BriefItem:
    """One sentence with its own citations, renumbered from 1."""
    nums = [int(n) for n in re.findall(r"\[(\d+)\]", sentence)]
    order = list(dict.fromkeys(nums))
    by_n = {c.n: c for c in citations}
    renum = {old: new for new, old in enumerate(order, 1)}
    text = remap_markers(sentence, renum.get)
    cites = [Citation(renum[o], by_n[o].article_id, by_n[o].title, by_n[o].date, by_n[o].url, by_n[o].start,
                      by_n[o].end, by_n[o].text) for o in order]
    return BriefItem(text, cites)


def conflict_item(c: Conflict) -> BriefItem:
    """Both sides, each cited by its sentence; reports of different days say so (it may be an update)."""
    apart = ""
    if c.a.date and c.b.date and c.a.date != c.b.date:
        n = abs((Date.fromisoformat(c.a.date) - Date.fromisoformat(c.b.date)).days)
        apart = f" (reported {n} day{'s' if n != 1 else ''} apart)"
    text = (f"Sources disagree on the {c.slot}{apart}: \u201c{c.a.title}\u201d ({c.a.date}) gives {c.a_value} [1], "
            f"\u201c{c.b.title}\u201d ({c.b.date}) gives {c.b_value} [2].")
    cites = [Citation(n, p.article_id, p.title, p.date, p.url, p.start, p.end, p.text) for n, p in ((1, c.a), (2, c.b))]
    return BriefItem(text, cites)


def brief(
    topic: str,
    settings: Settings,
    *,
    since: str | None = None,
    until: str | None = None,
    index: Index | None = None,
    embedder: Embedder | None = None,
    llm: ChatModel | None = None,
    progress: Progress | None = None,
) -> Brief:
    """A brief on `topic` from every relevant indexed article (see module doc)."""
    own_index = index is None
    index = index or Index.open(settings)
    try:
        if index.counts()[0] == 0:
            raise IndexEmptyError(f"the index at {index.dir} holds no articles: run `rag ingest PATH` first")
        embedder = embedder or make_embedder(settings)
        index.check_embedder(embedder.name, write=False)
        found = find_articles(topic, settings, index, embedder, DateRange(since, until))
        relevant = {a: s for a, s in found.items() if s >= settings.brief_min_relevance}
        by_relevance = sorted(relevant, key=lambda a: (-relevant[a], a))
        used_ids, left_out = by_relevance[: settings.brief_max_articles], by_relevance[settings.brief_max_articles :]
        sources = {a: index.article(a) for a in relevant}
    finally:
        if own_index:
            index.close()
    by_date = sorted(sources.values(), key=lambda a: (a.date is None, a.date or "", a.id))  # undated last
    used = [a for a in by_date if a.id in set(used_ids)]
    cache = JsonCache(settings.index_dir / "cache" / "brief")
    model = model_name(settings, llm)
    sha = load_prompt("brief_event", {"topic", "sentences"}).sha
    norm_topic = " ".join(topic.lower().split())
    usage = {"generated": 0.0, "cached": 0.0}

    def get_llm() -> ChatModel:
        nonlocal llm
        if llm is None:
            llm = LLM(settings)
        return llm

    timeline: list[BriefItem] = []
    for n, a in enumerate(used, 1):
        k = key("event", BRIEF_VERSION, content_hash(a), norm_topic, sha, model, settings.brief_event_tokens,
                settings.brief_event_max_tokens)
        hit = cache.get(k)
        if hit is not None:
            item = BriefItem(hit["text"], [Citation(**c) for c in hit["citations"]], a.date, hit["extractive"])
            usage["cached"] += 1
        else:
            item = _event(a, topic, settings, get_llm())
            cache.put(k, {"text": item.text, "citations": [c.to_dict() for c in item.citations],
                          "extractive": item.extractive})
            usage["generated"] += 1
        timeline.append(item)
        if progress:
            progress(n, len(used) + 1, a.date or "")
    overview: list[BriefItem] = []
    if timeline:
        k = key("overview", BRIEF_VERSION, norm_topic, [i.to_dict(dated=True) for i in timeline],
                load_prompt("brief", {"topic", "developments"}).sha, model, settings.brief_context_tokens,
                settings.brief_overview_max_tokens)
        hit = cache.get(k)
        if hit is not None:
            overview = [BriefItem(i["text"], [Citation(**c) for c in i["citations"]], None, i["extractive"])
                        for i in hit]
            usage["cached"] += 1
        else:
            overview = _overview(topic, timeline, sources, settings, get_llm())
            cache.put(k, [{"text": i.text, "citations": [c.to_dict() for c in i.citations],
                           "extractive": i.extractive} for i in overview])
            usage["generated"] += 1
    if progress:
        progress(len(used) + 1, len(used) + 1, "overview")
    conflicts = [conflict_item(c) for c in find_conflicts(used, settings.brief_conflict_days)]
    dates = [a.date for a in used if a.date]
    coverage: dict[str, object] = {
        "recalled": len(found), "relevant": len(relevant), "used": len(used),
        "min_relevance": settings.brief_min_relevance,
        "from": min(dates) if dates else None, "to": max(dates) if dates else None,
        "left_out": [{"id": a, "relevance": round(relevant[a], 3), "reason": "token budget"} for a in left_out],
        "overview_developments": len(_spread(timeline, settings.brief_context_tokens)),
    }
    if llm is not None:
        usage.update({k: float(v) for k, v in llm.usage().items()})
    return Brief(topic, [a.id for a in by_date], overview, timeline, conflicts, coverage,
                 {a: round(s, 3) for a, s in relevant.items()}, sources, usage)


"""Days -> stories -> Digest: what happened each day, every summary sentence cited.

Per day: cluster the day's articles into stories (cosine of their lead chunks' stored vectors, see
rag.summarise.stories), pick each story's salient sentences within a token budget, ask the model for a one-sentence
summary citing those sentences (up to three are kept if it writes more), then verify every sentence
(rag.verify.verify, with the story's whole articles as unnumbered fallback evidence). Unsupported sentences
are dropped; if none survives, the summary is the salient sentences themselves, cited by their own
offsets (never unsourced text).

A story's headline is the title of its lead article (the one its most salient sentence comes from),
as its journalists wrote it: exact and checkable; model-written headlines mostly paraphrased it. With the
summary capped at one sentence (settings.digest_max_tokens), a day costs ~20% less model time.

The model writes the day's `digest_max_stories` largest stories; any further (single-article) stories
keep their own title and lead sentence, so a day's cost is bounded whatever its size.

A story "continues" the closest story of the previous `digest_lookback_days` days when their
centroids are close enough (settings.digest_continue_threshold).

Caching (under INDEX_DIR/cache/digest): a day's clusters are keyed by its articles' content hashes and
the embedding model; a story's summary by its articles' hashes, the prompt's sha and the model
name. An unchanged day costs no model call and no vector-store access; adding an article redoes only
the story it joins. Models are constructed only on a cache miss.

Not handled: undated articles (they belong to no day).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date as Date
from datetime import timedelta

from rag.cache import JsonCache, key
from rag.chunk import chunk_article, embed_text
from rag.config import Settings
from rag.errors import ConfigError
from rag.ingest import content_hash
from rag.models.embed import Embedder, make_embedder
from rag.models.llm import LLM, ChatModel
from rag.prompts import Prompt, load_prompt
from rag.store import Index
from rag.summarise.stories import Previous, centroid, cluster, continues, salient, whole
from rag.types import Article, Citation, DayDigest, Digest, Passage, Story, StoryRef
from rag.verify import Judge, make_judge, verify

CLUSTER_VERSION = 1  # bump when clustering changes: old cache entries are then ignored
STORY_VERSION = 4  # bump when salient selection, parsing or verification changes
Progress = Callable[[int, int, str], None]


def parse_day(text: str, option: str = "--date") -> str:
    try:
        return Date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        raise ConfigError(f"{option} {text!r} is not a date: use YYYY-MM-DD") from None


def days_between(start: str, end: str, max_days: int) -> list[str]:
    a, b = Date.fromisoformat(start), Date.fromisoformat(end)
    if b < a:
        raise ConfigError(f"the range ends ({end}) before it starts ({start}): swap --from and --to")
    n = (b - a).days + 1
    if n > max_days:
        raise ConfigError(f"{n} days asked, over the limit of {max_days}: narrow the range or raise RAG_DIGEST_MAX_DAYS")
    return [(a + timedelta(days=i)).isoformat() for i in range(n)]


def model_name(settings: Settings, llm: ChatModel | None) -> str:
    """The name that keys cached summaries (known without starting the model)."""
    if llm is not None:
        return str(getattr(llm, "model", None) or type(llm).__name__)
    return f"{settings.llm_base_url}|{settings.llm_model}" if settings.llm_base_url else settings.local_model


def neutralise_markers(text: str) -> str:
    """Article text with its own bracketed numbers made inert, so that no "[n]" from an article reads as a
    citation marker (in a prompt, or in a summary that quotes the article).

    >>> neutralise_markers("approved the budget [3] on Tuesday")
    'approved the budget (3) on Tuesday'
    """
    return re.sub(r"\[(\d+)\]", r"(\1)", text)


def format_sentences(picked: Sequence[Passage]) -> str:
    """Numbered sentences grouped under their article's title; bracketed numbers in article text are
    neutralised so an article cannot plant a citation marker."""
    lines: list[str] = []
    last = None
    for n, p in enumerate(picked, 1):
        if p.article_id != last:
            if lines:
                lines.append("")
            lines.append(f'Article "{p.title.replace(chr(34), chr(39))}" ({p.date or "undated"}):')
            last = p.article_id
        lines.append(f"[{n}] " + neutralise_markers(" ".join(p.text.split())))
    return "\n".join(lines)


def parse_summary(text: str) -> str:
    """The summary in the model's reply; tolerant of markdown, a "Summary:" label and a headline line."""
    clean = re.sub(r"[*#_`]+", "", text).strip()
    lines = [line for line in clean.splitlines() if not re.match(r"\s*(headline|title)\s*:", line, re.I)]
    summary = re.sub(r"^\s*summary\s*:\s*", "", "\n".join(lines).strip(), flags=re.I)
    summary = re.split(r"\n\s*\n|\n\s*summary\s*:", summary, flags=re.I)[0]  # stop at a second entry
    return " ".join(summary.split())


def whole_sentences(text: str, truncated: bool = False) -> str:
    """The text without a trailing fragment cut off by the token limit (no end punctuation, no marker);
    nothing when the limit cut off the first sentence (`truncated`: the reply hit max_tokens).

    >>> whole_sentences("Talks ended [1]. Delegates from the U.S. and Fra")
    'Talks ended [1].'
    >>> whole_sentences("The budget raised the threshold by an amount of the", truncated=True)
    ''
    """
    t = text.rstrip()
    if not t or t[-1] in ".!?]\"'”)":
        return t
    cut = t.rfind("]")  # sentences end with their markers; a period may be an abbreviation's
    if cut >= 0:
        return t[: cut + 2] if t[cut + 1 : cut + 2] in (".", "!", "?") else t[: cut + 1]
    cut = max(t.rfind(ch) for ch in ".!?")
    return t[: cut + 1] if cut >= 0 else ("" if truncated else t)


def first_sentences(text: str, n: int, truncated: bool = False) -> str:
    """The first n sentences of the model's text, without a fragment cut off by the token limit."""
    from rag.chunk import sentences

    text = whole_sentences(text, truncated)
    spans = sentences(text)
    return text[spans[0][0] : spans[min(n, len(spans)) - 1][1]] if spans else ""


def extractive(picked: Sequence[Passage], n: int = 2) -> tuple[str, list[Citation]]:
    """The n most salient sentences as the summary, each cited by its own offsets. Bracketed numbers in
    the sentences are shown as "(n)": the only markers in the summary are its own citations'."""
    top = sorted(sorted(picked, key=lambda p: -p.score)[:n], key=lambda p: (p.article_id != picked[0].article_id,
                                                                               p.article_id, p.start))
    parts, cites = [], []
    for k, p in enumerate(top, 1):
        cites.append(Citation(k, p.article_id, p.title, p.date, p.url, p.start, p.end, p.text))
        body = neutralise_markers(" ".join(p.text.split()))
        parts.append(body[:-1] + f" [{k}]" + body[-1] if body[-1] in ".!?" else body + f" [{k}]")
    return " ".join(parts), cites


def summarise(articles: Sequence[Article], settings: Settings, llm: ChatModel, prompt: Prompt) -> Story:
    """One story: its lead article's title and a verified summary (see module doc)."""
    picked = salient(articles, min(settings.digest_context_tokens, settings.digest_article_tokens * len(articles)))
    lead = max(picked, key=lambda p: p.score)
    headline = next(a.title for a in articles if a.id == lead.article_id)
    system, user = prompt.render(sentences=format_sentences(picked))
    done = llm.complete(system, user, settings.digest_max_tokens)
    text, cites, fell_back = cited_or_extracted(parse_summary(done.text), picked, articles, 3, 2, done.truncated,
                                                make_judge(llm, settings))
    return Story(headline, text, [a.id for a in articles], cites, extractive=fell_back)


def cited_or_extracted(
    text: str, picked: Sequence[Passage], articles: Sequence[Article], max_sentences: int, fallback: int,
    truncated: bool = False, judge: Judge | None = None,
) -> tuple[str, list[Citation], bool]:
    """(text, citations, extracted): the model's first max_sentences whole sentences, verified against the
    numbered sentences it saw (and the whole articles); if none survives, the `fallback` most salient
    sentences themselves, cited by their own offsets."""
    checked = verify(first_sentences(text, max_sentences, truncated), list(picked), extra=[whole(a) for a in articles],
                     judge=judge)
    if checked.citations:
        return checked.answer, checked.citations, False
    out, cites = extractive(picked, fallback)
    return out, cites, True


@dataclass
class _Cluster:
    article_ids: list[str]
    centroid: list[float]


class _Run:
    """One digest run: the collaborators, built only when a cache miss needs them."""

    def __init__(self, settings: Settings, index: Index, embedder: Embedder | None, llm: ChatModel | None) -> None:
        self.settings, self.index = settings, index
        self._embedder, self._llm = embedder, llm
        self.cache = JsonCache(index.dir / "cache" / "digest")
        self.model = model_name(settings, llm)
        self.prompt = load_prompt("digest", {"sentences"})
        self.embed_name = index.get_meta("embed_model") or (embedder.name if embedder else "default")
        self.usage: dict[str, float] = defaultdict(float)

    @property
    def llm(self) -> ChatModel:
        if self._llm is None:
            self._llm = LLM(self.settings)
        return self._llm

    def clusters(self, day: str, articles: list[Article]) -> list[_Cluster]:
        if not articles:
            return []
        k = key("clusters", CLUSTER_VERSION, day, [(a.id, content_hash(a)) for a in articles], self.embed_name,
                self.settings.digest_cluster_threshold)
        hit = self.cache.get(k)
        if hit is not None:
            return [_Cluster(c["article_ids"], c["centroid"]) for c in hit]
        vectors = self._lead_vectors(articles)
        groups = cluster(vectors, self.settings.digest_cluster_threshold)
        out = [_Cluster([articles[i].id for i in g], [round(x, 5) for x in centroid([vectors[i] for i in g])])
               for g in groups]
        self.cache.put(k, [{"article_ids": c.article_ids, "centroid": c.centroid} for c in out])
        return out

    def _lead_vectors(self, articles: list[Article]) -> list[list[float]]:
        """Each article's first chunk vector, from the index (embedded again only if missing there)."""
        lead = self.index.lead_chunk_ids([a.id for a in articles])
        ids = [lead[a.id] for a in articles if a.id in lead]
        by_chunk = {c: v for c, v in zip(ids, self.index.vectors(ids), strict=True) if v is not None}
        stored = {a.id: by_chunk[lead[a.id]] for a in articles if lead.get(a.id) in by_chunk}
        missing = [a for a in articles if a.id not in stored]
        if missing:
            if self._embedder is None:
                self._embedder = make_embedder(self.settings)
            firsts = [chunk_article(a, self.settings.chunk_chars)[:1] for a in missing]
            texts = [embed_text(a, c[0]) if c else a.title for a, c in zip(missing, firsts, strict=True)]
            for a, v in zip(missing, self._embedder.embed(texts), strict=True):
                stored[a.id] = v
        return [stored[a.id] for a in articles]

    def story(self, articles: list[Article], abstract: bool = True) -> Story:
        s = self.settings
        if not abstract:  # over the day's model budget: the lead article's title and salient sentences
            picked = salient(articles, s.digest_context_tokens)
            text, cites = extractive(picked, 1)
            self.usage["extracted_stories"] += 1
            return Story(articles[0].title, text, [a.id for a in articles], cites, extractive=True)
        k = key("story", STORY_VERSION, [(a.id, content_hash(a)) for a in articles], self.prompt.sha, self.model,
                s.digest_context_tokens, s.digest_article_tokens, s.digest_max_tokens)
        hit = self.cache.get(k)
        if hit is not None:
            self.usage["cached_stories"] += 1
            return Story(hit["headline"], hit["summary"], [a.id for a in articles],
                         [Citation(**c) for c in hit["citations"]], extractive=hit["extractive"])
        story = summarise(articles, s, self.llm, self.prompt)
        self.usage["generated_stories"] += 1
        self.cache.put(k, {"headline": story.headline, "summary": story.summary, "extractive": story.extractive,
                           "citations": [c.to_dict() for c in story.citations]})
        return story


def digest(
    settings: Settings,
    since: str,
    until: str | None = None,
    *,
    index: Index | None = None,
    embedder: Embedder | None = None,
    llm: ChatModel | None = None,
    progress: Progress | None = None,
) -> Digest:
    """The digest of each day from `since` to `until` (ISO dates, inclusive; one day when until is None).
    See the module doc. Pass one `llm` when calling this repeatedly: each `LLM(settings)` loads the model."""
    days = days_between(since, until or since, settings.digest_max_days)
    own_index = index is None
    index = index or Index.open(settings)
    try:
        first = (Date.fromisoformat(days[0]) - timedelta(days=settings.digest_lookback_days)).isoformat()
        by_day: dict[str, list[Article]] = defaultdict(list)
        for a in index.articles(first, days[-1]):
            if a.date:
                by_day[a.date].append(a)
        run = _Run(settings, index, embedder, llm)
        llm_calls_before = _calls(llm)
        clusters: dict[str, list[_Cluster]] = {}
        out = Digest(days=[])
        for n, day in enumerate(days):
            earlier: list[Previous] = []
            for back in range(settings.digest_lookback_days, 0, -1):
                prev = (Date.fromisoformat(day) - timedelta(days=back)).isoformat()
                if prev not in clusters:
                    clusters[prev] = run.clusters(prev, by_day.get(prev, []))
                arts = {a.id: a for a in by_day.get(prev, [])}
                earlier += [Previous(prev, i, _lead_title(c, arts), c.article_ids, c.centroid)
                            for i, c in enumerate(clusters[prev])]
            clusters[day] = run.clusters(day, by_day.get(day, []))
            todays = {a.id: a for a in by_day.get(day, [])}
            dd = DayDigest(day, [a.id for a in by_day.get(day, [])])
            for rank, c in enumerate(clusters[day]):
                story = run.story([todays[i] for i in c.article_ids], abstract=rank < settings.digest_max_stories)
                found = continues(c.centroid, earlier, settings.digest_continue_threshold)
                if found:
                    story.continues = StoryRef(found.date, found.story, found.title, found.article_ids)
                dd.stories.append(story)
            out.days.append(dd)
            out.articles.update(todays)
            if progress:
                progress(n + 1, len(days), day)
        out.usage = dict(run.usage)
        if run._llm is not None:
            out.usage.update({k: v for k, v in run._llm.usage().items() if k != "calls"})
            out.usage["llm_calls"] = _calls(run._llm) - llm_calls_before
        return out
    finally:
        if own_index:
            index.close()


def _calls(llm: ChatModel | None) -> float:
    return float(llm.usage().get("calls", 0)) if llm is not None else 0.0


def _lead_title(c: _Cluster, arts: dict[str, Article]) -> str:
    return arts[c.article_ids[0]].title if c.article_ids and c.article_ids[0] in arts else ""


def resolve_days(
    index: Index, date: str | None, date_from: str | None, date_to: str | None, since: str | None
) -> tuple[str, str] | None:
    """The (start, end) the CLI options ask for; the latest indexed day when none is given; None if the
    index holds no dated article and no range was given."""
    lo, hi = index.date_span()
    if date:
        d = parse_day(date)
        return d, d
    if since:
        s = parse_day(since, "--since")
        return s, max(s, hi or s)
    if date_from or date_to:
        f = parse_day(date_from, "--from") if date_from else None
        t = parse_day(date_to, "--to") if date_to else None
        return (f or t or ""), (t or max(f or "", hi or f or ""))
    return (hi, hi) if hi else None

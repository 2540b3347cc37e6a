"""Run a gold set through the pipeline and score it: `run_eval(gold, settings)` -> `EvalReport`.

A gold set is named in `eval/thresholds.toml` with its gold file, the corpus its index is built from
(the harness ingests it into a temporary index, or a cached one for large corpora, unless `index_dir`
is given), optional digest checks, and the thresholds its metric means must meet.

Every question goes through `rag.answering.answer.ask` exactly as `rag ask` runs it; a recording wrapper around
the retriever captures the retrieved passages for the retrieval metrics. Sampling is greedy with a
fixed seed (rag.models.llm), so two runs give the same scores; latency and token counts are reported apart
from the scores.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date as Date
from pathlib import Path
from typing import Any

from rag.answering.retrieve import DateRange, Retriever, Searcher
from rag.config import Settings
from rag.errors import ConfigError, RagError
from rag.eval import metrics as m
from rag.eval.schema import GoldError, GoldItem, load_digest_checks, load_gold, locate_all
from rag.models.embed import Embedder, make_embedder
from rag.models.llm import LLM, ChatModel
from rag.store import Index
from rag.types import Answer, Article, Passage
from rag.verify.judge import cache_dir as judge_cache_dir

EVAL_DIR = Path(__file__).resolve().parents[2] / "eval"
CONFIG = EVAL_DIR / "thresholds.toml"
CLAIM_KINDS = ("verbatim", "paraphrase", "summary", "name", "number", "date", "negation", "role", "unrelated")
METRICS = ("hit_at_k", "mrr", "answer_accuracy", "fact_recall", "refusal_accuracy", "citation_recall",
           "citation_precision", "quote_check", "digest_coverage", "digest_grouping", "digest_citations",
           *(f"claim_{k}" for k in CLAIM_KINDS))
STAGES = ("date_window", "no_passage", "unknown_name", "model", "unverified")


class CorpusMissing(RagError):
    """The gold set's corpus is not on this machine (the caller may skip the set)."""


@dataclass
class GoldSet:
    name: str
    gold: Path
    corpus: Path | None = None
    subset: Path | None = None
    digest: Path | None = None
    as_of: str | None = None  # "today" for the questions' relative dates, fixed so that runs repeat
    claims: Path | None = None  # a labelled claim set (the verifier's own eval) instead of questions
    thresholds: dict[str, float] = field(default_factory=dict)


def load_sets(config: Path = CONFIG) -> dict[str, GoldSet]:
    try:
        raw = tomllib.loads(config.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        hint = ("; the gold sets live in eval/ of a source checkout: run `rag eval` from a clone installed "
                "with `pip install -e .`" if not config.exists() else "")
        raise ConfigError(f"cannot read the eval config {config}: {e}{hint}") from e
    base = config.parent
    out = {}
    for name, t in raw.items():
        unknown = set(t.get("thresholds", {})) - set(METRICS)
        if unknown:
            raise ConfigError(f"{config}: [{name}.thresholds] names unknown metrics {sorted(unknown)}; use {METRICS}")
        if "gold" not in t and "claims" not in t:
            raise ConfigError(f"{config}: [{name}] needs a 'gold' (questions) or 'claims' path")
        out[name] = GoldSet(
            name, (base / (t.get("gold") or t["claims"])).resolve(),
            claims=(base / t["claims"]).resolve() if t.get("claims") else None,
            corpus=(base / t["corpus"]).resolve() if t.get("corpus") else None,
            subset=(base / t["subset"]).resolve() if t.get("subset") else None,
            digest=(base / t["digest"]).resolve() if t.get("digest") else None,
            as_of=str(t["as_of"]) if t.get("as_of") else None,
            thresholds={k: float(v) for k, v in t.get("thresholds", {}).items()},
        )
    return out


def find_set(gold: str | Path | None, config: Path = CONFIG) -> GoldSet:
    """The configured set named `gold`, or whose gold file is `gold`; an unlisted file gets no corpus.
    Without the default config (a plain `pip install` has no eval/), a gold file is its own set, no thresholds."""
    if gold is not None and config == CONFIG and not config.exists() and Path(gold).is_file():
        return GoldSet(Path(gold).stem, Path(gold).resolve())
    sets = load_sets(config)
    if gold is None:
        return sets["seed"]
    if str(gold) in sets:
        return sets[str(gold)]
    p = Path(gold).resolve()
    for s in sets.values():
        if s.gold == p:
            return s
    if not p.exists():
        raise GoldError(f"no gold file {gold} and no gold set of that name in {config} (sets: {', '.join(sets)})")
    return GoldSet(p.stem, p)


# ---- results -----------------------------------------------------------------------------------
@dataclass
class ItemResult:
    id: str
    kind: str
    question: str
    answer: str
    refused: bool
    citations: list[dict[str, object]]
    facts: list[list[str]]
    gold_passages: list[str]
    retrieved: list[str]
    scores: dict[str, m.Score]
    seconds: float
    prompt_tokens: int
    completion_tokens: int
    split: str | None = None
    stage: str | None = None  # the refusal's stage, when refused
    detail: str = ""  # the refusal's detail

    def failed(self) -> dict[str, m.Score]:
        return {k: s for k, s in self.scores.items() if s.value is not None and s.value < 1.0}

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id, "kind": self.kind, "question": self.question, "answer": self.answer,
            "refused": self.refused, "stage": self.stage, "detail": self.detail, "split": self.split,
            "citations": self.citations,
            "facts": self.facts,
            "gold_passages": self.gold_passages, "retrieved": self.retrieved,
            "scores": {k: {"value": s.value, "why": s.why} for k, s in self.scores.items()},
            "seconds": round(self.seconds, 3), "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
        }


@dataclass
class DigestResult:
    date: str
    must_cover: list[str]
    scores: dict[str, m.Score]
    stories: list[dict[str, object]]
    seconds: float


@dataclass
class EvalReport:
    set: str
    gold: str
    k: int
    items: list[ItemResult]
    thresholds: dict[str, float]
    digests: list[DigestResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def scores(self, split: str | None = None) -> dict[str, float | None]:
        """Mean of each metric over the items it applies to (None when it applied to none); `split` keeps
        only the items of that split (tune or test)."""
        out: dict[str, float | None] = {}
        for name in METRICS:
            src = self.digests if name.startswith("digest") else [r for r in self.items
                                                                    if split is None or r.split == split]
            vals = [r.scores[name].value for r in src if name in r.scores and r.scores[name].value is not None]
            out[name] = round(sum(vals) / len(vals), 4) if vals else None  # type: ignore[arg-type]
        return out

    def splits(self) -> list[str]:
        return sorted({r.split for r in self.items if r.split})

    def stages(self, split: str | None = None) -> dict[str, dict[str, int]]:
        """Refusals of answerable questions by stage, per kind (and 'all'), plus answered/wrong counts."""
        out: dict[str, dict[str, int]] = {}
        for r in self.items:
            if split is not None and r.split != split or not r.facts:
                continue  # unanswerable questions and labelled claims have no gold answer to count
            for k in (r.kind, "all"):
                row = out.setdefault(k, {"n": 0, "correct": 0, "wrong": 0, **{st: 0 for st in STAGES}})
                row["n"] += 1
                if r.refused:
                    row[r.stage or "model"] = row.get(r.stage or "model", 0) + 1
                elif r.scores.get("answer_accuracy", m.Score(None, "")).value == 1.0:
                    row["correct"] += 1
                else:
                    row["wrong"] += 1
        return out

    def below(self) -> dict[str, tuple[float, float]]:
        """Metrics whose mean is under their threshold: name -> (mean, threshold)."""
        s = self.scores()
        return {k: (v, t) for k, t in self.thresholds.items() if (v := s.get(k)) is not None and v < t}

    def usage(self) -> dict[str, float]:
        lat = sorted(r.seconds for r in self.items)
        return {
            "items": len(self.items),
            "total_seconds": round(self.seconds, 2),
            "mean_item_seconds": round(sum(lat) / len(lat), 2) if lat else 0.0,
            "max_item_seconds": round(lat[-1], 2) if lat else 0.0,
            "prompt_tokens": sum(r.prompt_tokens for r in self.items),
            "completion_tokens": sum(r.completion_tokens for r in self.items),
        }

    def to_dict(self) -> dict[str, object]:
        return {
            "set": self.set, "gold": self.gold, "k": self.k, "scores": self.scores(),
            "by_split": {sp: {"scores": self.scores(sp), "stages": self.stages(sp)} for sp in self.splits()},
            "stages": self.stages(),
            "thresholds": self.thresholds,
            "below": {k: {"mean": v, "threshold": t} for k, (v, t) in self.below().items()},
            "passed": not self.below(), "usage": self.usage(), "notes": self.notes,
            "items": [r.to_dict() for r in self.items],
            "digests": [{"date": d.date, "must_cover": d.must_cover, "stories": d.stories,
                         "seconds": round(d.seconds, 2),
                         "scores": {k: {"value": s.value, "why": s.why} for k, s in d.scores.items()}}
                        for d in self.digests],
        }


# ---- scoring one item --------------------------------------------------------------------------
class Recorder:
    """Wraps a retriever and keeps what it returned, for the retrieval metrics."""

    def __init__(self, inner: Searcher) -> None:
        self.inner = inner
        self.last: list[Passage] = []

    def search(self, query: str, k: int, dates: DateRange | None = None) -> list[Passage]:
        self.last = self.inner.search(query, k, dates)
        return self.last


def score_item(item: GoldItem, answer: Answer, retrieved: list[Passage], gold: list[m.Hit], k: int,
               articles: dict[str, Article]) -> dict[str, m.Score]:
    hits = [m.Hit(p.article_id, p.start, p.end) for p in retrieved]
    cites = [c.to_dict() for c in answer.citations]
    offsets = m.citation_offsets(cites, articles)
    precision = m.citation_precision(answer.citations, gold, item.facts, answer.refused)
    if offsets.value is not None and offsets.value < 1.0:  # a citation that is not the article's text cites nothing
        precision = m.Score(min(precision.value or 0.0, offsets.value), f"{precision.why}; {offsets.why}")
    return {
        "hit_at_k": m.hit_at_k(hits, gold, k) if item.answerable else m.Score(None, "unanswerable"),
        "mrr": m.reciprocal_rank(hits, gold) if item.answerable else m.Score(None, "unanswerable"),
        "answer_accuracy": m.answer_accuracy(answer, item.facts, item.answerable),
        "fact_recall": m.fact_recall(answer, item.facts, item.answerable),
        "refusal_accuracy": m.refusal_accuracy(answer, item.answerable),
        "citation_recall": m.citation_recall(answer.citations, gold, answer.refused) if item.answerable
        else m.Score(None, "unanswerable"),
        "citation_precision": precision,
        "quote_check": m.quote_check(answer),
    }


# ---- indexes -----------------------------------------------------------------------------------
def _read_corpus(gs: GoldSet) -> list[Path]:
    """Files to ingest for the set (a subset of a JSONL corpus is written to a temp file by the caller)."""
    if gs.corpus is None:
        raise ConfigError(f"gold set {gs.name!r} names no corpus: pass --index with an index holding its articles")
    if not gs.corpus.exists():
        raise CorpusMissing(f"the corpus of gold set {gs.name!r} is not at {gs.corpus}: skipping it "
                            "(pass --corpus PATH or --index DIR)")
    return [gs.corpus]


def _subset_lines(gs: GoldSet) -> list[str]:
    assert gs.subset is not None and gs.corpus is not None
    want = {x.strip() for x in gs.subset.read_text(encoding="utf-8").splitlines() if x.strip() and x[0] != "#"}
    import json

    lines = []
    with open(gs.corpus, encoding="utf-8") as f:
        for line in f:
            if line.strip() and json.loads(line).get("id") in want:
                lines.append(line if line.endswith("\n") else line + "\n")
    if len(lines) != len(want):
        raise GoldError(f"{gs.subset}: {len(want) - len(lines)} listed article ids are not in {gs.corpus}")
    return lines


def _code_fingerprint() -> str:
    import rag

    h = hashlib.sha256()
    root = Path(rag.__file__).parent
    for p in sorted([root / "chunk.py", root / "models" / "embed.py", *(root / "ingest").glob("*.py")]):
        if p.exists():
            h.update(p.read_bytes())
    return h.hexdigest()[:12]


@contextmanager
def eval_index(gs: GoldSet, settings: Settings, embedder: Embedder,
               index_dir: Path | None = None) -> Iterator[Settings]:
    """Settings pointing at an index holding the set's corpus: the given one, a cached one, or a temp one."""
    from rag.ingest import ingest

    if index_dir is not None:
        yield settings.model_copy(update={"index_dir": Path(index_dir)})
        return
    paths = _read_corpus(gs)
    if gs.subset is None:
        with tempfile.TemporaryDirectory(prefix="rag-eval-") as tmp:
            # an index of the set's own: never the shared article store RAG_DATABASE_URL may name
            s = settings.model_copy(update={"index_dir": Path(tmp) / "index", "database_url": None})
            report = ingest(paths, s, embedder=embedder)
            if report.rejected:
                raise ConfigError(f"ingesting the corpus of {gs.name!r} rejected {report.rejected[0]}")
            yield s
        return
    lines = _subset_lines(gs)
    key = hashlib.sha256("".join(lines).encode() + embedder.name.encode() + _code_fingerprint().encode()
                         + str(settings.chunk_chars).encode()).hexdigest()[:16]
    d = Path(settings.eval_cache_dir) / f"{gs.name}-{key}"
    s = settings.model_copy(update={"index_dir": d / "index", "database_url": None})
    if not (d / "complete").exists():
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        src = d / f"{gs.name}-subset.jsonl"
        src.write_text("".join(lines), encoding="utf-8")
        report = ingest([src], s, embedder=embedder)
        if report.rejected:
            raise ConfigError(f"ingesting the subset of {gs.name!r} rejected {report.rejected[0]}")
        (d / "complete").write_text(f"{report.articles} articles\n")
    # the judgements an earlier run cached would be free calls outside an answer's budget (rag.answering.answer
    # JUDGE_BUDGET): each run starts without them, so that it measures what a first-time user gets
    shutil.rmtree(judge_cache_dir(s), ignore_errors=True)
    yield s


# ---- digests -----------------------------------------------------------------------------------
def run_digest_day(date: str, settings: Settings, index: Index, embedder: Embedder, llm: ChatModel) -> dict[str, Any]:
    """One day's digest as its JSON shape ({"days": [...]})."""
    from rag.summarise.digest import digest

    return digest(settings, date, date, index=index, embedder=embedder, llm=llm).to_dict()


def _digests(gs: GoldSet, settings: Settings, embedder: Embedder, llm: ChatModel,
             articles_of: Callable[[list[str]], dict[str, Article]], report: EvalReport) -> None:
    if gs.digest is None:
        return
    checks = load_digest_checks(gs.digest)
    with Index.open(settings) as index:
        for chk in checks:
            t0 = time.monotonic()
            data = run_digest_day(chk.date, settings, index, embedder, llm)
            day = next((d for d in data["days"] if d.get("date") == chk.date), None)
            stories = list(day.get("stories") or []) if day else []
            ids = {str(c.get("article_id")) for s in stories for c in (s.get("citations") or [])}
            arts = articles_of(sorted(ids | set(chk.must_cover)))
            report.digests.append(DigestResult(chk.date, chk.must_cover, {
                "digest_coverage": m.digest_coverage(day, chk.must_cover),
                "digest_grouping": m.digest_grouping(day, chk.together),
                "digest_citations": m.digest_citation_validity(day, arts),
            }, stories, time.monotonic() - t0))


# ---- the run -----------------------------------------------------------------------------------
def run_eval(
    gold: str | Path | None,
    settings: Settings,
    *,
    index_dir: Path | None = None,
    corpus: Path | None = None,
    embedder: Embedder | None = None,
    llm: ChatModel | None = None,
    retriever: Callable[[Index, Embedder, Settings], Searcher] | None = None,
    limit: int | None = None,
    split: str | None = None,
    digests: bool = True,
    config: Path = CONFIG,
    progress: Callable[[int, int, ItemResult], None] | None = None,
) -> EvalReport:
    """Answer every gold question with `ask()` and score it (module doc).

    `retriever` builds the searcher ask() uses (default: the index's Retriever); `split` keeps the items
    of that split (tune or test); `limit` takes the first n items. Raises GoldError for a malformed gold file, CorpusMissing when the corpus is absent.
    """
    from rag.answering.answer import ask

    gs = find_set(gold, config)
    if corpus is not None:
        gs.corpus = Path(corpus).resolve()
    if gs.claims is not None:
        return run_claims(gs, settings, llm=llm, limit=limit, split=split, progress=progress)
    items = [it for it in load_gold(gs.gold) if split is None or it.split == split][:limit]
    t_start = time.monotonic()
    embedder = embedder or make_embedder(settings)
    with eval_index(gs, settings, embedder, index_dir) as s:
        with Index.open(s) as index:
            def articles_of(ids: list[str]) -> dict[str, Article]:
                return {i: index.article(i) for i in ids if index.has_article(i)}

            articles = articles_of(sorted({p.article_id for it in items for p in it.passages}))
            spans = locate_all(gs.gold, items, articles)
            llm = llm or LLM(s)
            make = retriever or (lambda ix, em, st: Retriever(ix, em, st))
            searcher = make(index, embedder, s)  # one for the run: it may hold a lexical index
            report = EvalReport(gs.name, str(gs.gold), s.top_k, [], gs.thresholds)
            for n, it in enumerate(items, 1):
                rec = Recorder(searcher)
                as_of = it.as_of or gs.as_of
                t0 = time.monotonic()
                ans = ask(it.question, s, as_of=Date.fromisoformat(as_of) if as_of else None, since=it.since,
                          until=it.until, index=index, embedder=embedder, llm=llm, retriever=rec)
                dt = time.monotonic() - t0
                gold_hits = [m.Hit(x.article_id, x.start, x.end) for x in spans[it.id]]
                cited = articles_of(sorted({c.article_id for c in ans.citations}))
                r = ItemResult(
                    it.id, it.kind, it.question, ans.answer, ans.refused, [c.to_dict() for c in ans.citations],
                    it.facts, [p.text for p in it.passages],
                    [f"{p.article_id}[{p.start}:{p.end}]" for p in rec.last],
                    score_item(it, ans, rec.last, gold_hits, s.top_k, cited | articles),
                    dt, int(ans.usage.get("prompt_tokens", 0)), int(ans.usage.get("completion_tokens", 0)),
                    it.split, ans.refusal.stage if ans.refusal else None, ans.refusal.detail if ans.refusal else "",
                )
                report.items.append(r)
                if progress:
                    progress(n, len(items), r)
        if digests:
            _digests(gs, s, embedder, llm, lambda ids: _articles(s, ids), report)
    report.seconds = time.monotonic() - t_start
    return report


def _articles(settings: Settings, ids: list[str]) -> dict[str, Article]:
    with Index.open(settings) as ix:
        return {i: ix.article(i) for i in ids if ix.has_article(i)}


# ---- the verifier's own eval: labelled claims ---------------------------------------------------------
def run_claims(gs: GoldSet, settings: Settings, *, llm: ChatModel | None = None, limit: int | None = None,
               split: str | None = None, progress: Callable[[int, int, ItemResult], None] | None = None) -> EvalReport:
    """Check every labelled claim against its evidence span with rag.verify (the judgement included unless
    RAG_VERIFY_JUDGE=off) and score the verdict against the label, per kind (metrics `claim_<kind>`)."""
    from rag.eval.schema import load_claims
    from rag.verify import check_claim, make_judge

    if gs.corpus is None or not gs.corpus.exists():
        raise CorpusMissing(f"the corpus of claim set {gs.name!r} is not at {gs.corpus}: skipping it (pass --corpus PATH)")
    claims = [c for c in load_claims(gs.gold) if split is None or c.split == split][:limit]
    want = {c.article_id for c in claims}
    articles: dict[str, dict[str, Any]] = {}
    with gs.corpus.open(encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            if rec.get("id") in want:
                articles[rec["id"]] = rec
    t_start = time.monotonic()
    judge = make_judge(llm or LLM(settings), settings) if settings.verify_judge != "off" else None
    report = EvalReport(gs.name, str(gs.gold), 0, [], gs.thresholds)
    for n, c in enumerate(claims, 1):
        a = articles.get(c.article_id)
        if a is None or c.evidence not in a["text"]:
            raise GoldError(f"{gs.gold}: claim {c.id}: its evidence is not a span of article {c.article_id!r}")
        start = a["text"].index(c.evidence)
        p = Passage(f"{c.article_id}@{start}", c.article_id, a.get("title") or "", a.get("date"), a.get("url"),
                    start, start + len(c.evidence), c.evidence)
        t0 = time.monotonic()
        v = check_claim(c.claim, [p], judge=judge)
        r = ItemResult(c.id, c.kind, c.claim, f"{v.verdict}: {v.reason}", not v.supported, [], [], [c.evidence], [],
                       {f"claim_{c.kind}": m.claim_passed(v.supported, c.label)}, time.monotonic() - t0, 0, 0,
                       c.split, None)
        report.items.append(r)
        if progress:
            progress(n, len(claims), r)
    if judge is not None:
        report.notes.append(f"judgement: {judge.calls} model calls ({judge.seconds:.1f} s), {judge.cached} cached")
    report.seconds = time.monotonic() - t_start
    return report

"""The eval harness: gold files validate, metrics score what they claim, and breaking the pipeline on
purpose makes the right metric fall (FakeChat and wrapped retrievers stand in for the broken parts)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.config import Settings
from rag.eval import metrics as m
from rag.eval.harness import CONFIG, EVAL_DIR, find_set, run_eval
from rag.eval.schema import GoldError, load_digest_checks, load_gold
from rag.ingest.readers import read_jsonl, read_txt
from rag.types import Answer, Article, Citation, Passage
from tests.conftest import SEEDS, WIKINEWS, FakeChat, needs_corpus

SEED = SEEDS / "000_aeafaadd1786d078.txt"
SEED_ID = SEED.stem


def seed_article():
    return next(read_txt(SEED, SEED.read_bytes()))


def write_gold(tmp_path: Path, rows: list[object]) -> Path:
    p = tmp_path / "gold.jsonl"
    p.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return p


GOOD = {"id": "a", "kind": "fact", "question": "Where were the talks?", "facts": [["Geneva"]],
        "passages": [{"article_id": SEED_ID, "text": "American and Ukrainian representatives in Geneva"}]}


# ---- gold data -------------------------------------------------------------------------------------
def test_seed_gold_is_valid_and_rich_enough() -> None:
    a = seed_article()
    items = load_gold(EVAL_DIR / "gold" / "seed.jsonl", {a.id: a})
    kinds = [it.kind for it in items]
    assert len(items) >= 25
    assert kinds.count("unanswerable") >= 5 and kinds.count("date") >= 3


@needs_corpus()
def test_wikinews_gold_is_valid_against_the_corpus() -> None:
    gs = find_set("wikinews")
    want = {x for x in gs.subset.read_text().split() if x.startswith("wikinews-")}
    arts = {a.id: a for a in read_jsonl(WIKINEWS, WIKINEWS.read_bytes()) if isinstance(a, Article) and a.id in want}
    assert len(arts) == len(want) >= 200
    items = load_gold(gs.gold, arts)
    kinds = [it.kind for it in items]
    assert len(items) >= 40 and kinds.count("two-article") >= 3 and kinds.count("unanswerable") >= 5
    for chk in load_digest_checks(gs.digest):
        assert set(chk.must_cover) <= {i for i, a in arts.items() if a.date == chk.date}


def test_wikinews_gold_files_parse_without_the_corpus() -> None:
    gs = find_set("wikinews")
    assert len(load_gold(gs.gold)) >= 40
    assert load_digest_checks(gs.digest)


@pytest.mark.parametrize(
    ("row", "expect"),
    [
        ("{not json", r"gold.jsonl:2: invalid JSON"),
        ({**GOOD, "id": "b", "facts": []}, r"gold.jsonl:2: field \(item\)|gold.jsonl:2: .*facts"),
        ({**GOOD, "id": "b", "kind": "opinion"}, r"gold.jsonl:2: field kind"),
        ({**GOOD, "id": "b", "facts": [[""]]}, r"gold.jsonl:2: field facts"),
        ({**GOOD, "id": "b", "colour": 1}, r"gold.jsonl:2: field colour"),
        ({"id": "b", "kind": "unanswerable", "question": "Why?", "facts": [["x"]]}, r"gold.jsonl:2: "),
        ({**GOOD}, r"'a' is used twice"),
    ],
)
def test_malformed_gold_names_file_line_and_field(tmp_path: Path, row: object, expect: str) -> None:
    p = write_gold(tmp_path, [GOOD, row])
    with pytest.raises(GoldError, match=expect) as e:
        load_gold(p)
    assert "\n" not in str(e.value)


def test_gold_passage_must_be_verbatim(tmp_path: Path) -> None:
    a = seed_article()
    bad = {**GOOD, "id": "b", "passages": [{"article_id": SEED_ID, "text": "talks were held in Geneva"}]}
    with pytest.raises(GoldError, match=r"gold.jsonl:2: field passages.0.text: not a verbatim span"):
        load_gold(write_gold(tmp_path, [GOOD, bad]), {a.id: a})
    other = {**GOOD, "id": "c", "passages": [{"article_id": "nope", "text": "Geneva"}]}
    with pytest.raises(GoldError, match=r"gold.jsonl:2: field passages.0.article_id"):
        load_gold(write_gold(tmp_path, [GOOD, other]), {a.id: a})


# ---- metrics ---------------------------------------------------------------------------------------
def test_retrieval_metrics() -> None:
    gold = [m.Hit("a", 100, 200)]
    ret = [m.Hit("b", 100, 200), m.Hit("a", 0, 99), m.Hit("a", 150, 400)]
    assert m.hit_at_k(ret, gold, 2).value == 0.0
    assert m.hit_at_k(ret, gold, 3).value == 1.0
    assert m.reciprocal_rank(ret, gold).value == pytest.approx(1 / 3)
    assert m.reciprocal_rank(ret[:2], gold).value == 0.0
    two = [m.Hit("a", 100, 200), m.Hit("c", 0, 10)]
    assert m.hit_at_k(ret, two, 3).value == 0.5
    assert m.hit_at_k(ret, [], 3).value is None


def test_fact_recall_accepts_aliases_and_number_formats() -> None:
    ans = Answer("q", "The plan had twenty-eight points and cost $1,000,000 [1].", False)
    assert m.fact_recall(ans, [["28", "twenty-eight"]], True).value == 1.0
    assert m.fact_recall(ans, [["1000000"]], True).value == 1.0
    assert m.fact_recall(ans, [["Geneva"], ["28", "twenty-eight"]], True).value == 0.5
    assert m.fact_recall(ans, [["8", "eight"]], True).value == 0.0  # whole words only
    assert m.fact_recall(Answer("q", "a 28-point plan", False), [["28"]], True).value == 1.0
    refused = Answer("q", "The indexed articles do not answer this question.", True)
    assert m.fact_recall(refused, [["28"]], True).value == 0.0
    assert m.contains("Zelensky’s team", "Zelensky's team") and m.contains("Zürich", "Zurich")


def test_refusal_accuracy() -> None:
    yes, no = Answer("q", "x", False), Answer("q", "x", True)
    assert m.refusal_accuracy(yes, True).value == 1.0 and m.refusal_accuracy(no, True).value == 0.0
    assert m.refusal_accuracy(no, False).value == 1.0 and m.refusal_accuracy(yes, False).value == 0.0


def _cite(n: int, text: str, start: int = 0) -> Citation:
    return Citation(n, "a", "T", None, None, start, start + len(text), text)


def test_citation_metrics_use_the_gold_evidence_not_the_verifier() -> None:
    """Citations are graded against the gold passages and facts: a citation elsewhere that states no gold
    fact is imprecise, and a two-article answer citing one article recalls half."""
    geneva = _cite(1, "The talks were held in Geneva on Sunday.")
    other = _cite(2, "Marco Rubio said more time is needed.", 100)
    gold = [m.Hit("a", 0, 40)]
    assert m.citation_precision([geneva], gold, [["Geneva"]], False).value == 1.0
    assert m.citation_precision([geneva, other], gold, [["Geneva"]], False).value == 0.5
    elsewhere = Citation(1, "b", "T", None, None, 500, 540, "Delegates met in Geneva.")
    assert m.citation_precision([elsewhere], gold, [["Geneva"]], False).value == 1.0  # states the gold fact
    assert m.citation_precision([], gold, [["Geneva"]], False).value == 0.0
    assert m.citation_precision([geneva], gold, [["Geneva"]], True).value is None
    two = [m.Hit("a", 0, 40), m.Hit("c", 0, 50)]
    assert m.citation_recall([geneva], two, False).value == 0.5
    assert m.citation_recall([geneva, Citation(2, "c", "T", None, None, 10, 20, "x")], two, False).value == 1.0
    assert m.citation_recall([], two, True).value is None


def test_answer_accuracy_needs_every_fact_and_claims_score_against_their_label() -> None:
    ans = Answer("q", "The plan had 28 points [1].", False)
    assert m.answer_accuracy(ans, [["28"]], True).value == 1.0
    assert m.answer_accuracy(ans, [["28"], ["Geneva"]], True).value == 0.0
    assert m.answer_accuracy(ans, [], False).value is None
    assert m.claim_passed(True, "supported").value == 1.0 and m.claim_passed(True, "unsupported").value == 0.0
    assert m.claim_passed(False, "unsupported").value == 1.0


def test_quote_check() -> None:
    c = _cite(1, 'Zelensky said "negotiations are ongoing" on Monday.')
    good = Answer("q", 'Zelensky said "negotiations are ongoing" [1].', False, [c])
    bad = Answer("q", 'Zelensky said "talks have collapsed" [1].', False, [c])
    assert m.quote_check(good).value == 1.0 and m.quote_check(bad).value == 0.0
    assert m.quote_check(Answer("q", "No quotes here [1].", False, [c])).value is None
    # rag.cite puts the marks after a closing quote: 'said "...". [1]' -> they still belong to that sentence
    c2 = _cite(1, 'On Monday Zelensky said "negotiations are ongoing."')
    after = Answer("q", 'Zelensky said "negotiations are ongoing." [1] On Monday Zelensky spoke [1].', False, [c2])
    assert m.quote_check(after).value == 1.0


def test_citation_offsets_and_digest_metrics() -> None:
    a = seed_article()
    s = a.text.index("Geneva")
    ok = {"article_id": a.id, "start": s, "end": s + 6, "text": "Geneva"}
    off = {**ok, "start": s + 1, "end": s + 7}
    assert m.citation_offsets([ok], {a.id: a}).value == 1.0
    assert m.citation_offsets([ok, off], {a.id: a}).value == 0.5
    assert m.citation_offsets([{**ok, "article_id": "x"}], {a.id: a}).value == 0.0
    day = {"date": "d", "articles": ["x", "y", "z"], "stories": [
        {"headline": "h", "summary": "s", "article_ids": ["x", "y"], "citations": [ok]},
        {"headline": "h", "summary": "s", "article_ids": ["z"], "citations": [off]}]}
    assert m.digest_coverage(day, ["x", "y", "z"]).value == 1.0
    assert m.digest_coverage(day, ["x", "w"]).value == 0.5
    assert m.digest_coverage(None, ["x"]).value == 0.0
    assert m.digest_grouping(day, [["x", "y"]]).value == 1.0
    assert m.digest_grouping(day, [["x", "z"]]).value == 0.0
    assert m.digest_citation_validity(day, {a.id: a}).value == 0.5


# ---- the harness, broken on purpose ----------------------------------------------------------------
def _run(seed_settings: Settings, embedder, llm, **kw):
    return run_eval("seed", seed_settings, index_dir=seed_settings.index_dir, embedder=embedder, llm=llm, **kw)


_BASELINE: dict[str, object] = {}


@pytest.fixture
def baseline(seed_settings: Settings, embedder):
    """The fake pipeline's report on the seed set, run once and shared by the tests that compare against it (the
    eval is deterministic: test_eval_is_deterministic runs it again and compares)."""
    if "report" not in _BASELINE:
        _BASELINE["report"] = _run(seed_settings, embedder, FakeChat())
    return _BASELINE["report"]


def test_baseline_fake_pipeline_scores_well(baseline) -> None:
    s = baseline.scores()
    # the fake copies the sentence sharing most words with the question, not always the gold one
    assert s["hit_at_k"] >= 0.9 and s["citation_recall"] >= 0.7 and s["citation_precision"] >= 0.7
    assert s["fact_recall"] >= 0.7 and s["refusal_accuracy"] >= 0.7
    assert baseline.usage()["prompt_tokens"] > 0
    assert all(r.seconds > 0 for r in baseline.items)


def test_eval_is_deterministic(seed_settings: Settings, embedder, baseline) -> None:
    again = _run(seed_settings, embedder, FakeChat())
    assert again.scores() == baseline.scores()
    assert [r.answer for r in again.items] == [r.answer for r in baseline.items]


def test_a_model_that_always_refuses_drops_refusal_accuracy(seed_settings: Settings, embedder, baseline) -> None:
    r = _run(seed_settings, embedder, FakeChat(lambda s, u: "NOT IN ARTICLES"))
    assert r.scores()["refusal_accuracy"] < baseline.scores()["refusal_accuracy"] - 0.5
    assert r.scores()["fact_recall"] == 0.0
    assert all(i.scores["refusal_accuracy"].value == 1.0 for i in r.items if i.kind == "unanswerable")
    assert "refusal_accuracy" in r.below()


def test_a_model_without_citations_or_support_is_refused(seed_settings: Settings, embedder, baseline) -> None:
    r = _run(seed_settings, embedder, FakeChat(lambda s, u: "It is hard to say what will happen next."))
    assert r.scores()["fact_recall"] == 0.0
    assert r.scores()["refusal_accuracy"] < baseline.scores()["refusal_accuracy"] - 0.5


def test_skipped_verification_drops_citation_precision(seed_settings: Settings, embedder, baseline,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A regression that lets unverified, mis-cited text through is caught by the gold-evidence citation
    metrics, which do not call the verifier."""
    import rag.answering.answer
    from rag.cite import strip_markers
    from rag.verify import Verified

    def no_check(answer: str, context: list[Passage], question: str = "", **kw: object) -> Verified:
        return Verified(strip_markers(answer), [_cite(1, "placeholder")])

    monkeypatch.setattr(rag.answering.answer, "verify", no_check)
    monkeypatch.setattr(rag.answering.answer, "off_question", lambda *a: None)  # and let it through whatever it cites
    r = _run(seed_settings, embedder, FakeChat(lambda s, u: "Talks will surely end the war by Christmas [1]."))
    assert r.scores()["citation_recall"] == 0.0 and r.scores()["citation_precision"] == 0.0
    assert {"citation_recall", "citation_precision"} <= set(r.below())
    assert baseline.scores()["citation_recall"] >= 0.7 and baseline.scores()["citation_precision"] >= 0.7


class Unrelated:
    """A broken retriever: always the same passages of an article about something else."""

    TEXT = "The city council approved a new budget for road repairs. Snow is expected in Oslo this weekend."

    def search(self, query: str, k: int, dates: object = None) -> list[Passage]:
        return [Passage("other#0", "other", "Local news", "2025-01-01", None, 0, len(self.TEXT), self.TEXT, 0.9)]


def test_wrong_retrieval_drops_hit_rate_and_mrr(seed_settings: Settings, embedder, baseline) -> None:
    r = _run(seed_settings, embedder, FakeChat(), retriever=lambda ix, em, st: Unrelated())
    assert r.scores()["hit_at_k"] == 0.0 and r.scores()["mrr"] == 0.0
    assert baseline.scores()["hit_at_k"] >= 0.9
    assert r.scores()["fact_recall"] < baseline.scores()["fact_recall"]
    assert {"hit_at_k", "mrr"} <= set(r.below())


def test_report_shows_failing_items_with_answer_gold_and_why(seed_settings: Settings, embedder) -> None:
    from rag.eval.report import markdown

    r = _run(seed_settings, embedder, FakeChat(lambda s, u: "NOT IN ARTICLES"), limit=3)
    md = markdown(r)
    assert "## refusal_accuracy" in md and "| metric | mean | " in md and "| threshold | status |" in md
    assert "### s01 (fact" in md and "- answer (refused at model)" in md and "- gold facts: Truth Social" in md
    assert "refused an answerable question" in md
    d = r.to_dict()
    assert d["passed"] is False and len(d["items"]) == 3 and d["usage"]["items"] == 3
    json.dumps(d)


# ---- the command -----------------------------------------------------------------------------------
def _config(tmp_path: Path, gold: Path, **thresholds: float) -> Path:
    lines = ["[t]", f'gold = "{gold}"', f'corpus = "{SEEDS}"', "[t.thresholds]"]
    lines += [f"{k} = {v}" for k, v in thresholds.items()]
    p = tmp_path / "thresholds.toml"
    p.write_text("\n".join(lines) + "\n")
    return p


@pytest.fixture
def fake_llm(monkeypatch: pytest.MonkeyPatch) -> None:
    import rag.eval.harness

    monkeypatch.setattr(rag.eval.harness, "LLM", lambda settings: FakeChat())


def test_cli_exit_status_follows_thresholds(tmp_path: Path, seed_settings: Settings, fake_llm: None,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from rag.cli import app

    monkeypatch.setenv("RAG_MODEL_DIR", str(seed_settings.model_dir))
    gold = write_gold(tmp_path, [GOOD])
    conf = _config(tmp_path, gold, hit_at_k=1.0)
    ok = CliRunner().invoke(app, ["eval", "--gold", "t", "--thresholds", str(conf), "--index",
                                  str(seed_settings.index_dir), "--json", "--report", str(tmp_path / "r.md")])
    assert ok.exit_code == 0, ok.output
    out = json.loads(ok.stdout)
    assert out["passed"] is True and out["scores"]["hit_at_k"] == 1.0
    assert (tmp_path / "r.md").read_text().startswith("# rag eval: t")
    # the temp index is built from the set's corpus when no --index is given
    bad = CliRunner().invoke(app, ["eval", "--gold", str(gold), "--thresholds",
                                   str(_config(tmp_path, gold, fact_recall=1.01))])
    assert bad.exit_code == 1
    assert re.search(r"^error: fact_recall = [0-9.]+ is below its threshold 1.01$", bad.stderr, re.M)


def test_cli_reports_malformed_gold_and_missing_corpus(tmp_path: Path, seed_settings: Settings) -> None:
    from rag.cli import app

    gold = write_gold(tmp_path, [GOOD, {**GOOD, "id": "b", "kind": "x"}])
    r = CliRunner().invoke(app, ["eval", "--gold", str(gold), "--index", str(seed_settings.index_dir)])
    assert r.exit_code == 1 and r.stderr.startswith("error: ") and "gold.jsonl:2: field kind" in r.stderr
    r = CliRunner().invoke(app, ["eval", "--gold", "wikinews", "--corpus", str(tmp_path / "absent.jsonl")])
    assert r.exit_code == 0 and "skipped: the corpus of gold set 'wikinews' is not at" in r.stderr


def test_thresholds_name_known_metrics() -> None:
    from rag.eval.harness import METRICS, load_sets

    sets = load_sets(CONFIG)
    assert {"seed", "wikinews"} <= set(sets)
    for s in sets.values():
        assert set(s.thresholds) <= set(METRICS)


# ---- the real model --------------------------------------------------------------------------------
@pytest.mark.slow
def test_real_model_eval_repeats_exactly(seed_settings: Settings, embedder, local_llm) -> None:
    """Two runs of the seed eval with the embedded model on a few items give identical scores. (Greedy decoding
    over a reused llama.cpp prompt cache can differ by a word between runs, "his Truth Social platform" or
    "Truth Social platform", since the verifier's judgement calls change which prompt state is cached; facts,
    refusals and citations do not.)"""
    one = _run(seed_settings, embedder, local_llm, limit=4)
    two = _run(seed_settings, embedder, local_llm, limit=4)
    assert one.scores() == two.scores()
    assert [r.refused for r in one.items] == [r.refused for r in two.items]
    assert one.scores()["hit_at_k"] >= 0.75 and one.scores()["fact_recall"] >= 0.5
    assert one.usage()["completion_tokens"] > 0


def test_digest_checks_run_the_real_digest_and_score_it(ssettings: Settings, embedder, tmp_path: Path) -> None:
    """The harness's digest metrics come from rag.summarise.digest itself (a broken hook once skipped them all
    with a note): the gold day 2005-03-15 of eval/gold/wikinews_digest.jsonl, over the story index."""
    from rag.eval.harness import EvalReport, GoldSet, _digests
    from rag.store import Index

    line = (EVAL_DIR / "gold" / "wikinews_digest.jsonl").read_text().splitlines()[0]
    (tmp_path / "d.jsonl").write_text(line + "\n")
    report = EvalReport("t", "t", 5, [], {})
    with Index.open(ssettings) as ix:
        arts = {a.id: a for a in ix.articles()}
    _digests(GoldSet("t", tmp_path / "d.jsonl", digest=tmp_path / "d.jsonl"), ssettings, embedder,
             FakeChat(lambda s, u: "Headline: x\nSummary: nothing to cite"), lambda ids: {i: arts[i] for i in ids if i in arts},
             report)
    assert report.notes == [] and len(report.digests) == 1
    scores = report.scores()
    assert scores["digest_coverage"] == 1.0 and scores["digest_grouping"] == 1.0 and scores["digest_citations"] == 1.0


def test_the_claims_eval_scores_the_verifier_per_kind_against_hand_labels(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A labelled claim is scored 1 when the verifier agrees with its label, per kind; the verifier is not
    asked to grade itself (labels come from the file)."""
    monkeypatch.setenv("RAG_VERIFY_JUDGE", "off")
    a = {"id": "w1", "title": "Vote", "date": "2005-03-10", "text": "Wilson was voted in with 64 votes. It rained."}
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(json.dumps(a) + "\n", encoding="utf-8")
    rows = [
        {"id": "c1", "kind": "verbatim", "label": "supported", "claim": "Wilson was voted in with 64 votes.",
         "article_id": "w1", "evidence": "Wilson was voted in with 64 votes.", "split": "tune"},
        {"id": "c2", "kind": "number", "label": "unsupported", "claim": "Wilson was voted in with 46 votes.",
         "article_id": "w1", "evidence": "Wilson was voted in with 64 votes.", "split": "test"},
        {"id": "c3", "kind": "name", "label": "unsupported", "claim": "Putin was voted in with 64 votes.",
         "article_id": "w1", "evidence": "Wilson was voted in with 64 votes.", "split": "test"},
    ]
    (tmp_path / "claims.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    config = tmp_path / "t.toml"
    config.write_text('[c]\nclaims = "claims.jsonl"\ncorpus = "corpus.jsonl"\n[c.thresholds]\nclaim_name = 1.0\n')
    r = run_eval("c", Settings(index_dir=tmp_path / "unused"), config=config)
    s = r.scores()
    assert (s["claim_verbatim"], s["claim_number"], s["claim_name"]) == (1.0, 1.0, 1.0) and not r.below()
    assert r.scores("test")["claim_verbatim"] is None and r.scores("tune")["claim_verbatim"] == 1.0
    assert r.stages() == {}  # claims are not questions: no answered/refused counts
    bad = tmp_path / "claims.jsonl"
    bad.write_text(json.dumps({**rows[0], "kind": "name"}) + "\n", encoding="utf-8")
    with pytest.raises(GoldError, match="must be labelled unsupported"):
        run_eval("c", Settings(index_dir=tmp_path / "unused"), config=config)


def test_a_cached_eval_index_starts_each_run_without_the_judgements_an_earlier_run_cached(tmp_path: Path, embedder) -> None:
    from rag.eval.harness import GoldSet, eval_index
    from rag.verify.judge import cache_dir

    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"id": f"a{i}", "title": f"Harbour news {i}", "date": "2005-03-0" + str(i),
                                          "text": f"The harbour council approved budget number {i} on Tuesday."}) + "\n"
                              for i in (1, 2, 3)), encoding="utf-8")
    subset = tmp_path / "subset.txt"
    subset.write_text("a1\na3\n", encoding="utf-8")
    gs = GoldSet("tiny", tmp_path / "gold.jsonl", corpus=corpus, subset=subset)
    settings = Settings(index_dir=tmp_path / "unused", eval_cache_dir=tmp_path / "cache")
    with eval_index(gs, settings, embedder) as s:
        first = s.index_dir
        cache_dir(s).mkdir(parents=True)
        (cache_dir(s) / "k.json").write_text("0.9", encoding="utf-8")
    with eval_index(gs, settings, embedder) as s:  # the index is reused, its cached judgements are not
        assert s.index_dir == first and (s.index_dir / "articles.sqlite").exists()
        assert not cache_dir(s).exists()

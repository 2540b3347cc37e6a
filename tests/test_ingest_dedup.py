"""Unchanged re-ingest, syndicated near-duplicates, updates replacing chunks, remove and stats."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from rag.answering.retrieve import Retriever
from rag.cli import app
from rag.config import Settings
from rag.ingest import ingest
from rag.models.embed import OnnxMiniLM
from rag.store import Index

from .conftest import SEEDS, needs_corpus, own_store

TODAY = date(2026, 11, 27)
SEED = SEEDS / "000_aeafaadd1786d078.txt"
runner = CliRunner()


class CountingEmbedder:
    """The real embedder, counting what it is asked to embed."""

    def __init__(self, real: OnnxMiniLM) -> None:
        self.real, self.name, self.texts = real, real.name, 0

    def embed(self, texts: list[str]) -> list[list[float]]:
        self.texts += len(texts)
        return self.real.embed(texts)


def syndicated_copy(text: str) -> str:
    """What a wire copy looks like: another headline, a byline, small edits, a footer."""
    lines = text.splitlines()
    body = "\n".join(lines[1:]).replace("US President Donald Trump", "President Donald Trump", 1)
    return ("Trump upbeat on Ukraine peace push\nBy Wire Staff | Example Wire\n" + body
            + "\n\nThis story was distributed by Example Wire. All rights reserved.")


def test_unchanged_reingest_embeds_nothing_and_changes_nothing(tmp_path: Path, settings: Settings,
                                                              embedder: OnnxMiniLM) -> None:
    data = Path(__file__).parent / "data" / "wikinews40.jsonl"
    counting = CountingEmbedder(embedder)
    first = ingest([data, SEED], settings, embedder=counting, today=TODAY)
    assert first.added == 41 and counting.texts == first.chunks
    db = settings.index_dir / "articles.sqlite"
    before = db.stat().st_mtime_ns if db.exists() else None  # (on PostgreSQL there is no file to watch)
    counting.texts = 0
    again = ingest([data, SEED], settings, embedder=counting, today=TODAY)
    assert (again.added, again.updated, again.unchanged, again.duplicates) == (0, 0, 41, 0)
    assert counting.texts == 0 and (again.articles, again.chunks) == (first.articles, first.chunks)
    assert before is None or db.stat().st_mtime_ns == before  # not even a write


def test_syndicated_copy_is_a_duplicate_of_the_first(tmp_path: Path, settings: Settings,
                                                     embedder: OnnxMiniLM) -> None:
    wire = tmp_path / "wire"
    wire.mkdir()
    (wire / "trump-ukraine-wire.txt").write_text(syndicated_copy(SEED.read_text()))
    exact = tmp_path / "exact"
    exact.mkdir()
    (exact / "copy-of-seed.txt").write_text(SEED.read_text())
    first = ingest([SEED], settings, embedder=embedder, today=TODAY)
    r = ingest([wire, exact], settings, embedder=embedder, today=TODAY)
    assert r.duplicates == 2 and r.added == 0 and r.articles == 1 and r.chunks == first.chunks
    assert r.duplicate_of == {"trump-ukraine-wire": SEED.stem, "copy-of-seed": SEED.stem}
    again = ingest([wire, exact], settings, embedder=embedder, today=TODAY)
    assert again.unchanged == 2 and again.duplicates == 0  # already recorded: nothing new
    with Index.open(settings) as ix:
        assert ix.stats()["duplicates"] == 2
    # within one run too: the copy after the original in the same batch
    other = Settings(index_dir=tmp_path / "ix2", model_dir=settings.model_dir, **own_store())
    both = ingest([SEED, wire], other, embedder=embedder, today=TODAY)
    assert both.added == 1 and both.duplicates == 1


def test_changed_text_replaces_old_chunks(tmp_path: Path, settings: Settings, embedder: OnnxMiniLM) -> None:
    p = tmp_path / "harbour.txt"
    p.write_text("Harbour news\nThe ferry to Lundy Island was cancelled because of a broken propeller shaft. "
                 "Passengers were offered refunds at the quay.")
    ingest([p], settings, embedder=embedder, today=TODAY)
    r = Retriever(Index.open(settings), embedder, settings)
    assert any("propeller" in x.text for x in r.search("Why was the Lundy ferry cancelled?", k=3))
    p.write_text("Harbour news\nThe new lighthouse keeper arrived on Tuesday with a crate of oranges. "
                 "She will live in the cottage by the pier.")
    r2 = ingest([p], settings, embedder=embedder, today=TODAY)
    assert r2.updated == 1 and r2.articles == 1
    retr = Retriever(Index.open(settings), embedder, settings)
    hits = retr.search("Why was the Lundy ferry cancelled? propeller shaft refunds", k=10)
    assert hits and all("propeller" not in x.text and "Lundy" not in x.text for x in hits)
    assert any("lighthouse keeper" in x.text for x in retr.search("Who is the new lighthouse keeper?", k=3))
    with Index.open(settings) as ix:
        assert len(ix.collection.get(where={"article_id": "harbour"})["ids"]) == ix.stats()["chunks"]


def test_remove_and_stats_through_cli(tmp_path: Path, settings: Settings, embedder: OnnxMiniLM) -> None:
    data = Path(__file__).parent / "data" / "wikinews40.jsonl"
    lines = data.read_text().splitlines()[:4]
    p = tmp_path / "four.jsonl"
    p.write_text("\n".join(lines) + "\n")
    ingest([p], settings, embedder=embedder, today=TODAY)
    ix_arg = ["--index", str(settings.index_dir)]
    st = json.loads(runner.invoke(app, ["stats", "--json", *ix_arg]).output)
    recs = [json.loads(x) for x in lines]
    assert st["articles"] == 4 and st["chunks"] >= 4 and st["sources"] == {"Wikinews": 4}
    assert sum(st["articles_per_day"].values()) == 4
    assert st["date_range"] == {"first": min(r["date"] for r in recs), "last": max(r["date"] for r in recs)}
    gone = recs[0]["id"]
    out = runner.invoke(app, ["remove", gone, *ix_arg])
    assert out.exit_code == 0, out.output
    st2 = json.loads(runner.invoke(app, ["stats", "--json", *ix_arg]).output)
    assert st2["articles"] == 3
    with Index.open(settings) as ix:
        assert ix.collection.get(where={"article_id": gone})["ids"] == []
        assert len(ix.collection.get()["ids"]) == st2["chunks"]
    missing = runner.invoke(app, ["remove", "no-such-id", *ix_arg])
    assert missing.exit_code == 1 and "no-such-id" in missing.output
    # a removed article comes back when ingested again
    back = ingest([p], settings, embedder=embedder, today=TODAY)
    assert back.added == 1 and back.unchanged == 3


def test_real_corpus_duplicate_is_caught_and_templated_interviews_are_kept(settings: Settings,
                                                                           embedder: OnnxMiniLM) -> None:
    """From Wikinews: 36520 repeats 36511's text under another headline; 99951 and 101088 are two
    interviews built on the same questionnaire (MinHash ~0.85) with different answers: both are kept."""
    r = ingest([Path(__file__).parent / "data" / "wikinews_near.jsonl"], settings, embedder=embedder, today=TODAY)
    assert r.added == 3 and r.duplicates == 1
    assert r.duplicate_of == {"wikinews-36520": "wikinews-36511"}
    with Index.open(settings) as ix:
        assert {a.id for a in ix.articles()} == {"wikinews-36511", "wikinews-99951", "wikinews-101088"}


def test_list_shows_ids_titles_dates_sources_and_errors_point_to_it(tmp_path: Path, settings: Settings,
                                                                     embedder: OnnxMiniLM) -> None:
    data = Path(__file__).parent / "data" / "wikinews40.jsonl"
    recs = [json.loads(x) for x in data.read_text().splitlines()[:6]]
    recs[5] = {**recs[5], "source": "Other Wire"}
    recs.append({"id": "undated-one", "title": "A story without a date", "source": "Other Wire",
                 "text": "A short report about the harbour ferry and its new timetable for the winter."})
    p = tmp_path / "seven.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in recs))
    ingest([p], settings, embedder=embedder, today=TODAY)
    ix_arg = ["--index", str(settings.index_dir)]
    r = runner.invoke(app, ["list", "--json", *ix_arg])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["total"] == 7 and len(out["articles"]) == 7
    assert set(out["articles"][0]) == {"id", "title", "date", "source"}
    by_id = {a["id"]: a for a in out["articles"]}
    for rec in recs:
        assert by_id[rec["id"]] == {"id": rec["id"], "title": rec["title"], "date": rec.get("date"),
                                    "source": rec["source"]}
    dates = [a["date"] for a in out["articles"]]
    assert dates[:-1] == sorted(dates[:-1], reverse=True) and dates[-1] is None  # newest first, undated last
    since = json.loads(runner.invoke(app, ["list", "--json", "--since", "2004-11-16", "--until", "2004-11-16",
                                           *ix_arg]).stdout)
    assert {a["id"] for a in since["articles"]} == {r["id"] for r in recs if r.get("date") == "2004-11-16"}
    wire = json.loads(runner.invoke(app, ["list", "--json", "--source", "other wire", *ix_arg]).stdout)
    assert {a["id"] for a in wire["articles"]} == {recs[5]["id"], "undated-one"}
    text = runner.invoke(app, ["list", "--limit", "2", *ix_arg])
    assert text.exit_code == 0 and len(text.stdout.strip().splitlines()) == 3
    assert recs[0]["title"] not in text.stdout and "5 more" in text.stdout  # oldest is past the limit
    assert by_id[recs[4]["id"]]["title"] in text.stdout or by_id[recs[5]["id"]]["title"] in text.stdout
    bad = runner.invoke(app, ["list", "--since", "16/11/2004", *ix_arg])
    assert bad.exit_code == 1 and bad.stderr.startswith("error: ") and "YYYY-MM-DD" in bad.stderr
    for args in (["show", "no-such-id"], ["remove", "no-such-id"]):
        miss = runner.invoke(app, [*args, *ix_arg])
        assert miss.exit_code == 1 and "`rag list`" in miss.stderr and "rag stats --json" not in miss.stderr


def _wire_story() -> tuple[str, str]:
    """A real 132-word Wikinews report as a .txt file (headline first), and a syndicated copy of it with
    "(wire copy)" after the headline and a credit line at the end."""
    rec = next(json.loads(x) for x in (Path(__file__).parent / "data" / "wikinews40.jsonl").read_text().splitlines()
               if json.loads(x)["id"] == "wikinews-743")
    original = f"{rec['title']}\n{rec['text']}"
    wire = f"{rec['title']} (wire copy)\n{rec['text']}\n\nReporting by Jane Doe; editing by Mark Poe."
    return original, wire


def test_wire_copies_with_credits_or_dropped_paragraphs_are_duplicates(tmp_path: Path, settings: Settings,
                                                                       embedder: OnnxMiniLM) -> None:
    from rag.ingest import dedup

    original, wire = _wire_story()
    assert dedup.jaccard(original, wire) < dedup.THRESHOLD  # what Jaccard alone missed
    # a longer story (the seed, 484 words) whose copy drops the last third and adds a dateline
    seed = SEED.read_text()
    sentences = seed.split(". ")
    cut = "GENEVA (Example Wire) - " + ". ".join(sentences[: int(len(sentences) * 0.65)]) + "."
    assert dedup.jaccard(seed, cut) < 0.7
    src = tmp_path / "src"
    src.mkdir()
    (src / "a-original.txt").write_text(original)
    (src / "b-wire.txt").write_text(wire)
    (src / "c-seed.txt").write_text(seed)
    (src / "d-cut.txt").write_text(cut)
    r = ingest([src], settings, embedder=embedder, today=TODAY)
    assert (r.added, r.duplicates) == (2, 2), r.duplicate_of
    assert r.duplicate_of == {"b-wire": "a-original", "d-cut": "c-seed"}


@needs_corpus()
def test_copy_rule_on_the_whole_wikinews_corpus_finds_only_the_real_copies() -> None:
    """Every pair of the 4,959 articles sharing a fifth of the shorter text's shingles, judged by the rule:
    only the two real copies (one repeated text, one lightly edited) are copies; the templated candidate
    interviews (containment up to 0.955) are not."""
    import itertools
    from collections import Counter, defaultdict

    from rag.ingest import dedup

    from .conftest import WIKINEWS

    recs = [json.loads(x) for x in WIKINEWS.read_text(encoding="utf-8").splitlines() if x.strip()]
    sets = [dedup.shingles(r["text"]) for r in recs]
    by_shingle: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(sets):
        for sh in s:
            by_shingle[sh].append(i)
    shared: Counter[tuple[int, int]] = Counter()
    for docs in by_shingle.values():
        if 2 <= len(docs) <= 60:  # a shingle in more than 60 articles is boilerplate: no pair is built on it
            shared.update(itertools.combinations(docs, 2))
    pairs = [(a, b) for (a, b), n in shared.items() if n >= 0.2 * min(len(sets[a]), len(sets[b]))]
    assert len(pairs) > 1000
    copies = {(recs[a]["id"], recs[b]["id"]) for a, b in pairs if dedup.is_copy(recs[a]["text"], recs[b]["text"])}
    assert copies == {("wikinews-36511", "wikinews-36520"), ("wikinews-27044", "wikinews-27045")}

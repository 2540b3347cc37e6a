"""Topic briefs on two real multi-day Wikinews stories (Syria's withdrawal from Lebanon, China's
anti-secession law and Taiwan, Feb-Apr 2005): recall of the whole story, date order, verified citations,
a planted disagreement, coverage and the per-article cache."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.cite import content_words, parse_markers, strip_markers
from rag.cli import app
from rag.config import Settings
from rag.render.brief import render_brief
from rag.store import Index
from rag.summarise.brief import brief
from rag.summarise.conflicts import find_conflicts
from rag.types import Article, Brief

from .conftest import FakeChat
from .newsdata import CHROMIUM, chromium, copy_first, supported_by

runner = CliRunner()
SYRIA = "Syria's withdrawal from Lebanon"
# The articles of the Syrian withdrawal story in tests/data (read by hand): all must be considered.
SYRIA_STORY = {"wikinews-5215", "wikinews-5406", "wikinews-5495", "wikinews-5751", "wikinews-5793", "wikinews-6021",
               "wikinews-6517", "wikinews-8080", "wikinews-8255", "planted-conflict"}
TAIWAN = "China's anti-secession law and Taiwan"
TAIWAN_STORY = {"wikinews-4910", "wikinews-5404", "wikinews-5804", "wikinews-5805", "syndicated-5805", "wikinews-5861",
                "wikinews-6441", "wikinews-6486", "wikinews-6487", "wikinews-6633", "wikinews-6884"}
UNRELATED = {"wikinews-5833", "wikinews-5834", "wikinews-5796", "wikinews-5799", "wikinews-5685"}


def _check(b: Brief, settings: Settings) -> None:
    with Index.open(settings) as ix:
        for item in b.overview + b.timeline + b.conflicts:
            assert item.citations, item
            by_n = {c.n: c for c in item.citations}
            for c in item.citations:
                assert ix.article(c.article_id).text[c.start : c.end] == c.text
                assert c.article_id in b.articles
            assert set(parse_markers(item.text)) == set(by_n)
            for claim, marks in re.findall(r"(.*?)((?:\s*\[\d+\])+)", item.text):
                if content_words(strip_markers(claim)) and item not in b.conflicts:
                    assert supported_by(claim, [by_n[m] for m in parse_markers(marks)]), (claim, marks)


@pytest.mark.parametrize(("topic", "story", "other"), [(SYRIA, SYRIA_STORY, TAIWAN_STORY),
                                                        (TAIWAN, TAIWAN_STORY, SYRIA_STORY)])
def test_brief_considers_the_whole_story_in_date_order_with_verified_citations(
    ssettings: Settings, topic: str, story: set[str], other: set[str]
) -> None:
    chat = FakeChat(copy_first)
    b = brief(topic, ssettings, llm=chat)
    assert story <= set(b.articles)  # recall: every article of the story, not the top 5 chunks
    assert not (set(b.articles) & (other | UNRELATED))  # the relevance cut keeps other stories out
    dates = [i.date for i in b.timeline]
    assert dates == sorted(dates) and len(b.timeline) == len(b.articles)
    assert {c.article_id for i in b.timeline for c in i.citations} <= set(b.articles)
    assert b.overview and len(chat.prompts) == len(b.articles) + 1  # one per article, one overview
    assert b.coverage["used"] == len(b.articles) and b.coverage["left_out"] == []
    assert b.coverage["from"] == dates[0] and b.coverage["to"] == dates[-1]
    _check(b, ssettings)


def test_planted_disagreement_is_reported_citing_both_sides(ssettings: Settings) -> None:
    b = brief(SYRIA, ssettings, llm=FakeChat(copy_first))
    sides = [{c.article_id for c in x.citations} for x in b.conflicts]
    assert {"wikinews-5495", "planted-conflict"} in sides
    x = b.conflicts[sides.index({"wikinews-5495", "planted-conflict"})]
    assert "14,000" in x.text and "20,000" in x.text and "soldiers" in x.text
    assert {"14,000" in c.text or "20,000" in c.text for c in x.citations} == {True}
    _check(b, ssettings)


def test_reports_far_apart_are_updates_not_conflicts() -> None:
    a = Article("a", "A", "Syria has a total of 14,000 soldiers in the country.", date="2005-02-28")
    b = Article("b", "B", "Syria has a total of 15,000 soldiers in the country.", date="2005-03-13")
    c = Article("c", "C", "Syria has a total of 15,000 soldiers in the country.", date="2005-02-27")
    assert find_conflicts([a, b]) == []
    (x,) = find_conflicts([a, c])
    assert (x.slot, x.a_value, x.b_value) == ("soldiers", "14,000", "15,000")


def test_token_budget_leaves_out_the_least_relevant_and_says_so(ssettings: Settings) -> None:
    small = ssettings.model_copy(update={"brief_max_articles": 3})
    b = brief(SYRIA, small, llm=FakeChat(copy_first))
    assert b.coverage["used"] == 3 and len(b.timeline) == 3
    left = [x["id"] for x in b.coverage["left_out"]]  # type: ignore[union-attr]
    assert len(left) == len(b.articles) - 3 and set(left) | {c.article_id for i in b.timeline for c in i.citations} \
        == set(b.articles)
    assert "left out for the token budget" in render_brief(b, "text")


def test_overview_prompt_stays_within_budget_and_says_what_it_read(ssettings: Settings) -> None:
    tight = ssettings.model_copy(update={"brief_context_tokens": 150})
    chat = FakeChat(copy_first)
    b = brief(SYRIA, tight, llm=chat)
    overview_prompt = chat.prompts[-1][1]
    shown = re.findall(r"^\[\d+\] \((\d{4}-\d\d-\d\d)\)", overview_prompt, flags=re.M)
    assert 2 <= len(shown) < len(b.timeline) and len(overview_prompt) / 4 < 150 + 60
    assert shown[0] == b.timeline[0].date and shown[-1] == b.timeline[-1].date  # the whole arc, spread out
    assert b.coverage["overview_developments"] == len(shown)
    assert f"the overview reads {len(shown)} of the {len(b.timeline)} developments" in render_brief(b, "md")


def test_rerun_is_cached_and_a_new_article_redoes_only_itself_and_the_overview(
    ssettings: Settings, tmp_path: Path, embedder: object
) -> None:
    from rag.ingest import ingest

    first = brief(TAIWAN, ssettings, llm=FakeChat(copy_first))
    again = FakeChat(copy_first)
    assert brief(TAIWAN, ssettings, llm=again).to_dict() == first.to_dict() and again.prompts == []
    new = {"id": "new-taiwan", "title": "Taiwan's parliament debates response to anti-secession law",
           "date": "2005-03-29", "source": "Test",
           "text": "Taiwan's legislature debated on Tuesday how to answer China's anti-secession law, "
                   "two weeks after the law was passed in Beijing. Lawmakers of the pan-green alliance "
                   "called for an anti-invasion law in response to the anti-secession law."}
    (tmp_path / "n.jsonl").write_text(json.dumps(new) + "\n")
    ingest([tmp_path / "n.jsonl"], ssettings, embedder=embedder)  # type: ignore[arg-type]
    third = FakeChat(copy_first)
    b = brief(TAIWAN, ssettings, llm=third)
    assert "new-taiwan" in b.articles
    assert len(third.prompts) == 2  # the new article's entry, then the overview
    assert "anti-secession" in third.prompts[0][1]


def test_cli_brief_json_and_unrelated_topic(ssettings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    module = importlib.import_module("rag.summarise.brief")  # the package exports a function of that name
    real = module.brief
    monkeypatch.setattr(module, "brief", lambda *a, **k: real(*a, **{**k, "llm": FakeChat(copy_first)}))
    r = runner.invoke(app, ["brief", TAIWAN, "--since", "2005-03-10", "--until", "2005-03-20", "--json",
                            "--index", str(ssettings.index_dir)])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert {"topic", "articles", "overview", "timeline", "conflicts"} <= set(out)
    assert all("2005-03-10" <= t["date"] <= "2005-03-20" for t in out["timeline"])
    assert {"wikinews-5804", "wikinews-5805", "wikinews-5861"} <= set(out["articles"])
    assert all(set(t) == {"date", "text", "citations"} for t in out["timeline"])
    assert all(set(o) == {"text", "citations"} for o in out["overview"] + out["conflicts"])
    none = runner.invoke(app, ["brief", "quantum chromodynamics lattice gauge theory", "--index",
                               str(ssettings.index_dir)])
    assert none.exit_code == 0 and "No indexed article is relevant" in none.output


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install -y chromium)")
def test_brief_html_renders_in_headlesschromium(ssettings: Settings, tmp_path: Path) -> None:
    b = brief(SYRIA, ssettings, llm=FakeChat(copy_first))
    page = tmp_path / "brief.html"
    page.write_text(render_brief(b, "html"))
    dom = chromium(["--dump-dom", page.as_uri()], tmp_path)
    for heading in ("Overview", "Timeline", "Where sources disagree", "Coverage:"):
        assert heading in dom
    assert dom.count("<mark>") >= len(b.timeline)
    shot = tmp_path / "brief.png"
    chromium([f"--screenshot={shot}", "--window-size=1000,1400", page.as_uri() + "#c-x0-1"], tmp_path)
    Path("/tmp/brief-test-screenshot.png").write_bytes(shot.read_bytes())


@pytest.mark.slow
def test_real_model_brief_verifies(ssettings: Settings, local_llm: object) -> None:
    small = ssettings.model_copy(update={"brief_max_articles": 3})
    b = brief(TAIWAN, small, llm=local_llm)  # type: ignore[arg-type]
    assert len(b.timeline) == 3 and b.overview
    _check(b, ssettings)


def test_undated_timeline_items_keep_a_null_date_sort_last_and_read_undated(settings: Settings,
                                                                           embedder: object, tmp_path: Path) -> None:
    from rag.ingest import ingest

    recs = [
        {"id": "hive-undated", "title": "Beekeepers count winter losses in the valley", "source": "Test",
         "text": "Beekeepers in the valley counted their winter losses and found a third of the hives empty. "
                 "The beekeepers blamed the varroa mite for the losses."},
        {"id": "hive-1", "title": "Valley beekeepers report hive losses", "date": "2024-03-02", "source": "Test",
         "text": "Beekeepers in the valley reported heavy winter losses of their hives. "
                 "The beekeepers said the varroa mite spread quickly."},
        {"id": "hive-2", "title": "Valley beekeepers ask for help after hive losses", "date": "2024-03-09",
         "source": "Test",
         "text": "Beekeepers in the valley asked the council for help after the winter losses of their hives. "
                 "The council promised money to fight the varroa mite."},
    ]
    (tmp_path / "bees.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    assert ingest([tmp_path / "bees.jsonl"], settings, embedder=embedder).added == 3  # type: ignore[arg-type]

    def reply(system: str, user: str) -> str:  # copy_first, reading "(undated)" like a date
        m = re.search(r"^\[(\d+)\] (?:\((?:[\d-]+|undated)\) )?(.+)$", user, flags=re.M)
        assert m, user
        return f"{strip_markers(m.group(2))} [{m.group(1)}]"

    chat = FakeChat(reply)
    b = brief("valley beekeepers winter hive losses", settings, llm=chat)
    assert [i.date for i in b.timeline] == ["2024-03-02", "2024-03-09", None]  # undated last
    out = json.loads(render_brief(b, "json"))
    assert [t["date"] for t in out["timeline"]] == ["2024-03-02", "2024-03-09", None]
    assert all(set(t) == {"date", "text", "citations"} for t in out["timeline"])
    overview_prompt = chat.prompts[-1][1]
    assert "(None)" not in overview_prompt and re.search(r"^\[3\] \(undated\) ", overview_prompt, flags=re.M)

"""Each input format through the real pipeline (real embedder, real Chroma in a temp dir)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from rag.config import Settings
from rag.ingest import ingest
from rag.ingest.readers import Rejection, read_path
from rag.models.embed import OnnxMiniLM
from rag.store import Index
from rag.types import Article

from .conftest import SEEDS

TODAY = date(2026, 11, 27)
BODY = ("The city council approved a new budget on Tuesday after a long debate. "
        "The plan raises spending on public transport and schools. Critics said taxes would rise.")


def articles(path: Path) -> list[Article]:
    return [x for x in read_path(path) if isinstance(x, Article)]


def test_txt_first_line_is_headline_and_seed_date_is_inferred(settings: Settings, embedder: OnnxMiniLM) -> None:
    seed = SEEDS / "000_aeafaadd1786d078.txt"
    [a] = articles(seed)
    assert a.title.startswith("Trump Signals Russia-Ukraine Peace Talks Progress")
    assert "Trump Hints at Russia-Ukraine Peace Talks Breakthrough" in a.text  # alternate headlines kept as text
    r = ingest([seed], settings, embedder=embedder, today=TODAY)
    assert r.added == 1 and not r.rejected
    with Index.open(settings) as ix:
        stored = ix.article(seed.stem)
    assert stored.date == "2025-11-24" and stored.date_source == "text"


def test_markdown_front_matter(tmp_path: Path) -> None:
    p = tmp_path / "budget.md"
    p.write_text("---\ntitle: Council passes budget\ndate: 2025-03-04\nurl: https://news.example/budget\n"
                 "source: Example News\nauthor: A. Writer\n---\n# Ignored heading\n\n" + BODY)
    [a] = articles(p)
    assert (a.title, a.date, a.date_source, a.url, a.source, a.author) == (
        "Council passes budget", "2025-03-04", "metadata", "https://news.example/budget", "Example News", "A. Writer")
    assert a.text.startswith("# Ignored heading") and "---" not in a.text
    p2 = tmp_path / "plain.md"
    p2.write_text("# Heading only\n\n" + BODY)
    [b] = articles(p2)
    assert b.title == "Heading only" and b.date is None


def test_html_main_text_and_metadata(tmp_path: Path) -> None:
    p = tmp_path / "storm.html"
    p.write_text(
        "<html><head><title>Storm hits coast | Daily Planet</title>"
        '<meta property="og:title" content="Storm hits coast"><meta property="og:site_name" content="Daily Planet">'
        '<meta property="og:url" content="https://planet.example/storm"><meta name="author" content="Lois Lane">'
        '<meta property="article:published_time" content="2025-11-20T08:00:00Z"><script>alert("x")</script></head>'
        "<body><nav>Home | World | Sport | Weather</nav><article><h1>Storm hits coast</h1>"
        + "".join(f"<p>{s} The storm cut power to thousands of homes along the delta.</p>" for s in BODY.split(". "))
        + "</article><footer>Copyright 2025 Daily Planet</footer></body></html>"
    )
    [a] = articles(p)
    assert a.title == "Storm hits coast" and a.date == "2025-11-20" and a.source == "Daily Planet"
    assert a.url == "https://planet.example/storm" and a.author == "Lois Lane"
    assert "council approved a new budget" in a.text
    assert "alert" not in a.text and "Home | World" not in a.text


def test_jsonl_record_ids_and_bad_lines_keep_good_ones(tmp_path: Path, settings: Settings,
                                                       embedder: OnnxMiniLM) -> None:
    src = Path(__file__).parent / "data" / "wikinews40.jsonl"
    lines = src.read_text().splitlines()[:3]
    p = tmp_path / "mixed.jsonl"
    p.write_text("\n".join([lines[0], "{not json", lines[1], '{"id": "x", "text": ""}', "[1, 2]", lines[2]]) + "\n")
    r = ingest([p], settings, embedder=embedder, today=TODAY)
    assert r.added == 3 and r.articles == 3
    reasons = {x["path"]: x["reason"] for x in r.rejected}
    assert set(reasons) == {f"{p}:2", f"{p}:4", f"{p}:5"}
    assert "line 2: invalid JSON" in reasons[f"{p}:2"] and "text" in reasons[f"{p}:4"]
    with Index.open(settings) as ix:
        rec = json.loads(lines[1])
        a = ix.article(rec["id"])  # the record's own id is the article id
        assert (a.title, a.date, a.url, a.date_source) == (rec["title"], rec["date"], rec["url"], "metadata")


def test_json_file_with_a_list_of_records(tmp_path: Path) -> None:
    p = tmp_path / "two.json"
    p.write_text(json.dumps([{"id": "a1", "title": "One", "date": "2024-01-02", "text": BODY},
                             {"id": "a2", "text": "Second story. " + BODY}]))
    got = list(read_path(p))
    assert [x.id for x in got if isinstance(x, Article)] == ["a1", "a2"]
    assert got[1].title.startswith("Second story. The city council")  # no title: the first line is the headline


def test_rss_and_atom_entries(tmp_path: Path, settings: Settings, embedder: OnnxMiniLM) -> None:
    rss = tmp_path / "feed.xml"
    rss.write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Wire Service</title>'
        "<item><title>Budget passes</title><link>https://wire.example/1</link><guid>wire-1</guid>"
        "<pubDate>Tue, 04 Mar 2025 10:00:00 GMT</pubDate>"
        f"<description>&lt;p&gt;{BODY}&lt;/p&gt;&lt;script&gt;evil()&lt;/script&gt;</description></item>"
        "<item><title>No body</title><guid>wire-2</guid></item>"
        "</channel></rss>"
    )
    atom = tmp_path / "feed.atom"
    atom.write_text(
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Atom Daily</title>'
        "<entry><title>Bridge reopens</title><id>urn:uuid:1</id><updated>2025-05-06T00:00:00Z</updated>"
        '<link href="https://atom.example/bridge"/><content type="html">&lt;p&gt;The old bridge reopened to '
        "traffic on Monday after two years of repairs. Drivers welcomed the shorter commute.&lt;/p&gt;</content>"
        "</entry></feed>"
    )
    items = list(read_path(rss))
    a = next(x for x in items if isinstance(x, Article))
    assert (a.title, a.date, a.url, a.source) == ("Budget passes", "2025-03-04", "https://wire.example/1", "Wire Service")
    assert "evil" not in a.text and a.text.startswith("The city council")
    assert any(isinstance(x, Rejection) and "entry 2" in x.reason for x in items)
    r = ingest([rss, atom], settings, embedder=embedder, today=TODAY)
    assert r.added == 2 and len(r.rejected) == 1
    again = ingest([rss, atom], settings, embedder=embedder, today=TODAY)
    assert again.unchanged == 2 and again.added == 0  # guid-based ids are stable


def test_same_stem_in_two_folders_are_two_articles_with_stable_ids(tmp_path: Path, settings: Settings,
                                                                   embedder: OnnxMiniLM) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "story.txt").write_text("Council budget\n" + BODY)
    (tmp_path / "b" / "story.txt").write_text("Harbour festival\nThe harbour festival drew record crowds on Sunday. "
                                               "Fireworks closed the night over the old docks.")
    r = ingest([tmp_path], settings, embedder=embedder, today=TODAY)
    assert r.added == 2 and r.articles == 2
    with Index.open(settings) as ix:
        ids = sorted(a.id for a in ix.articles())
    assert ids[0] == "story" and ids[1].startswith("story-")
    again = ingest([tmp_path / "b", tmp_path / "a"], settings, embedder=embedder, today=TODAY)  # other order
    assert again.unchanged == 2 and again.added == 0
    with Index.open(settings) as ix:
        assert sorted(a.id for a in ix.articles()) == ids


def test_date_and_source_flags_override_a_run(tmp_path: Path, settings: Settings, embedder: OnnxMiniLM) -> None:
    p = tmp_path / "note.txt"
    p.write_text("Council budget\n" + BODY)
    ingest([p], settings, embedder=embedder, date="2025-01-31", source="Local Paper", today=TODAY)
    with Index.open(settings) as ix:
        a = ix.article("note")
        st = ix.stats()
    assert (a.date, a.date_source, a.source) == ("2025-01-31", "flag", "Local Paper")
    assert st["articles_per_day"] == {"2025-01-31": 1} and st["sources"] == {"Local Paper": 1}
    assert st["date_range"] == {"first": "2025-01-31", "last": "2025-01-31"}


def test_unknown_date_stays_null_and_is_reported(tmp_path: Path, settings: Settings) -> None:
    from typer.testing import CliRunner

    from rag.cli import app

    p = tmp_path / "undated.txt"
    p.write_text("Museum reopens\nThe museum reopened after a year of work. Visitors queued around the block.")
    out = CliRunner().invoke(app, ["ingest", str(p), "--json", "--index", str(settings.index_dir)])
    assert out.exit_code == 0
    assert json.loads(out.stdout)["added"] == 1
    assert "1 article(s) have no date" in out.stderr and "undated" in out.stderr
    with Index.open(settings) as ix:
        a = ix.article("undated")
        assert (a.date, a.date_source) == (None, "none") and ix.stats()["undated"] == 1


def test_jsonl_line_separators_inside_strings_do_not_split_records(tmp_path: Path) -> None:
    """U+2028, U+2029 and U+0085 are legal inside JSON strings; only "\\n" ends a JSON Lines record, so
    the record is kept whole and a bad line later in the file keeps its real line number."""
    p = tmp_path / "seps.jsonl"
    odd = {"id": "odd", "title": "Line\u2028separators", "text": "First part.\u2028Second\u2029part.\u0085Third."}
    p.write_text("\n".join([json.dumps(odd, ensure_ascii=False), "{not json",
                            json.dumps({"id": "ok", "text": BODY})]) + "\n", encoding="utf-8")
    got = list(read_path(p))
    arts = [x for x in got if isinstance(x, Article)]
    assert [a.id for a in arts] == ["odd", "ok"]
    assert arts[0].text == odd["text"]
    assert [x.path for x in got if isinstance(x, Rejection)] == [f"{p}:2"]


def test_feed_dates_are_the_publishers_local_day(tmp_path: Path) -> None:
    """An evening story in New York is dated that day, not the next UTC day (feedparser's *_parsed is UTC)."""
    rss = tmp_path / "evening.rss"
    rss.write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>NY Wire</title>'
        "<item><title>Late vote</title><guid>ny-1</guid><pubDate>Tue, 04 Mar 2025 20:30:00 -0500</pubDate>"
        f"<description>{BODY}</description></item>"
        "<item><title>Morning in Tokyo</title><guid>tk-1</guid><pubDate>Wed, 05 Mar 2025 07:15:00 +0900</pubDate>"
        f"<description>Tokyo. {BODY}</description></item></channel></rss>")
    atom = tmp_path / "evening.atom"
    atom.write_text(
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>West</title>'
        "<entry><title>Night session</title><id>urn:uuid:2</id><published>2025-05-06T21:00:00-07:00</published>"
        f"<updated>2025-05-07T09:00:00Z</updated><content>{BODY}</content></entry></feed>")
    dates = {a.title: a.date for a in articles(rss) + articles(atom)}
    assert dates == {"Late vote": "2025-03-04", "Morning in Tokyo": "2025-03-05", "Night session": "2025-05-06"}


def test_a_folder_reached_by_another_path_keeps_its_ids_and_edits_land(tmp_path: Path, settings: Settings,
                                                                      embedder: OnnxMiniLM, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """`rag ingest news` then `rag ingest ../news`, a symlink, or the folder moved: the same files are the
    same articles (not duplicates of themselves), and the next edit is indexed as an update."""
    from rag.answering.retrieve import Retriever

    news = tmp_path / "news"
    news.mkdir()
    (tmp_path / "work").mkdir()
    (news / "ferry.txt").write_text("Ferry cancelled\nThe ferry to Lundy Island was cancelled because of a broken "
                                    "propeller shaft. Passengers were offered refunds at the quay on Monday.")
    (news / "budget.txt").write_text("Council budget\n" + BODY)
    monkeypatch.chdir(tmp_path)
    first = ingest([Path("news")], settings, embedder=embedder, today=TODAY)
    assert first.added == 2
    monkeypatch.chdir(tmp_path / "work")
    again = ingest([Path("../news")], settings, embedder=embedder, today=TODAY)
    assert (again.unchanged, again.added, again.duplicates) == (2, 0, 0)
    (tmp_path / "link").symlink_to(news, target_is_directory=True)
    via_link = ingest([tmp_path / "link"], settings, embedder=embedder, today=TODAY)
    assert (via_link.unchanged, via_link.added, via_link.duplicates) == (2, 0, 0)
    # an edit reached through the other spelling is an update of the same article
    (news / "ferry.txt").write_text((news / "ferry.txt").read_text().replace("on Monday", "on Tuesday morning"))
    edited = ingest([Path("../news")], settings, embedder=embedder, today=TODAY)
    assert (edited.updated, edited.added, edited.duplicates) == (1, 0, 0)
    # the folder moved: same names, same (or nearly the same) text -> the same articles
    moved = tmp_path / "archive" / "news-2025"
    moved.parent.mkdir()
    news.rename(moved)
    after_move = ingest([moved], settings, embedder=embedder, today=TODAY)
    assert (after_move.unchanged, after_move.added, after_move.duplicates) == (2, 0, 0)
    (moved / "ferry.txt").write_text((moved / "ferry.txt").read_text().replace("Tuesday morning", "Wednesday"))
    edited2 = ingest([moved], settings, embedder=embedder, today=TODAY)
    assert (edited2.updated, edited2.added, edited2.duplicates) == (1, 0, 0)
    with Index.open(settings) as ix:
        assert sorted(a.id for a in ix.articles()) == ["budget", "ferry"]
        assert ix.stats()["duplicates"] == 0
        assert ix.path_of("ferry") == str(moved / "ferry.txt")
        hits = Retriever(ix, embedder, settings).search("When was the Lundy ferry cancelled?", k=3)
        assert any("Wednesday" in h.text for h in hits) and not any("Tuesday morning" in h.text for h in hits)
    # a different article under a name already used, its first file gone: a new article, not an update
    (moved / "ferry.txt").unlink()
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "ferry.txt").write_text("Ferry fares rise\nThe mainland ferry company raised its fares by a tenth, "
                                     "blaming the price of fuel and the new harbour dues.")
    new = ingest([other], settings, embedder=embedder, today=TODAY)
    assert new.added == 1 and new.updated == 0
    with Index.open(settings) as ix:
        assert len([a for a in ix.articles() if a.id.startswith("ferry")]) == 2

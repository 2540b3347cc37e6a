"""`rag check`: any text against the index, a verdict and its evidence per statement, exit 1 if any fails;
and questions dated by their event, and derived answers, through `ask`."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.answering.answer import ask
from rag.check import check_text
from rag.cli import app
from rag.config import Settings
from rag.ingest import ingest

from .conftest import FakeChat
from .newsdata import numbers_by_title

runner = CliRunner()
SEED_ID = "000_aeafaadd1786d078"


@pytest.fixture
def no_judge(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_VERIFY_JUDGE", "off")  # the explicit checks only: no model in these tests


def _check(seed_settings: Settings, *args: str) -> tuple[int, str]:
    r = runner.invoke(app, ["check", *args, "--index", str(seed_settings.index_dir)])
    return r.exit_code, r.output


def test_check_json_marks_each_sentence_with_its_evidence(seed_settings: Settings, no_judge: None) -> None:
    text = ("American and Ukrainian representatives met in Geneva [4]. Vladimir Putin chaired the Geneva talks. "
            "The peace plan had 28 points.")
    code, out = _check(seed_settings, text, "--json")
    assert code == 1, out  # one statement is not supported
    d = json.loads(out)
    assert [s["text"] for s in d["sentences"]] == ["American and Ukrainian representatives met in Geneva.",
                                                   "Vladimir Putin chaired the Geneva talks.",
                                                   "The peace plan had 28 points."]
    first, putin, plan = d["sentences"]
    assert first["supported"] and first["verdict"] == "supported" and first["citations"]
    c = first["citations"][0]
    from rag.store import Index

    with Index.open(seed_settings) as ix:
        assert ix.article(c["article_id"]).text[c["start"]:c["end"]] == c["text"] and "Geneva" in c["text"]
    assert not putin["supported"] and putin["reason"].startswith("names:") and "Putin" in putin["reason"]
    assert plan["supported"] and "28" in plan["citations"][0]["text"]
    assert (d["supported"], d["unsupported"]) == (2, 1)


def test_check_exit_zero_when_all_supported_and_terminal_output(seed_settings: Settings, no_judge: None,
                                                                 tmp_path: Path) -> None:
    f = tmp_path / "draft.txt"
    f.write_text("American and Ukrainian representatives met in Geneva.\nThe peace plan had 28 points.\n", encoding="utf-8")
    code, out = _check(seed_settings, "--file", str(f), "--lines")
    assert code == 0, out
    assert out.count("✓ supported") == 2 and "2 of 2 statements supported" in out and "«" in out
    code, out = _check(seed_settings, "The peace plan had 27 points.", "--article", SEED_ID)
    assert code == 1 and "contradicted" in out and "27" in out


@pytest.mark.parametrize(("args", "words"), [
    ([], "give the text to check"),
    (["text", "--file", "x.txt"], "not both"),
    (["--file", "/nonexistent/draft.txt"], "cannot read"),
    (["   "], "nothing to check"),
    (["Talks were held.", "--article", "no-such-id"], "rag list"),
    (["Talks were held.", "--since", "2025/01/01"], "YYYY-MM-DD"),
])
def test_check_bad_input_is_one_clear_line(seed_settings: Settings, no_judge: None, args: list[str],
                                           words: str) -> None:
    code, out = _check(seed_settings, *args)
    assert code == 1 and words in out and "Traceback" not in out and len(out.strip().splitlines()) == 1, out


def test_check_with_no_related_article_says_no_evidence(seed_settings: Settings, no_judge: None) -> None:
    r = check_text("Sourdough bread needs a long fermentation at room temperature.", seed_settings)
    assert [s.verdict.verdict for s in r.statements] == ["no_evidence"]


def _answering(asked: list[str], answer: Callable[[str, dict[str, str]], str]) -> FakeChat:
    """A model for answer prompts: it records each question asked (the prompt's text after "Question:") and
    replies with answer(question, the passage number of each article title), so its reply depends on its input."""
    def reply(system: str, user: str) -> str:
        question = user.rsplit("Question:", 1)[1].strip()
        asked.append(question)
        return answer(question, numbers_by_title(user))
    return FakeChat(reply)


def _ingest_rows(rows: list[dict[str, str]], settings: Settings, embedder: object, tmp_path: Path) -> None:
    """An index of these articles (JSON lines)."""
    f = tmp_path / "news.jsonl"
    f.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    ingest([f], settings, embedder=embedder)  # type: ignore[arg-type]


def test_a_question_about_an_event_finds_the_report_published_days_later(settings: Settings, embedder: object,
                                                                         tmp_path: Path) -> None:
    """The report of 5 May 2007 says "on Thursday": the question "on 3 May 2007" is about its event."""
    rows = [
        {"id": "late", "title": "Acme cuts jobs", "date": "2007-05-05",
         "text": "Acme Corporation said on Thursday that it will cut 1,200 jobs at its plant in Ohio."},
        {"id": "other", "title": "Weather report", "date": "2007-05-03",
         "text": "Heavy rain fell across the region on Thursday, closing several roads."},
    ]
    _ingest_rows(rows, settings, embedder, tmp_path)
    a = ask("Which company announced job cuts on 3 May 2007?", settings, embedder=embedder,  # type: ignore[arg-type]
            llm=FakeChat(lambda s, u: "Acme Corporation announced it will cut 1,200 jobs on 3 May 2007 [1]."))
    assert not a.refused, a.refusal
    assert a.citations[0].article_id == "late" and "Thursday" in a.citations[0].text


def test_a_derived_answer_is_computed_by_code_from_its_cited_inputs(settings: Settings, embedder: object,
                                                                    tmp_path: Path) -> None:
    rows = [
        {"id": "a", "title": "Ford to cut jobs", "date": "2006-01-23",
         "text": "Ford Motor Company said it will cut up to 30,000 jobs by 2012 as part of its restructuring."},
        {"id": "b", "title": "GM to cut jobs", "date": "2006-01-24",
         "text": "General Motors said it will cut 25,000 jobs in North America by 2008."},
    ]
    _ingest_rows(rows, settings, embedder, tmp_path)

    asked: list[str] = []

    def reply(question: str, n: dict[str, str]) -> str:  # each part is asked on its own (rag.answering.decompose)
        if "Ford" in question:
            return f"Answer: Ford said it will cut up to 30,000 jobs [{n['Ford to cut jobs']}]."
        return f"Answer: General Motors said it will cut 25,000 jobs [{n['GM to cut jobs']}]."

    streamed: list[str] = []
    a = ask("How many jobs did Ford and General Motors plan to cut in total?", settings, on_text=streamed.append,
            as_of=date(2006, 2, 1), embedder=embedder, llm=_answering(asked, reply))  # type: ignore[arg-type]
    assert asked == ["How many jobs did Ford plan to cut?", "How many jobs did General Motors plan to cut?"]
    assert not a.refused, a.refusal
    assert a.answer.startswith("Ford said it will cut up to 30,000 jobs [1]. General Motors said it will cut 25,000 jobs [2].")
    assert "Together that is 55,000 (30,000 plus 25,000, computed) [1][2]." in a.answer
    assert [c.article_id for c in a.citations] == ["a", "b"]
    assert "".join(streamed) == a.answer  # shown once, when both inputs are verified


def test_the_half_of_a_two_question_question_left_unanswered_is_asked_on_its_own(
        settings: Settings, embedder: object, tmp_path: Path) -> None:
    rows = [
        {"id": "a", "title": "Rumsfeld resigns", "date": "2006-11-08",
         "text": "President Bush said he will nominate Robert Gates to replace Donald Rumsfeld at the Pentagon."},
        {"id": "b", "title": "Allen concedes in Virginia", "date": "2006-11-09",
         "text": "Democrat Jim Webb won the Senate seat in Virginia by 7,200 votes after George Allen conceded."},
    ]
    _ingest_rows(rows, settings, embedder, tmp_path)
    asked: list[str] = []
    bush = "Answer: Bush picked Robert Gates to replace Donald Rumsfeld [{n[Rumsfeld resigns]}]"
    webb = "Jim Webb won the Senate seat in Virginia [{n[Allen concedes in Virginia]}]"

    def reply(question: str, n: dict[str, str]) -> str:  # answers the first question it is asked, or the part
        if "one part of the question" in question and "which Democrat won" in question.split("\n")[0]:
            return f"Answer: {webb.format(n=n)}."
        return bush.format(n=n) + "."

    q = "After the 2006 midterms, whom did Bush pick to replace Rumsfeld, and which Democrat won Virginia's Senate seat?"
    a = ask(q, settings, as_of=date(2006, 12, 1), embedder=embedder, llm=_answering(asked, reply))  # type: ignore[arg-type]
    assert asked[0] == q and asked[1].startswith("After the 2006 midterms, which Democrat won Virginia's Senate seat?")
    assert q in asked[1]  # the whole question beside the half
    assert not a.refused and a.answer == ("Bush picked Robert Gates to replace Donald Rumsfeld [1]. "
                                          "Jim Webb won the Senate seat in Virginia [2].")
    assert [c.article_id for c in a.citations] == ["a", "b"]

    asked.clear()  # a half the articles do not answer: the verified half, and which half is not answered
    a = ask("Whom did Bush pick to replace Rumsfeld, and when will Rumsfeld leave the Pentagon?", settings,
            as_of=date(2006, 12, 1), embedder=embedder,
            llm=_answering(asked, lambda q, n: "NOT IN ARTICLES" if "part of" in q else bush.format(n=n) + "."))  # type: ignore[arg-type]
    assert len(asked) == 2 and not a.refused
    assert a.answer == ("Bush picked Robert Gates to replace Donald Rumsfeld [1]. "
                        "The indexed articles do not answer: when will Rumsfeld leave the Pentagon?")
    assert [c.article_id for c in a.citations] == ["a"]

    asked.clear()  # ... though that half names what no article does: the verified half's own names are checked
    a = ask("Whom did Bush pick to replace Rumsfeld, and how many votes did the Zorblax Party win in Ohio?", settings,
            as_of=date(2006, 12, 1), embedder=embedder,
            llm=_answering(asked, lambda q, n: "NOT IN ARTICLES" if "part of" in q else bush.format(n=n) + "."))  # type: ignore[arg-type]
    assert len(asked) == 2 and not a.refused, a.refusal
    assert a.answer == ("Bush picked Robert Gates to replace Donald Rumsfeld [1]. "
                        "The indexed articles do not answer: how many votes did the Zorblax Party win in Ohio?")

    asked.clear()  # the half answered from an article of its own whose window does not repeat the name asked
    rows = [{"id": "c", "title": "Ohio count", "date": "2006-11-10",
             "text": "The Zorblax Party held its first rally in Columbus, Ohio. In the count it won 12,000 votes."}]
    (tmp_path / "more").mkdir()
    _ingest_rows(rows, settings, embedder, tmp_path / "more")
    a = ask("Whom did Bush pick to replace Rumsfeld, and how many votes did the Zorblax Party win in Ohio?", settings,
            as_of=date(2006, 12, 1), embedder=embedder,
            llm=_answering(asked, lambda q, n: f"Answer: In the count it won 12,000 votes [{n['Ohio count']}]."
                           if "part of" in q else bush.format(n=n) + "."))  # type: ignore[arg-type]
    assert not a.refused, a.refusal
    assert a.answer == "Bush picked Robert Gates to replace Donald Rumsfeld [1]. In the count it won 12,000 votes [2]."

    asked.clear()  # one sentence whose clauses answer both halves: asked once
    a = ask("Whom did Bush pick to replace Rumsfeld, and who won the Senate seat in Virginia?", settings,
            as_of=date(2006, 12, 1), embedder=embedder,
            llm=_answering(asked, lambda q, n: f"{bush.format(n=n)}, and {webb.format(n=n)}."))  # type: ignore[arg-type]
    assert len(asked) == 1 and not a.refused and "Jim Webb" in a.answer, a.answer


def _ingest_ford(settings: Settings, embedder: object, tmp_path: Path) -> None:
    """An index of one article: Ford's 30,000 job cuts."""
    rows = [{"id": "a", "title": "Ford to cut jobs", "date": "2006-01-23",
             "text": "Ford Motor Company said it will cut up to 30,000 jobs by 2012 as part of its restructuring."}]
    _ingest_rows(rows, settings, embedder, tmp_path)


def test_a_derived_answer_needs_both_inputs(settings: Settings, embedder: object, tmp_path: Path) -> None:
    _ingest_ford(settings, embedder, tmp_path)

    def reply(system: str, user: str) -> str:
        if "Ford" in user.rsplit("Question:", 1)[1]:
            return "Answer: Ford said it will cut up to 30,000 jobs [1]."
        return "NOT IN ARTICLES"

    a = ask("How many jobs did Ford and General Motors plan to cut in total?", settings,
            as_of=date(2006, 2, 1), embedder=embedder, llm=FakeChat(reply))  # type: ignore[arg-type]
    assert a.refused and a.refusal is not None
    assert "How many jobs did General Motors plan to cut?" in a.refusal.detail


def test_two_questions_joined_by_and_are_asked_whole(settings: Settings, embedder: object, tmp_path: Path) -> None:
    _ingest_ford(settings, embedder, tmp_path)
    asked: list[str] = []

    def reply(system: str, user: str) -> str:
        asked.append(user.rsplit("Question:", 1)[1].strip())
        return "Answer: Ford said it will cut up to 30,000 jobs [1]."

    a = ask("How many jobs did Ford plan to cut, and by when?", settings,
            as_of=date(2006, 2, 1), embedder=embedder, llm=FakeChat(reply))  # type: ignore[arg-type]
    assert asked == ["How many jobs did Ford plan to cut, and by when?"]
    assert a.answer == "Ford said it will cut up to 30,000 jobs [1]."


def _ingest_storms(settings: Settings, embedder: object, tmp_path: Path) -> None:
    rows = [
        {"id": "h", "title": "Haiyan toll rises", "date": "2013-11-20",
         "text": "Officials said Typhoon Haiyan killed 4,011 people in the Philippines, with 1,602 still missing."},
        {"id": "b", "title": "Bopha aftermath", "date": "2012-12-10",
         "text": "Typhoon Bopha killed 647 people in the southern Philippines, the disaster agency said on Monday."},
    ]
    _ingest_rows(rows, settings, embedder, tmp_path)


def _storm_reply(asked: list[str], rewrite: str) -> FakeChat:
    """The model's two roles in a comparison: the rewrite (prompts/compare.md) as given, then each
    option's answer from the passage that names its storm."""
    def answer(question: str, n: dict[str, str]) -> str:
        if "Haiyan" in question:
            return f"Answer: Typhoon Haiyan killed 4,011 people [{n['Haiyan toll rises']}]."
        return f"Answer: Typhoon Bopha killed 647 people [{n['Bopha aftermath']}]."

    answering = _answering(asked, answer)
    return FakeChat(lambda system, user: rewrite if "compares two things" in system else answering.reply(system, user))


@pytest.mark.parametrize(("question", "winner"), [
    ("Which typhoon killed more people in the Philippines, Typhoon Haiyan or Typhoon Bopha?",
     "Typhoon Haiyan has the larger figure: 4,011 against 647 (compared) [1][2]."),
    ("Which typhoon killed fewer people in the Philippines: Typhoon Haiyan or Typhoon Bopha?",
     "Typhoon Bopha has the smaller figure: 647 against 4,011 (compared) [2][1]."),
    ("Which happened first, Typhoon Haiyan or Typhoon Bopha?",  # the figures' articles are dated, not the storms
     None),
])
def test_a_comparison_is_asked_per_option_and_compared_by_code(settings: Settings, embedder: object, tmp_path: Path,
                                                                no_judge: None, question: str, winner: str | None) -> None:
    _ingest_storms(settings, embedder, tmp_path)
    asked: list[str] = []
    rewrite = ("1. How many people did Typhoon Haiyan kill in the Philippines?\n"
               "2. How many people did Typhoon Bopha kill in the Philippines?")
    a = ask(question, settings, as_of=date(2014, 1, 1), embedder=embedder,  # type: ignore[arg-type]
            llm=_storm_reply(asked, rewrite))
    if "first" in question:  # the model's rewrite asks for numbers; the comparison needs days: "When was X?"
        assert asked == ["When was Typhoon Haiyan?", "When was Typhoon Bopha?"]
        assert a.refused and a.refusal is not None  # the (fake) answers give no day: no winner is named
        assert "When was Typhoon Haiyan? the question asks when" in a.refusal.detail
        return
    assert not a.refused, a.refusal
    assert asked == ["How many people did Typhoon Haiyan kill in the Philippines?",
                     "How many people did Typhoon Bopha kill in the Philippines?"]
    assert a.answer == f"Typhoon Haiyan killed 4,011 people [1]. Typhoon Bopha killed 647 people [2]. {winner}"
    assert [c.article_id for c in a.citations] == ["h", "b"]


def test_a_rewrite_that_loses_its_option_leaves_the_question_whole(settings: Settings, embedder: object,
                                                                   tmp_path: Path, no_judge: None) -> None:
    _ingest_storms(settings, embedder, tmp_path)
    asked: list[str] = []
    rewrite = "1. How many people did Typhoon Haiyan kill?\n2. How many people did Typhoon Haiyan kill?"
    ask("Which typhoon killed more people, Typhoon Haiyan or Typhoon Bopha?", settings, as_of=date(2014, 1, 1),
        embedder=embedder, llm=_storm_reply(asked, rewrite))  # type: ignore[arg-type]
    assert asked == ["Which typhoon killed more people, Typhoon Haiyan or Typhoon Bopha?"]


@pytest.mark.slow
@pytest.mark.parametrize(("question", "want"), [
    ("Which company paid more for its 2011 acquisition, Google for Motorola Mobility or Microsoft for Skype?",
     (("google", "motorola"), ("microsoft", "skype"))),
    ("Who received fewer votes in the 2012 French presidential runoff, Hollande or Sarkozy?",
     (("hollande", "votes"), ("sarkozy", "votes"))),
    ("Which happened earlier: the resignation of Pope Benedict XVI or the election of Xi Jinping as president?",
     (("benedict",), ("jinping",))),
])
def test_the_real_model_rewrites_a_comparison_per_option(local_llm: object, question: str,
                                                         want: tuple[tuple[str, ...], tuple[str, ...]]) -> None:
    from rag.answering.decompose import compared

    subs = compared(question, local_llm)  # type: ignore[arg-type]
    assert len(subs) == 2, subs
    for sub, words in zip(subs, want, strict=True):
        assert all(w in sub.lower() for w in words), subs


def test_a_margin_the_article_states_is_asked_as_it_is_before_its_inputs(settings: Settings, embedder: object,
                                                                         tmp_path: Path) -> None:
    rows = [{"id": "a", "title": "Crowe wins Rabbitohs vote", "date": "2006-03-20",
             "text": "Russell Crowe and Peter Holmes a Court won the vote to take over the South Sydney Rabbitohs. "
                     "The takeover bid narrowly won, by just 32 votes."}]
    _ingest_rows(rows, settings, embedder, tmp_path)
    asked: list[str] = []
    q = "By how many votes did Russell Crowe and Peter Holmes a Court's takeover bid succeed?"

    def reply(question: str, n: dict[str, str]) -> str:  # the article's own figure, cited the model's other way
        return f"Answer: The takeover bid won by 32 votes ({n['Crowe wins Rabbitohs vote']})."

    a = ask(q, settings, as_of=date(2006, 4, 1), embedder=embedder, llm=_answering(asked, reply))  # type: ignore[arg-type]
    assert asked == [q]  # not split into one question per name
    assert not a.refused and a.answer == "The takeover bid won by 32 votes [1].", (a.answer, a.refusal)
    assert "by just 32 votes" in a.citations[0].text

    asked.clear()  # a margin the model only computes is not the article's: its inputs are asked next (the whole
    # question again, for its two facts: a margin is not split over the names "X and Y", which are one bid)
    a = ask(q, settings, as_of=date(2006, 4, 1), embedder=embedder,
            llm=_answering(asked, lambda q, n: "Answer: The bid won by 40 votes [1]."))  # type: ignore[arg-type]
    assert asked[0] == q and len(asked) > 1 and a.refused
    assert a.refusal and a.refusal.stage == "unverified" and "'40'" in a.refusal.detail, a.refusal


def test_what_the_question_asks_is_read_after_a_scene_setting_clause(settings: Settings, embedder: object,
                                                                     tmp_path: Path) -> None:
    rows = [{"id": "a", "title": "Bushmen told to leave reserve", "date": "2005-09-14",
             "text": "Armed police entered the Central Kalahari Game Reserve on September 12, giving the Bushmen "
                     "there ten days to leave."}]
    _ingest_rows(rows, settings, embedder, tmp_path)
    q = "When armed police entered the Central Kalahari Game Reserve on 12 September 2005, how long were the Bushmen given to leave?"
    answer = "Answer: The Bushmen were given ten days to leave the Central Kalahari Game Reserve [1]."
    a = ask(q, settings, as_of=date(2005, 10, 1), embedder=embedder, llm=_answering([], lambda q, n: answer))  # type: ignore[arg-type]
    assert not a.refused and "ten days" in a.answer, a.refusal  # a "how long" question: no date is owed

    # an answer that only repeats the question's words answers nothing
    a = ask("What is the name of the reserve the armed police entered?", settings, as_of=date(2005, 10, 1),
            embedder=embedder, llm=_answering([], lambda q, n: "Answer: The reserve [1]."))  # type: ignore[arg-type]
    assert a.refused and a.refusal and "nothing the question did not" in a.refusal.detail, a.answer


def test_how_many_is_not_answered_by_percentages_alone(settings: Settings, embedder: object, tmp_path: Path) -> None:
    rows = [{"id": "a", "title": "Uniform maker considers tracking devices", "date": "2007-09-10",
             "text": "Trutex surveyed 809 parents. 44% of parents were worried about the safety of their children."}]
    _ingest_rows(rows, settings, embedder, tmp_path)
    q = "How many parents did Trutex survey?"
    a = ask(q, settings, as_of=date(2007, 10, 1), embedder=embedder,
            llm=_answering([], lambda q, n: "Answer: 44% of parents surveyed by Trutex were worried [1]."))  # type: ignore[arg-type]
    assert a.refused and a.refusal and "only percentages" in a.refusal.detail, a.answer
    a = ask(q, settings, as_of=date(2007, 10, 1), embedder=embedder,
            llm=_answering([], lambda q, n: "Answer: Trutex surveyed 809 parents [1]."))  # type: ignore[arg-type]
    assert not a.refused and "809" in a.answer, a.refusal


def test_a_part_naming_nothing_is_asked_with_the_whole_question_beside_it(
        settings: Settings, embedder: object, tmp_path: Path) -> None:
    """The model's split of a total keeps the names in one part only ("How many deaths were reported in total?"):
    that part is searched with the whole question's names and answered from an article naming one of them."""
    rows = [
        {"id": "a", "title": "Sixteen policemen killed in Kashgar", "date": "2008-08-04",
         "text": "Sixteen policemen were killed by unidentified assailants in Kashgar, in the Xinjiang region."},
        {"id": "b", "title": "Explosions reported in Kuqa", "date": "2008-08-10",
         "text": "Police in Kuqa, Xinjiang, say at least 11 deaths were reported after a series of bombings."},
        {"id": "c", "title": "Iraqi civilian deaths counted", "date": "2005-07-20",
         "text": "A total of 57,600 deaths were reported in the study, most of them from accidents and disease."},
    ]
    _ingest_rows(rows, settings, embedder, tmp_path)
    q = "Combining the attack on police in Kashgar and the bombings in Kuqa in August 2008, how many deaths were reported in total?"
    prompts: list[str] = []

    def reply(system: str, user: str) -> str:
        prompts.append(user)
        if "two simple questions" in system:  # prompts/parts.md: the second part names nothing
            return "1. How many deaths were reported in the attack in Kashgar?\n2. How many deaths were reported in total?"
        n = numbers_by_title(user)
        if "in Kashgar?" in user:
            return f"Answer: Sixteen policemen were killed in Kashgar [{n['Sixteen policemen killed in Kashgar']}]."
        if "Explosions reported in Kuqa" in n:  # found with the whole question's names
            return f"Answer: At least 11 deaths were reported in Kuqa [{n['Explosions reported in Kuqa']}]."
        return f"Answer: A total of 57,600 deaths were reported [{n['Iraqi civilian deaths counted']}]."

    a = ask(q, settings, as_of=date(2008, 9, 1), embedder=embedder, llm=FakeChat(reply))  # type: ignore[arg-type]
    last = prompts[-1]
    assert "How many deaths were reported in total?" in last and q in last  # the whole question beside the part
    assert not a.refused and "Together that is 27 (Sixteen plus 11, computed) [1][2]." in a.answer, (a.answer, a.refusal)
    assert [c.article_id for c in a.citations] == ["a", "b"]


def test_a_half_answered_again_with_the_same_sentences_is_not_repeated(
        settings: Settings, embedder: object, tmp_path: Path) -> None:
    rows = [{"id": "a", "title": "Co-op to buy Somerfield", "date": "2008-07-16",
             "text": "The Co-operative Group agreed to buy Somerfield. Somerfield held 4.4% of the UK grocery market."}]
    _ingest_rows(rows, settings, embedder, tmp_path)
    asked: list[str] = []
    reply = ("Answer: The Co-operative Group and Somerfield agreed to buy Somerfield [{n}]. "
             "Somerfield held 4.4% of the UK grocery market [{n}].")
    a = ask("Which group agreed to buy Somerfield, and what share of the UK grocery market did Somerfield hold?",
            settings, as_of=date(2008, 8, 1), embedder=embedder,
            llm=_answering(asked, lambda q, n: reply.format(n=n["Co-op to buy Somerfield"])))  # type: ignore[arg-type]
    assert len(asked) == 2  # the "which group" half was asked on its own, and answered the same way
    assert not a.refused and a.answer.count("Somerfield held 4.4%") == 1, a.answer


def test_a_question_asking_for_a_name_is_not_answered_without_one(settings: Settings, embedder: object,
                                                                  tmp_path: Path) -> None:
    rows = [{"id": "a", "title": "NASA poll for station module", "date": "2009-04-15",
             "text": "NASA reserved the right to choose an appropriate name for the module. The comedian Stephen "
                     "Colbert won the online poll. The module was named Tranquility by the agency's officials."}]
    _ingest_rows(rows, settings, embedder, tmp_path)
    q = "What name did NASA give to the space station module after the online poll?"
    a = ask(q, settings, as_of=date(2009, 5, 1), embedder=embedder, llm=_answering([], lambda q, n: (
        "Answer: NASA reserved the right to choose an appropriate name for the module [1].")))  # type: ignore[arg-type]
    assert a.refused and a.refusal and "names no one the question did not" in a.refusal.detail, a.answer
    a = ask(q, settings, as_of=date(2009, 5, 1), embedder=embedder, llm=_answering([], lambda q, n: (
        "Answer: The module was named Tranquility by the agency's officials [1].")))  # type: ignore[arg-type]
    assert not a.refused and "Tranquility" in a.answer, a.refusal


def test_a_margin_asked_as_it_is_and_answered_with_its_two_figures_is_computed_by_code(
        settings: Settings, embedder: object, tmp_path: Path) -> None:
    rows = [{"id": "a", "title": "Irish economy shrinks", "date": "2009-03-26",
             "text": "The economy of Ireland shrank by 7.5% in the last quarter of 2008."},
            {"id": "b", "title": "Venezuelan economy shrinks", "date": "2010-03-03",
             "text": "The economy of Venezuela shrank by 5.8% in the last quarter of 2009."}]
    _ingest_rows(rows, settings, embedder, tmp_path)
    asked: list[str] = []
    q = "By how many percentage points did Ireland's economy shrink more than Venezuela's economy?"

    def reply(question: str, n: dict[str, str]) -> str:
        return (f"Answer: Ireland's economy shrank by 7.5% [{n['Irish economy shrinks']}]. "
                f"Venezuela's economy shrank by 5.8% [{n['Venezuelan economy shrinks']}].")

    a = ask(q, settings, as_of=date(2010, 4, 1), embedder=embedder, llm=_answering(asked, reply))  # type: ignore[arg-type]
    assert asked == [q] and not a.refused, a.refusal
    # both are falls ("shrank"), signed as such: 1.7 points apart either way
    assert a.answer.endswith("The difference is 1.7 percentage points (-7.5% and -5.8%, computed) [1][2]."), a.answer


def test_the_lazily_started_model_gives_the_judgement_its_probability(monkeypatch: pytest.MonkeyPatch,
                                                                      tmp_path: Path) -> None:
    """`rag check` and `rag daily` start the model on first use (LazyLLM). Their judgement must read its yes/no as
    P(YES), as `rag ask` and the claims eval do, not as the bare word: a 0.55 is a yes at judge_yes, a 0.2 a veto."""
    import rag.models.llm
    from rag.models.llm import Completion, LazyLLM
    from rag.verify import Judge

    class Model:  # the started model: a bare word NO, and a probability that depends on the claim
        def __init__(self, settings: Settings) -> None:
            self.started = True

        def complete(self, system: str, user: str, max_tokens: int, on_text: object = None) -> Completion:
            return Completion("NO", len(user) // 4, 1, 0.0)

        def yes_probability(self, system: str, user: str) -> float:
            return 0.55 if "Geneva" in user.split("Claim:")[-1] else 0.2

    monkeypatch.setattr(rag.models.llm, "LLM", Model)
    lazy = LazyLLM(Settings(index_dir=tmp_path / "index"), "some-model")
    assert lazy.usage() == {"calls": 0}  # not started until asked
    judge = Judge(lazy, lazy.model)
    evidence = "Talks between the two sides took place in Geneva on Sunday."
    assert judge.probability("The talks were held in Geneva.", evidence, "2024-05-06") == 0.55
    assert judge("The talks were held in Geneva.", evidence, "2024-05-06")
    assert judge.probability("The talks were held in Paris.", evidence, "2024-05-06") == 0.2


def test_a_figure_whose_sentence_names_the_story_only_through_its_title_is_an_answer(
        settings: Settings, embedder: object, tmp_path: Path) -> None:
    """"yielding a 54.8% to 45.1% balance" shares no word with the question; its article's title does. A figure
    asked for is shown; a bare word for a question that asks no figure is still refused (a planted instruction)."""
    rows = [{"id": "v", "title": "Venezuelan referendum scraps presidential term limits", "date": "2009-02-16",
             "text": "Venezuela voted on Sunday on whether the president may stand again without limit. "
                     "Official results were read out late that night. They showed 6,319,636 in favour with 5,198,006 "
                     "opposed, yielding a 54.8% to 45.1% balance."}]
    _ingest_rows(rows, settings, embedder, tmp_path)
    q = "What share of the vote did the yes side win in the Venezuelan referendum on presidential term limits?"
    a = ask(q, settings, as_of=date(2009, 3, 1), embedder=embedder,
            llm=_answering([], lambda q, n: f"Answer: 54.8% [{n['Venezuelan referendum scraps presidential term limits']}]."))  # type: ignore[arg-type]
    assert not a.refused and "54.8%" in a.answer, a.refusal
    q = "Which side won the Venezuelan referendum on presidential term limits?"
    a = ask(q, settings, as_of=date(2009, 3, 1), embedder=embedder,
            llm=_answering([], lambda q, n: f"Answer: Balance [{n['Venezuelan referendum scraps presidential term limits']}]."))  # type: ignore[arg-type]
    assert a.refused and a.refusal and "shares no word" in a.refusal.detail, a.answer

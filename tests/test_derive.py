"""rag.answering.derive: the arithmetic code does over verified inputs, never the model."""

from __future__ import annotations

import pytest

from rag.answering.derive import compare, derive
from rag.types import Citation
from rag.verify import Verified


def _v(*sentences: tuple[str, str], first: int = 1) -> Verified:
    """A verified answer of one sentence per (text, article day), cited [first], [first + 1], ..."""
    cites = [Citation(first + i, f"a{first + i}", "t", day, None, 0, len(text), text)
             for i, (text, day) in enumerate(sentences)]
    return Verified(" ".join(f"{t} [{first + i}]." for i, (t, _) in enumerate(sentences)), cites)


@pytest.mark.parametrize(("question", "inputs", "want"), [
    ("How many days after the vote did he resign?",
     [("The vote was held on 3 March 2010", "2010-03-04"), ("He resigned on 10 March 2010", "2010-03-11")],
     "That is 7 days between 2010-03-03 and 2010-03-10 (computed) [1][2]."),
    ("How many days after the 2007 election was he sworn in?",  # the day, not the election's year
     [("The 2007 federal election took place on November 24, 2007", "2007-11-25"),
      ("He was sworn in on December 3, 2007", "2007-12-04")],
     "That is 9 days between 2007-11-24 and 2007-12-03 (computed) [1][2]."),
    ("How many weeks after the vote did he resign?",
     [("The vote was held on 3 March 2010", "2010-03-04"), ("He resigned on 17 March 2010", "2010-03-18")],
     "That is 2 weeks, 14 days between 2010-03-03 and 2010-03-17 (computed) [1][2]."),
    ("How many months after the merger did the chief executive leave?",
     [("The merger closed in January 2008", "2008-02-01"), ("The chief executive left in June 2008", "2008-07-01")],
     "That is 5 months between 2008-01 and 2008-06 (computed) [1][2]."),
    ("How many years after buying the channel did the group sell it?",
     [("The group bought the channel in 2010", "2011-01-01"), ("The group agreed to sell it in 2014", "2014-05-01")],
     "That is 4 years between 2010 and 2014 (computed) [1][2]."),
    ("How many months after the merger did the chief executive leave?",  # a year is not a month
     [("The merger closed in 2008", "2009-01-01"), ("The chief executive left in 2009", "2010-01-01")], None),
])
def test_time_between_two_dated_inputs_is_given_in_the_unit_asked(question: str, inputs: list[tuple[str, str]],
                                                                   want: str | None) -> None:
    assert derive(question, _v(*inputs)) == want


def test_a_comparison_names_the_option_that_wins() -> None:
    answers = [_v(("Haiyan killed 4,011 people", "2013-11-20")), _v(("Bopha killed 647 people", "2012-12-10"), first=2)]
    pair = ("Typhoon Haiyan", "Typhoon Bopha")
    assert compare("Which killed more people, Typhoon Haiyan or Typhoon Bopha?", pair, answers) == \
        "Typhoon Haiyan has the larger figure: 4,011 against 647 (compared) [1][2]."
    assert compare("Which killed more people, Typhoon Haiyan or Typhoon Bopha, and by how many?", pair, answers) == \
        "Typhoon Haiyan has the larger figure: 4,011 against 647, a difference of 3,364 (compared) [1][2]."
    assert compare("Which killed fewer people, Typhoon Haiyan or Typhoon Bopha?", pair, answers) == \
        "Typhoon Bopha has the smaller figure: 647 against 4,011 (compared) [2][1]."
    dated = [_v(("Haiyan struck on 8 November 2013", "2013-11-09")),
             _v(("Bopha struck on 4 December 2012", "2012-12-05"), first=2)]
    assert compare("Which struck first, Typhoon Haiyan or Typhoon Bopha?", pair, dated) == \
        "Typhoon Bopha came earlier: 2012-12-04 against 2013-11-08 (compared) [2][1]."
    assert compare("Which struck first, Typhoon Haiyan or Typhoon Bopha?", pair, answers) is None  # no days


def test_the_figure_asked_about_is_the_one_computed_with() -> None:
    v = _v(("The first bid was US$44.6 billion, or US$31 per share", "2008-02-01"),
           ("The final offer was US$47.5 billion, or US$33 per share", "2008-05-04"))
    assert derive("By how much per share did the offer rise?", v) == \
        "The difference is 2 (31 and 33, computed) [1][2]."
    assert derive("By how many billion dollars did the offer rise?", v) == \
        "The difference is 2.9 billion (44.6 billion and 47.5 billion, computed) [1][2]."


def test_one_articles_figure_said_twice_is_not_two_inputs() -> None:
    text = "The three banks owe a total of US$61 billion, twelve times the size of the economy."
    same = [Citation(n, "a", "t", "2008-10-09", None, 0, len(text), text) for n in (1, 2)]
    v = Verified("The banks owed US$61 billion [1]. The three banks owe a total of US$61 billion [2].", same)
    assert derive("How much did the three banks owe in total?", v) is None  # not "122 billion", nor 61 + 3
    other = [same[0], Citation(2, "b", "t", "2008-10-10", None, 0, len(text), text)]
    assert derive("How much did the three banks owe in total?", Verified(v.answer, other)) == \
        "Together that is 122 billion (61 billion plus 61 billion, computed) [1][2]."  # two articles: two figures


def test_a_ratio_is_the_larger_figure_over_the_smaller() -> None:
    v = _v(("The first leak exposed 1.2 million accounts", "2005-02-26"),
           ("The second leak exposed 600,000 accounts", "2005-05-03"))
    assert derive("How many times as many accounts did the first leak expose as the second?", v) == \
        "That is 2 times as much (1.2 million against 600,000, computed) [1][2]."
    v = _v(("The town has 2,500 residents", "2007-01-02"), ("The city has 10,000 residents", "2007-01-03"))
    assert derive("How many times larger is the city than the town?", v) == \
        "That is 4 times as much (10,000 against 2,500, computed) [1][2]."


def test_a_ratio_question_is_asked_as_its_two_counts_and_scene_setting_sentences_are_left_out() -> None:
    from rag.answering.decompose import subquestions

    assert subquestions("How many times as many homes were flooded in Hull as in Leeds?") == \
        ["How many homes were flooded in Hull?", "How many homes were flooded in Leeds?"]
    assert subquestions("In May 2007, Acme bought Bolt and Zeta bought Yarn. "
                        "How much higher was the Zeta price than the Acme price?") == \
        ["What was the Zeta price?", "What was the Acme price?"]


def test_an_age_gap_is_asked_as_two_ages_and_an_initial_does_not_end_a_sentence() -> None:
    from rag.answering.decompose import subquestions

    assert subquestions("How many years older at his death was J. R. Ames, the last veteran, than the senator "
                        "Bell, both of whom died in 2007?") == \
        ["How old at his death was J. R. Ames, the last veteran?", "How old at his death was the senator Bell?"]
    assert subquestions("Ames and Bell died in 2008. How many years younger than Bell was Ames when she died?") == \
        ["How old was Ames when she died?", "How old was Bell when she died?"]


class _Parts:
    """A model that writes the given two lines, whatever it is asked."""

    def __init__(self, reply: str) -> None:
        self.reply = reply

    def complete(self, system: str, user: str, max_tokens: int) -> object:
        from rag.models.llm import Completion

        return Completion(self.reply, 0, 0, 0.0)


def test_parts_that_still_ask_for_the_computation_are_not_taken() -> None:
    from rag.answering.decompose import subquestions

    q = "How many more votes did Ames win than Bell in the 2007 race?"
    good = "1. How many votes did Ames win in the 2007 race?\n2. How many votes did Bell win in the 2007 race?"
    assert subquestions(q, _Parts(good)) == good.replace("1. ", "").replace("2. ", "").split("\n")  # type: ignore[arg-type]
    swapped = ("1. How many more votes did Ames win than Bell in the 2007 race?\n"
               "2. How many more votes did Bell win than Ames in the 2007 race?")
    assert subquestions(q, _Parts(swapped)) == []  # type: ignore[arg-type]


def test_a_name_the_question_repeats_is_not_split_on() -> None:
    from rag.answering.decompose import subquestions

    assert subquestions("How many jobs did Ford and GM cut in total?") == \
        ["How many jobs did Ford cut?", "How many jobs did GM cut?"]
    assert subquestions("How many tankers did Boeing and Airbus deliver in 2008 and Airbus in 2009, in all?") == []


def test_figures_in_two_units_of_one_dimension_are_converted_and_of_two_dimensions_not_combined() -> None:
    """rag/answering/units.toml: "8.3 kg" less "396 grams" is 7,904 grams, not 387.7; kilograms and kilometres give nothing;
    a count with no unit of the table is computed as before."""
    question = "How many more grams of heroin did the Bali pair try to smuggle than Nguyen carried?"
    inputs = [("The two were charged with attempting to smuggle 8.3 kg of heroin", "2006-02-14"),
              ("Nguyen said he carried 396 grams of heroin", "2005-12-02")]
    assert derive(question, _v(*inputs)) == \
        "The difference is 7,904 grams (8.3 kg and 396 grams, computed) [1][2]."
    assert derive("What was the combined weight of the heroin?", _v(*inputs)) == \
        "Together that is 8,696 grams (8.3 kg plus 396 grams, computed) [1][2]."
    far = [inputs[0], ("The pair drove 40 km to the airport", "2005-12-02")]
    assert derive(question, _v(*far)) is None
    assert derive("How many more people were arrested in April than in December?",
                  _v(("16 people were arrested", "2006-04-21"), ("Two men were arrested", "2006-12-16"))) == \
        "The difference is 14 (16 and Two, computed) [1][2]."
    answers = [_v(inputs[0]), _v(inputs[1], first=2)]
    assert compare("Which haul of heroin was larger, the Bali pair's or Nguyen's?", ("the Bali pair's", "Nguyen's"), answers) == \
        "The Bali pair's has the larger figure: 8.3 kg against 396 grams (compared) [1][2]."


def test_a_sentence_with_an_abbreviation_is_one_input() -> None:
    """The answer is split into sentences as the index splits text: "12:00 p.m. ET after ..." does not end one."""
    answer = Verified("16 people were arrested [1]. Two men were arrested at about 12:00 p.m. ET after entering the "
                      "site [2].", [Citation(1, "a1", "t", "2006-04-21", None, 0, 10, "16 people were arrested"),
                                    Citation(2, "a2", "t", "2006-12-16", None, 0, 10, "Two men were arrested")])
    assert derive("How many more people were arrested in April than in December?", answer) == \
        "The difference is 14 (16 and Two, computed) [1][2]."


# ---- a date input picked from the evidence by the real model (rag.answering.datepick) ---------------------------
_DATED = [  # sentences of real Wikinews articles of February 2008, one passage each
    ("Clinton's speech at St. Mary's University stirs debate over abortion", "2008-02-14",
     "Clinton's main strength in past primaries and caucuses have been among Latino voters. Most Latinos are Roman "
     "Catholic, which might explain Clinton's visit to the University in conjunction with the upcoming March 4 Texas "
     "Primary."),
    ("McCain captures Florida, Giuliani drops out", "2008-01-30",
     "Senator John McCain won the Republican primary in Florida on Tuesday."),
    ("Ontario, Canada celebrates Family Day", "2008-02-18",
     "On Monday, February 18, many people in the Canadian province of Ontario are to get a new holiday from work and "
     "school. An estimated 40% of Ontario workers will not receive more time away from work."),
]


@pytest.mark.slow
@pytest.mark.parametrize(("question", "want"), [
    ("When was the Texas Democratic primary that Hillary Clinton was courting Latino Catholic voters for?",
     "Most Latinos are Roman Catholic, which might explain Clinton's visit to the University in conjunction with the "
     "upcoming March 4 Texas Primary [1]."),
    ("When was Ontario's first Family Day holiday in 2008?",
     "On Monday, February 18, many people in the Canadian province of Ontario are to get a new holiday from work and "
     "school [3]."),
])
def test_the_real_model_picks_the_sentence_that_dates_the_event_asked_about(local_llm: object, question: str,
                                                                           want: str) -> None:
    """Only sentences with a date are offered (not the Latino voters' one), each put to the model as yes/no; the
    sentence of the event asked about wins over the other events' dates of the same evidence."""
    from rag.answering.datepick import offered, pick
    from rag.types import Passage

    passages = [Passage(f"c{i}", f"a{i}", title, day, None, 0, len(text), text)
                for i, (title, day, text) in enumerate(_DATED)]
    assert [n for n, _ in offered(passages, "day")] == [1, 2, 3]
    picked, cost = pick(question, passages, local_llm, "day")  # type: ignore[arg-type]
    assert picked == want and cost["calls"] == 3


def test_only_a_total_is_split_over_two_names_joined_by_and() -> None:
    from rag.answering.decompose import subquestions

    # a difference or a margin over "X and Y" is not one question per name: "the bill for British and Dutch
    # savers" is one bill, "stewards in Durban and Cape Town" one group paid one rise
    assert subquestions("How much more per shift did the firm agree to pay stewards in Durban and Cape Town?") == []
    assert subquestions("By how many votes did parliament pass the bill for British and Dutch savers?") == []
    assert subquestions("How many people died in the Durban and Cape Town floods combined?") == \
        ["How many people died in the Durban floods?", "How many people died in the Cape Town floods?"]


def test_a_part_dated_by_the_clause_of_the_other_thing_is_not_taken() -> None:
    from rag.answering.decompose import subquestions

    q = ("In March 2009 the minister said what the gun registry had cost taxpayers; in February 2005 an audit of the "
         "sponsorship program found how much may have been misspent. How many times larger is the registry figure "
         "than the sponsorship figure?")
    good = ("1. What had the gun registry cost taxpayers in March 2009?\n"
            "2. How much of the sponsorship program may have been misspent in February 2005?")
    assert subquestions(q, _Parts(good)) == [  # type: ignore[arg-type]
        "What had the gun registry cost taxpayers in March 2009?",
        "How much of the sponsorship program may have been misspent in February 2005?"]
    misdated = ("1. What had the gun registry cost taxpayers in March 2009?\n"
                "2. What had the gun registry cost taxpayers in February 2005?")  # the audit's date, the registry's cost
    assert subquestions(q, _Parts(misdated)) == []  # type: ignore[arg-type]


def test_a_fall_and_a_rise_are_on_two_sides_of_zero_where_the_evidence_says_which() -> None:
    # the answer writes both as levels; the evidence it cites says the first was a contraction
    answer = "GDP in the first quarter was 3.8% [1]. GDP in the second quarter was 0.3% [2]."
    cites = [Citation(1, "a1", "t", "2009-05-15", None, 0, 9, "The economy contracted by 3.8% in the first quarter."),
             Citation(2, "a2", "t", "2009-08-13", None, 0, 9, "The economy grew by 0.3% in the second quarter.")]
    assert derive("By how many percentage points did GDP growth improve from the first quarter to the second?",
                  Verified(answer, cites)) == \
        "The difference is 4.1 percentage points (-3.8% and 0.3%, computed) [1][2]."
    # two falls stay a difference of falls; "fell to" is a level, not a fall
    v = _v(("Shares fell 10% on Monday", "2009-01-06"), ("Shares fell 4% on Tuesday", "2009-01-07"))
    assert derive("How much more did the shares fall on Monday than on Tuesday?", v) == \
        "The difference is 6 percentage points (-10% and -4%, computed) [1][2]."
    v = _v(("Unemployment fell to 5% in May", "2009-06-01"), ("Unemployment rose to 7% in June", "2009-07-01"))
    assert derive("How much higher was unemployment in June than in May?", v) == \
        "The difference is 2 percentage points (5% and 7%, computed) [1][2]."


def test_parts_that_ask_the_arithmetic_again_or_the_same_thing_twice_are_not_taken() -> None:
    from rag.answering.decompose import subquestions

    q = "By how much did the airline's share price fall on the day it announced its new routes?"
    again = ("1. What was the airline's share price on the day it announced its new routes?\n"
             "2. By how much did the airline's share price fall on the day it announced its new routes?")
    assert subquestions(q, _Parts(again)) == []  # type: ignore[arg-type]
    q = "Combining the two bombings in the province in August, how many deaths were reported in total?"
    same = ("1. How many deaths were reported in total in the bombings in the province in August?\n"
            "2. How many deaths were reported in the bombings in the province in August?")
    assert subquestions(q, _Parts(same)) == []  # type: ignore[arg-type]

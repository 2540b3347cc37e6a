"""The verifier (rag.verify): each explicit check with its reason, on real parses (spaCy's small English
pipeline), and the judgement called only for what the checks cannot decide."""

from __future__ import annotations

import re

import pytest

from rag.types import Passage
from rag.verify import Judge, check_claim, verify
from rag.verify.facts import numbers

TEXT = ("Margaret Wilson was appointed as Speaker of The House of Representatives on Tuesday. Wilson was voted in "
        "with 64 votes. The government did not approve the budget last month. Microsoft sued Google in a Seattle "
        "court. The firm reported a 74% rise in quarterly profits, to £39m. The A380 had 520 people on board, and "
        "the smaller plane had 66.")
P = Passage("a#0", "a", "New Zealand gets first female Speaker", "2005-03-10", None, 0, len(TEXT), TEXT)


def verdict(claim: str, question: str = "") -> tuple[str, str]:
    v = check_claim(claim, [P], question)
    return v.verdict, v.reason


@pytest.mark.parametrize("claim", [
    "Margaret Wilson became Speaker.",
    "Wilson won 64 votes.",
    "Wilson was appointed on 8 March 2005.",  # "on Tuesday" in an article of Thursday 10 March 2005
    "The government did not approve the budget in February 2005.",  # "last month"
    "The firm reported quarterly profits up 74 per cent, to £39 million.",
    "Microsoft sued Google.",
])
def test_supported_claims_are_kept(claim: str) -> None:
    assert verdict(claim)[0] == "supported", verdict(claim)


@pytest.mark.parametrize(("claim", "check"), [
    ("Putin held talks in Geneva.", "names"),  # the first word is a name too
    ("Wilson was voted in with 46 votes.", "numbers"),
    ("The firm reported a 74% rise in quarterly profits, to £39bn.", "numbers"),  # magnitude
    ("The A380 had 66 people on board, and the smaller plane had 520.", "numbers"),  # swapped between planes
    ("Wilson was appointed as Speaker on Monday.", "dates"),
    ("The government did not approve the budget in January 2005.", "dates"),
    ("The government approved the budget last month.", "polarity"),
    ("The firm reported a 74% fall in quarterly profits, to £39m.", "polarity"),
    ("Google sued Microsoft in a Seattle court.", "roles"),
    ('Wilson said "the vote was rigged".', "quotes"),
])
def test_each_unsupported_claim_is_caught_by_its_check(claim: str, check: str) -> None:
    kind, reason = verdict(claim)
    assert kind in ("unsupported", "contradicted") and reason.startswith(f"{check}:"), (kind, reason)


def test_contradicted_means_the_evidence_says_otherwise() -> None:
    assert verdict("Wilson was voted in with 46 votes.")[0] == "contradicted"
    assert verdict("Putin held talks in Geneva.")[0] == "unsupported"  # not said, not contradicted
    assert check_claim("Anything at all.", []).verdict == "no_evidence"


def test_numbers_read_units_magnitudes_and_words() -> None:
    got = [(n.value, n.percent) for n in numbers("£39m, 1.2 billion, three people, 53,7% and 74 per cent doubled")]
    assert got == [(39e6, False), (1.2e9, False), (3.0, False), (53.7, True), (74.0, True), (2.0, False)]
    assert numbers("at 5:55 p.m. in 2007 in the fourth quarter") == []  # times, years, quarters are not quantities


class CountingJudge(Judge):
    """A judgement that says YES when the claim's last word is in the evidence: its answer reads its input."""

    def __init__(self) -> None:
        super().__init__(llm=None, model="test")  # type: ignore[arg-type]
        self.asked: list[str] = []

    def probability(self, claim: str, evidence: str, published: str | None, title: str = "") -> float | None:
        self.asked.append(claim)
        return 1.0 if claim.rstrip(".").split()[-1].lower() in evidence.lower() else 0.0


class _Reader:
    """A model whose P(YES) reads its prompt: high when the evidence names the answer's character."""

    def yes_probability(self, system: str, user: str) -> float:
        return 0.9 if user.count("Oswald") >= 2 else 0.2


def test_the_answer_look_has_a_call_kept_for_it_beyond_the_budget() -> None:
    judge = Judge(_Reader(), "t", budget=1, reserve=1)  # type: ignore[arg-type]
    assert judge.probability("Disney obtained a rabbit.", "Disney gets Oswald.", None) == 0.2
    assert judge.probability("Disney obtained a cartoon.", "Disney gets Oswald.", None) is None  # the budget is spent
    asked = "Which character did Disney obtain?"
    assert judge.probability("Oswald", "Disney gets Oswald.", None, question=asked) == 0.9  # the reserve
    assert judge.probability("Oswald the rabbit", "Disney gets Oswald.", None, question=asked) is None
    plain = Judge(_Reader(), "t", budget=1)  # type: ignore[arg-type]
    plain.probability("Disney obtained a rabbit.", "Disney gets Oswald.", None)
    assert plain.probability("Oswald", "Disney gets Oswald.", None, question=asked) is None  # no reserve, no call


def test_the_judgement_decides_what_the_checks_cannot_and_looks_again_at_what_they_pass_in_other_words() -> None:
    judge = CountingJudge()
    assert not check_claim("Putin held talks.", [P], judge=judge).supported and judge.asked == []  # a check decided
    assert check_claim("Microsoft sued Google in a Seattle court.", [P], judge=judge).supported
    assert judge.asked == []  # word for word: nothing for the judgement to add
    assert check_claim("Wilson won 64 votes.", [P], judge=judge).supported  # the checks pass, the judgement agrees
    assert judge.asked == ["Wilson won 64 votes."]
    judge.asked.clear()
    paraphrase = "The lawmakers elected Wilson as their presiding officer with votes."
    v = check_claim(paraphrase, [P], judge=judge)
    assert judge.asked == [paraphrase] and v.supported and v.judged


def test_a_firm_no_of_the_judgement_outweighs_checks_that_pass() -> None:
    """A negation the checks miss ("declared valid" over "declared null and void"): the sentence passes every check
    in other words, and the judgement's P(YES) under judge_veto makes it unsupported; out of budget, the checks
    stand (an unsure judgement takes nothing away)."""
    text = "The referendum was declared null and void due to a low turnout."
    p = Passage("r", "r", "Referendum fails", "2005-06-01", None, 0, len(text), text)
    claim = "The referendum was declared valid despite a low turnout."

    class Says(CountingJudge):
        def __init__(self, yes: float | None) -> None:
            super().__init__()
            self.yes = yes

        def probability(self, claim: str, evidence: str, published: str | None, title: str = "") -> float | None:
            self.asked.append(claim)
            return self.yes

    assert check_claim(claim, [p]).supported  # the checks alone let it through
    v = check_claim(claim, [p], judge=Says(0.06))
    assert not v.supported and v.judged and "P(yes) 0.06" in v.reason, v.reason
    assert check_claim(claim, [p], judge=Says(0.4)).supported  # unsure is not a firm no
    assert check_claim(claim, [p], judge=Says(None)).supported  # out of budget


class ReadsFigures(CountingJudge):
    """A judgement that reads figures: a firm yes (0.95) when every figure of the claim is in the evidence and the
    claim says nothing the evidence negates, a no otherwise; `yes` caps what it says."""

    def __init__(self, yes: float = 0.95) -> None:
        super().__init__()
        self.yes = yes

    def probability(self, claim: str, evidence: str, published: str | None, title: str = "") -> float | None:
        self.asked.append(claim)
        figures = re.findall(r"\d+%?", claim)
        return self.yes if figures and all(f in evidence for f in figures) else 0.1


def test_a_firm_yes_of_the_judgement_outweighs_a_check_it_may_appeal_but_not_the_role_checks() -> None:
    """A paraphrase that restates two figures in the other order fails the numbers check; the judgement's P(YES) at
    or above judge_appeal (0.9) makes it supported, with the check it outweighed in the reason. Under the bar, or
    with no judgement, the check stands; a figure, name or date the evidence lacks, and a role swap (the role checks
    take no appeal), stay unsupported."""
    text = "The party's share of the vote rose from 20% in 2004 to 31% this year."
    p = Passage("v", "v", "Vote share", "2008-06-05", None, 0, len(text), text)
    claim = "The party won 31% of the vote this year, against 20% in 2004."
    assert check_claim(claim, [p]).reason.startswith("numbers:")
    v = check_claim(claim, [p], judge=ReadsFigures())
    assert v.supported and v.judged and "P(yes) 0.95" in v.reason and "numbers:" in v.reason, v.reason
    assert not check_claim(claim, [p], judge=ReadsFigures(0.85)).supported  # a yes, but not a firm one

    class Yes(CountingJudge):
        def probability(self, claim: str, evidence: str, published: str | None, title: str = "") -> float | None:
            self.asked.append(claim)
            return 0.99

    # a figure, a name or a date the evidence does not give never appeals, however firm the yes
    for ungrounded in ("The party won 41% of the vote this year, against 20% in 2004.",
                       "The Labour party won 31% of the vote this year, against 20% in 2004.",
                       "The party won 31% of the vote in 2008, against 20% in 2003."):
        v = check_claim(ungrounded, [p], judge=Yes())
        assert not v.supported and v.reason.split(":")[0] in ("numbers", "names", "dates"), v.reason
    police = "Police arrested Smith after Jones reported the theft."
    q = Passage("r", "r", "Theft", "2008-06-05", None, 0, len(police), police)
    v = check_claim("Police arrested Jones after Smith reported the theft.", [q], judge=Yes())
    assert not v.supported and v.reason.startswith("roles:"), v.reason


def test_a_month_of_a_year_is_that_month() -> None:
    text = "Kevorkian served eight years of his sentence. He was released in June of 2007 on parole."
    p = Passage("k", "k", "Kevorkian", "2008-06-01", None, 0, len(text), text)
    assert check_claim("Kevorkian was released on parole in June 2007.", [p]).supported
    assert check_claim("Kevorkian was released on parole in June 2005.", [p]).reason.startswith("dates:")


@pytest.mark.parametrize("evidence, kept, caught", [
    # a clock time is not a figure: "10am" and "28 people" cannot be swapped
    ("28 people were killed in a bombing outside the police building at 10am local time in Baghdad.",
     "A bombing outside the police building in Baghdad at 10am local time killed 28 people.",
     "A bombing outside the police building in Baghdad at 10am local time killed 18 people."),
    # nor can two counts of different things, whatever adjective comes between ("three consecutive quarters")
    ("The GDP has now fallen for three quarters in a row for the first time in almost forty years.",
     "For the first time in almost forty years, the GDP has now fallen for three consecutive quarters.",
     "For the first time in almost thirty years, the GDP has now fallen for three consecutive quarters."),
    # nor can a sum of money and a count
    ("Two of Canada's largest energy companies are merging, with Suncor making a CA$19.2 billion bid for Petro-Canada.",
     "Suncor made a CA$19.2 billion bid for Petro-Canada, merging two of Canada's largest energy companies.",
     "Suncor made a CA$21 billion bid for Petro-Canada, merging two of Canada's largest energy companies."),
])
def test_figures_of_different_things_keep_their_own_order(evidence: str, kept: str, caught: str) -> None:
    p = Passage("x", "x", "Figures", "2009-03-23", None, 0, len(evidence), evidence)
    assert check_claim(kept, [p]).supported, check_claim(kept, [p]).reason
    assert check_claim(caught, [p]).reason.startswith("numbers:")


def test_what_is_to_come_on_a_weekday_is_the_coming_one() -> None:
    text = "Gravel will be excluded from the debate that will be held this Tuesday at Drexel University."
    p = Passage("g", "g", "Gravel", "2007-10-29", None, 0, len(text), text)  # a Monday
    assert check_claim("Gravel will be excluded from the debate to be held on October 30, 2007 at Drexel University.",
                       [p]).supported
    assert check_claim("Gravel will be excluded from the debate to be held on October 23, 2007 at Drexel University.",
                       [p]).reason.startswith("dates:")


@pytest.mark.parametrize("evidence, kept", [
    # what someone has done to a thing ("have his GPA raised") is done to it: the GPA raises nothing
    ("Shriber was fired after he tried to hire hackers to have his GPA raised.",
     "Shriber was fired after he tried to hire hackers to raise his GPA."),
    # a name tied to a title in a relative clause ("who holds the Chair") is not tied to another by the paper it wrote in
    ("Michael Byers, who holds the Canada Research Chair at the University of British Columbia, revealed in Sunday's "
     "Toronto Star that he met a lawyer.",
     "In the Toronto Star, Michael Byers, Canada Research Chair at the University of British Columbia, revealed that he "
     "met a lawyer."),
])
def test_who_did_what_is_read_through_the_grammar(evidence: str, kept: str) -> None:
    p = Passage("r", "r", "Roles", "2006-07-17", None, 0, len(evidence), evidence)
    assert check_claim(kept, [p]).supported, check_claim(kept, [p]).reason


def test_a_month_naming_its_event_is_that_month() -> None:
    text = "Franken, who is running against Coleman in the November elections, condemned the attack."
    p = Passage("f", "f", "Franken", "2008-07-20", None, 0, len(text), text)
    assert check_claim("Franken, who is challenging Coleman in November's election, condemned the attack.", [p]).supported
    assert check_claim("Franken, who is challenging Coleman in October's election, condemned the attack.",
                       [p]).reason.startswith("dates:")


def test_a_compound_sentence_keeps_its_supported_clause() -> None:
    v = verify("Microsoft sued Google in a Seattle court, and Putin won 64 votes in Geneva [1].", [P])
    assert v.answer == "Microsoft sued Google in a Seattle court [1]." and len(v.citations) == 1
    assert v.dropped == ["Putin won 64 votes in Geneva."]
    # "England and Wales" joins two names, not two clauses: "Wales was Mr Justice Ramsey" is not a clause of it
    text = "Such an injunction was granted by Mr Justice Ramsey, who said the action in England and Wales was unlawful."
    p = Passage("j", "j", "Prison officers", "2007-08-30", None, 0, len(text), text)
    said = ("The High Court judge who granted the Ministry of Justice an injunction during the August strike in England "
            "and Wales was Mr Justice Ramsey.")  # its names are not all the passage's: the sentence fails as a whole
    assert verify(said + " [1]", [p]).answer == ""


def test_a_relative_date_repeated_from_the_question_is_not_rechecked_but_an_absolute_one_is() -> None:
    q = "Who was appointed Speaker yesterday?"
    assert check_claim("Margaret Wilson was appointed Speaker yesterday.", [P], q).supported
    assert not check_claim("Margaret Wilson was appointed Speaker in 2006.",
                           [P], "Who was appointed Speaker in 2006?").supported


def test_a_date_answer_is_carried_by_its_date_not_by_the_question_words() -> None:
    text = "At midday he made a speech that named 27 June 2007 as the date when he will step down as prime minister."
    p = Passage("c", "a", "Blair to resign", "2007-05-10", None, 0, len(text), text)
    q = "What date did Tony Blair give for his departure as British Prime Minister?"
    claim = "Blair gave the date of June 27 for his departure as prime minister."
    judge = CountingJudge()  # the claim restates the question's "departure", which the evidence words otherwise:
    v = check_claim(claim, [p], q, judge=judge)  # the date check passes, the judgement decides the rest
    assert v.supported and v.judged and judge.asked == [claim]
    assert not check_claim("Blair gave the date of July 27 for his departure as prime minister.", [p], q,
                           judge=judge).supported
    assert judge.asked == [claim]  # a wrong date is decided by its check, never judged


def test_an_answer_that_leans_on_the_question_words_is_judged() -> None:
    text = "The SNP's John Mason won the Glasgow East seat with 13,507 votes, against 12,142 for Labour's Margaret Curran."
    p = Passage("g", "a", "SNP wins Glasgow East by-election", "2008-07-25", None, 0, len(text), text)
    q = "What was the turnout in the Glasgow East by-election?"
    v = check_claim("The turnout in the Glasgow East by-election was 13,507 votes.", [p], q)
    assert not v.supported and v.reason.endswith("does not say 'turnout', which the question does)"), v.reason  # without a judgement, not shown
    assert check_claim("John Mason won the Glasgow East seat with 13,507 votes.", [p], q).supported  # its own words
    judge = CountingJudge()  # asked, the judgement decides (this one reads the claim's last word in the evidence)
    assert check_claim("The turnout in the Glasgow East by-election was 13,507 votes.", [p], q, judge=judge).supported
    assert judge.asked == ["The turnout in the Glasgow East by-election was 13,507 votes."]


def test_the_prompt_shows_what_a_relative_date_means_and_the_citation_stays_on_the_article() -> None:
    from rag.answering.answer import format_passages

    text = "Boeing's 787 made its first test flight Tuesday in Everett."
    p = Passage("c", "a", "787 flies", "2009-12-16", None, 0, len(text), text)
    assert "first test flight Tuesday (15 December 2009) in Everett" in format_passages([p])
    v = verify("The 787 made its first test flight on 15 December 2009 [1].", [p])
    assert v.citations and v.citations[0].text == text  # the span is the article's own words
    assert not verify("The 787 made its first test flight on 16 December 2009 [1].", [p]).citations


def test_a_passive_subject_is_not_what_a_negation_negates() -> None:
    text = "Foreign currencies may be used alongside the dollar, which will not be removed from circulation."
    p = Passage("c", "a", "Currencies", "2009-01-29", None, 0, len(text), text)
    assert check_claim("Foreign currencies may be used alongside the dollar.", [p]).supported
    assert not check_claim("The dollar will be removed from circulation.", [p]).supported


def test_what_a_claim_says_in_place_of_a_negated_word_is_the_judgements() -> None:
    text = "The local transit union was not involved in the strike, though striking workers picketed its offices."
    p = Passage("u", "a", "Strike", "2005-07-24", None, 0, len(text), text)
    v = check_claim("The local transit union took part in the strike.", [p])
    assert not v.supported and "negates 'involve'" in v.reason, v.reason  # "took part" may restate "involved"
    judge = CountingJudge()  # asked, the judgement decides (this one reads the claim's last word in the evidence)
    check_claim("The local transit union took part in the strike.", [p], judge=judge)
    assert judge.asked == ["The local transit union took part in the strike."]
    judge = CountingJudge()
    assert check_claim("Striking workers picketed the offices of the local transit union.", [p], judge=judge).supported
    assert judge.asked == []  # nothing said in place of the negated word: decided without the model
    assert not check_claim("The local transit union was involved in the strike.", [p]).supported  # the word itself


def test_a_denial_whose_object_the_parse_misses_negates_nothing_in_particular() -> None:
    text = "The US government has denied using torture at the base, officials in Washington said."
    p = Passage("d", "a", "Torture", "2006-05-19", None, 0, len(text), text)
    v = check_claim("Officials in Washington spoke about the base.", [p])  # "denied" with no word it negates
    assert v.verdict in ("supported", "unsupported"), v.reason


def test_a_person_named_by_surname_in_the_window_is_the_one_the_article_names_in_full() -> None:
    text = ("Opposition leader Morgan Tsvangirai signed the deal in Harare. Crowds cheered. Observers praised the "
            "talks. The deal means that Tsvangirai is now the Prime Minister of Zimbabwe.")
    p = Passage("z", "a", "Rivals sign power sharing deal", "2008-09-15", None, 0, len(text), text)
    assert check_claim("Morgan Tsvangirai is now the Prime Minister of Zimbabwe.", [p]).supported
    assert "Robert" in check_claim("Robert Tsvangirai is now the Prime Minister of Zimbabwe.", [p]).reason
    two = text.replace("Observers praised the talks.", "His brother Robert Tsvangirai praised the talks.")
    p = Passage("z", "a", "Rivals sign power sharing deal", "2008-09-15", None, 0, len(two), two)
    v = check_claim("Morgan Tsvangirai is now the Prime Minister of Zimbabwe.", [p])  # which Tsvangirai?
    assert not v.supported and "names" in v.reason, v.reason


def test_a_doer_by_its_initials_and_a_deed_by_its_noun_are_the_same() -> None:
    text = "As part of the restructure, GM plans to cut 30,000 jobs and close 12 plants by 2008."
    p = Passage("g", "a", "General Motors posts first annual loss since 1992", "2006-01-27", None, 0, len(text), text)
    v = check_claim("General Motors plans to cut 30,000 jobs.", [p])
    assert not v.reason.startswith("roles"), v.reason  # GM is General Motors, not another doer of "plan"
    assert check_claim("General Motors plans to cut 30,000 jobs.", [p], judge=CountingJudge()).supported
    assert check_claim("Ford plans to cut 30,000 jobs.", [p], judge=CountingJudge()).verdict != "supported"
    text = "This Wednesday, the United States issued a ruling to set tariffs on Chinese-made solar panels."
    p = Passage("t", "b", "US sets tariffs", "2012-10-12", None, 0, len(text), text)
    assert check_claim("The United States ruled to set tariffs on Chinese-made solar panels.", [p]).supported


@pytest.mark.parametrize(("evidence", "kept", "rejected"), [
    # a denial denied affirms: "does not deny X" is not "denies X"
    ("Iran does not deny the report, but said it received the documents on the black market.",
     "Iran does not deny the report.", "Iran denies the report."),
    # a negation on another predicate of the sentence ("was not clear") does not negate this one
    ("The cause was not immediately clear, though police say that a gas leak was responsible.",
     "Police say that a gas leak was responsible.", "Police say that a gas leak was not responsible."),
    # "none of the 29 men" negates the men whatever the parse attaches "none" to
    ("He told media a second explosion has occurred inside the Pike River Mine. He stated there is no possibility any of "
     "the 29 men still inside could have survived.",
     "He said a second explosion had occurred inside the Pike River Mine and none of the 29 men still inside could "
     "have survived.",
     "He said the 29 men still inside could have survived."),
    # "no longer" negates what follows it, parsed ("be accessible"), not the word "be"
    ("The home page and section front pages will continue to be freely accessible.",
     "The home page will continue to be freely accessible.", "The home page will no longer be freely accessible."),
    # "except for X" negates the predicate for X (the licensing), not every later mention of X
    ("The studio licensed all the other music in the film except for Dylan's song.",
     "The film used Dylan's song.", "The studio licensed Dylan's song for the film."),
    # "failure to" is "failing to" said as a noun
    ("The regulator fined the bank over its failure to report the losses.",
     "The regulator fined the bank for failing to report the losses.",
     "The regulator fined the bank for reporting the losses."),
    # "without having to" negates the clause it opens
    ("The update will not require restarting the phone, and installs in the background.",
     "The update installs in the background without the phone having to be restarted.",
     "The update installs in the background, and the phone has to be restarted."),
    # a privative verb ("dropped") takes away what the evidence negates ("no longer shows")
    ("The museum no longer shows the two paintings of the old collection.",
     "The museum dropped the two paintings of the old collection.",
     "The museum still shows the two paintings of the old collection."),
    # but a privative verb negated keeps what it would take away: "did not leave the party" is not "quit the party"
    ("The mayor did not leave the Labour party over the vote on the budget.",
     "The mayor did not quit the Labour party over the vote on the budget.",
     "The mayor quit the Labour party over the vote on the budget."),
    # one negation, parsed onto a verb on one side and onto its noun on the other: compared by stem
    ("A spokesman for the Stylo shoe chain said on Monday they did not anticipate any short-term improvement in sales.",
     "A spokesman for the Stylo shoe chain said on Monday they did not expect sales to improve in the short term.",
     "A spokesman for the Stylo shoe chain said on Monday they expected sales to improve in the short term."),
    # "failed to even send": the adverb is not what is negated, the sending is
    ("The minister failed to even send a deputy to the ceremony.",
     "The minister did not send a deputy to the ceremony.",
     "The minister sent a deputy to the ceremony."),
    # "unless X is halted" is "if X is not halted", whatever the parse attaches "unless" to
    ("The minister said another Israeli offensive against Hamas in the Gaza Strip was possible if the smuggling of "
     "weapons through tunnels under the strip is not halted.",
     "The minister said Israel could launch another offensive against Hamas in the Gaza Strip unless weapons smuggling "
     "through tunnels under the strip is halted.",
     "The minister said another offensive against Hamas in the Gaza Strip was possible if the smuggling of weapons "
     "through tunnels under the strip is halted."),
    # "failed to win the Greens' backing" negates the Greens' part, as "failed to convince the Greens" does
    ("The offer was increased as the vote approached but failed to convince the Greens to back the budget.",
     "The offer was increased as the vote approached but failed to win the Greens' backing for the budget.",
     "The offer was increased as the vote approached and convinced the Greens to back the budget."),
    # "the lack of X" is "without X"
    ("Without Apple's support, and with low attendance numbers, many had predicted the cancellation of the show.",
     "Many had predicted the cancellation of the show given the lack of Apple's support and low attendance numbers.",
     "Many had predicted the cancellation of the show given Apple's support and low attendance numbers."),
    # "not having to run two offices" negates the offices as well as the running
    ("The merger will save money by not having to run two separate offices.",
     "The merger will save money by not operating two separate offices.",
     "The merger will save money by running two separate offices."),
])
def test_polarity_reads_what_each_negation_negates(evidence: str, kept: str, rejected: str) -> None:
    p = Passage("n", "a", "Polarity", "2010-05-01", None, 0, len(evidence), evidence)
    assert check_claim(kept, [p]).supported, check_claim(kept, [p]).reason
    v = check_claim(rejected, [p])
    assert not v.supported and v.reason.startswith("polarity:"), v.reason


def test_a_month_repeated_from_the_question_is_dated_by_the_article_day_despite_history_in_the_window() -> None:
    text = "The SNP's John Mason won 11,277 votes in a seat Labour had held since 1922."
    p = Passage("g", "a", "SNP wins Glasgow East", "2008-07-25", None, 0, len(text), text)
    q = "How many votes did John Mason win in the Glasgow East by-election of July 2008?"
    assert check_claim("John Mason won 11,277 votes in the by-election of July 2008.", [p], q).supported
    v = check_claim("John Mason won 11,277 votes in the by-election of June 2008.", [p], q)  # not the article's
    assert not v.supported and v.reason.startswith("dates:"), v.reason
    v = check_claim("John Mason won 11,277 votes in July 2008.", [p])  # not asked: the window's 1922 stands
    assert not v.supported and v.reason.startswith("dates:"), v.reason


def test_a_figure_of_other_named_things_is_not_the_claims_without_the_judgement() -> None:
    text = ("In August, British Airways and Korean Air pled guilty and received fines of US$300 million each. "
            "The airline itself paid a US$61 million fine.")
    p = Passage("q", "a", "Ex-head of Qantas freight operations jailed for price fixing", "2008-10-01", None, 0,
                len(text), text)
    v = check_claim("Qantas paid a US$300 million fine.", [p])
    assert not v.supported, v.reason  # BA's and Korean Air's figure; only the judgement could still keep it
    assert check_claim("Qantas paid a US$61 million fine.", [p]).supported  # "the airline": no other name
    assert check_claim("British Airways received a fine of US$300 million.", [p]).supported






@pytest.mark.parametrize(("evidence", "kept", "caught", "verdict", "reason"), [
    (("The House on July 23 passed the bill with a final vote of 272 in favor and 152 against. "
      "The final vote in the Senate was 72 in favor and 13 against."),
     "The House passed the bill by 272 votes to 152, and the Senate by 72 to 13.",
     "The House passed the bill by 72 votes to 13, and the Senate by 272 to 152.",  # figures swapped across sentences
     "contradicted", "swapped"),
    (("Scaramucci contacted Lizza after the dinner. In the phone call, he demanded Lizza reveal who leaked "
      "the details of the dinner."),
     "Scaramucci demanded that Lizza reveal who leaked the details of the dinner.",
     "In the phone call, Lizza demanded that Scaramucci reveal who had leaked the details.",  # done-to as the doer
     "", "roles"),
    (("Los Angeles International Airport briefly was affected but generators engaged shortly thereafter. "
      "No flights were delayed or cancelled."),
     "Los Angeles International Airport was briefly affected.",
     "Los Angeles International Airport was briefly affected, and flights were delayed.",  # negated next door
     "contradicted", "negates"),
    (('Israel has said it is investigating the shootings "at the most senior level." Egypt has said little '
      "so far."),
     "Israel said it is investigating the shootings at the most senior level.",
     "Egypt has said it is investigating the shootings at the most senior level, while Israel has said little "
     "so far.",  # what is said of one name said of the other
     "contradicted", "other way round"),
    (("The Democrats are projected to win five of the six seats they need. In the key race in Virginia, the "
      "Republican incumbent was asked to concede by Senator Charles Schumer."),
     "The Democrats are projected to win five of the six seats they need.",
     "Senator Charles Schumer won five of the six seats he needed.",  # "to win": done by the subject of "are projected"
     "contradicted", "did 'win'"),
])
def test_who_did_what_across_the_sentences_of_a_window(evidence: str, kept: str, caught: str, verdict: str,
                                                      reason: str) -> None:
    """Each pair: the claim the window supports is kept; the one that moves a doer, a figure or a negation
    between its sentences is caught (with this verdict, when one is given, and a reason naming the check)."""
    p = Passage("w#0", "w", "News", "2008-07-27", None, 0, len(evidence), evidence)
    assert check_claim(kept, [p]).supported, check_claim(kept, [p]).reason
    v = check_claim(caught, [p])
    assert not v.supported and reason in v.reason and v.verdict == (verdict or v.verdict), v.reason


def test_a_company_is_named_with_or_without_its_legal_form_and_by_its_initials() -> None:
    text = ("Statoil ASA has agreed to buy North American Oil Sands Corporation (NAOSC) for CAD2.2 billion. "
            "Shareholders of Paramount Resources voted to sell its 30.9% interest in NAOSC to Statoil.")
    p = Passage("n#0", "n", "Norway purchases Canadian oil sands company", "2007-04-30", None, text.index("Share"),
                len(text), text[text.index("Share"):])
    q = "What stake in North American Oil Sands did Paramount Resources agree to sell to Statoil?"
    assert check_claim("Paramount Resources agreed to sell its 30.9% interest in North American Oil Sands.", [p], q).supported
    assert check_claim("Paramount Resources Ltd. sold its 30.9% stake in NAOSC to Statoil ASA.", [p]).supported
    v = check_claim("Paramount Resources agreed to sell its 30.9% interest in North American Oil Sands.", [p])
    assert not v.supported and "names" in v.reason  # not asked: the window itself must name it


def test_a_name_with_a_plurals_possessive_is_one_name_and_its_initials_ground_it() -> None:
    from rag.answering.decompose import question_names

    q = "Which judge granted the ministry an injunction against the Prison Officers' Association in August 2007?"
    assert "prison officers association" in question_names(q)  # not 'prison officers' and 'association'
    text = "Mr Justice Ramsey granted the injunction against the POA, which had called the strike."
    p = Passage("j#0", "j", "Prison officers strike in England", "2007-08-29", None, 0, len(text), text)
    # the question's name, repeated by the answer, is grounded by its initials anywhere in the article
    assert check_claim("The Prison Officers' Association had called the strike.", [p], q).supported
    assert not check_claim("The Prison Officers' Federation had called the strike.", [p], q).supported


@pytest.mark.parametrize(("claim", "supported"), [
    ("Judge Lowe decided to keep the order in place.", True),  # Lowe in the window, a judge in the article
    ("Senator Lowe decided to keep the order in place.", False),  # no senator anywhere
    ("Judge Smith decided to keep the order in place.", False),  # the name after the title must be grounded
])
def test_a_title_before_a_name_is_grounded_in_the_article_and_the_name_in_the_window(claim: str,
                                                                                   supported: bool) -> None:
    text = "A New York judge ruled on Friday. At the end of the hearing Lowe decided to keep the order in place."
    s = text.index("At the end")
    p = Passage("l#0", "l", "Film injunction stays", "2008-05-03", None, s, len(text), text[s:])
    v = check_claim(claim, [p], articles={"l": text})
    assert v.supported is supported and (supported or "names" in v.reason), v.reason


def test_a_hyphenated_name_of_the_question_repeated_by_the_answer_is_the_questions() -> None:
    article = ("An opinion poll conducted by CID group and Gallup shows Preval ahead. The poll surveyed the opinions "
               "of 1,200 people, and 32 percent said they favored Preval.")
    s = article.index("The poll")
    p = Passage("h#0", "h", "Preval leading Haitian election", "2005-12-08", None, s, len(article), article[s:])
    claim = "In the CID-Gallup poll, 32 percent of 1,200 people favored Preval."
    v = check_claim(claim, [p], "What share favored Preval in the CID-Gallup poll?", articles={"h": article})
    assert "names" not in v.reason, v.reason  # CID and Gallup, named apart by the article, as the question asks
    v = check_claim(claim, [p], articles={"h": article})
    assert not v.supported and "names" in v.reason  # not asked: the window itself must name them


def test_a_questions_name_closing_a_sentence_of_the_article_is_grounded_there() -> None:
    article = ("The vote to lower the limit to twenty weeks was defeated by 332 votes to 190. A vote on twelve weeks "
               "also failed to pass through the House of Commons.")
    end = article.index(" A vote")
    p = Passage("u#0", "u", "UK MPs vote not to lower abortion limit", "2008-05-21", None, 0, end, article[:end])
    q = "What was the vote when the UK House of Commons rejected lowering the abortion time limit to 20 weeks?"
    claim = "The House of Commons defeated the twenty-week limit by 332 votes to 190."
    v = check_claim(claim, [p], q, articles={"u": article})
    assert "names" not in v.reason, v.reason  # "Commons." at the article's last full stop names it
    v = check_claim(claim, [p], q, articles={"u": article.replace("House of Commons", "chamber")})
    assert not v.supported and "names" in v.reason






@pytest.mark.parametrize(("evidence", "claim"), [
    ("A Google spokesperson said the company is co-operating with French authorities.",
     "A Google spokesperson said the company is refusing to co-operate with French authorities."),  # any inflection
    ("The council said it is failing to meet its targets.", "The council said it met its targets."),
])
def test_negating_phrases_are_read_in_every_inflection(evidence: str, claim: str) -> None:
    p = Passage("g#0", "g", "News", "2010-01-01", None, 0, len(evidence), evidence)
    v = check_claim(claim, [p])
    assert v.verdict == "contradicted" and "polarity" in v.reason, v.reason


def test_last_night_is_the_day_before_the_article() -> None:
    text = "Alexander Litvinenko, a former Russian spy, died last night in mysterious circumstances."
    p = Passage("a#0", "a", "Former spy dies", "2006-11-24", None, 0, len(text), text)
    assert check_claim("Alexander Litvinenko died on 23 November 2006.", [p]).supported
    assert not check_claim("Alexander Litvinenko died on 24 November 2006.", [p]).supported


def test_a_year_repeated_from_the_question_does_not_override_the_year_its_figure_is_given_with() -> None:
    text = ("Americans are spending more than they are earning. The Commerce Department released a report saying "
            "that personal savings fell to a negative 0.5% in 2005.")
    p = Passage("s#0", "s", "US savings rate negative", "2006-02-01", None, 0, len(text), text)
    q = "What was the US personal savings rate for 2006?"
    v = check_claim("The US personal savings rate for 2006 was -0.5%.", [p], q)
    assert not v.supported and "dates" in v.reason, v.reason
    assert check_claim("The US personal savings rate fell to -0.5% in 2005, the Commerce Department said.", [p],
                       q).supported


def test_the_real_judgement_reads_the_models_yes_as_a_probability(local_llm: object) -> None:
    """The embedded model's one-word reply, read from its log probabilities: a restatement of the evidence
    scores high, a claim it contradicts low; the probability is what the judgement keeps (cut-off judge_yes)."""
    judge = Judge(local_llm, "test-model")  # type: ignore[arg-type]
    evidence = "Margaret Wilson was appointed as Speaker of the House of Representatives on Tuesday."
    assert judge("Wilson became the Speaker of the House.", evidence, "2005-03-10", "New Zealand gets first female Speaker")
    high = judge.last
    assert not judge("Wilson was not appointed Speaker.", evidence, "2005-03-10", "New Zealand gets first female Speaker")
    assert high is not None and judge.last is not None and 0.0 <= judge.last < 0.5 <= high <= 1.0


def test_the_real_judgement_says_a_firm_no_to_a_negation_the_checks_miss(local_llm: object) -> None:
    """The embedded model, asked of a sentence every check passes: the opposite of the evidence in other words is
    made unsupported by its no; the evidence restated is kept."""
    judge = Judge(local_llm, "test-model")  # type: ignore[arg-type]
    text = "The referendum was declared null and void due to a low turnout."
    p = Passage("r", "r", "Referendum fails", "2005-06-01", None, 0, len(text), text)
    v = check_claim("The referendum was declared valid despite a low turnout.", [p], judge=judge)
    assert not v.supported and v.judged, v.reason
    assert check_claim("Because of low turnout, the referendum was declared null and void.", [p], judge=judge).supported


def test_the_day_a_question_names_may_be_its_articles_own_day_when_the_window_dates_nothing() -> None:
    text = "Ryanair's share price plunged by 10% on the same day due to the London bombings that morning."
    q = "By how much did Ryanair's share price fall on 7 July 2005?"
    claim = "Ryanair's share price plunged by 10% on 7 July 2005."
    same_day = Passage("r", "a", "Ryanair to fly from Shannon", "2005-07-07", None, 0, len(text), text)
    later = Passage("r", "a", "Ryanair to fly from Shannon", "2005-07-09", None, 0, len(text), text)
    assert check_claim(claim, [same_day], q).supported
    assert not check_claim(claim, [later], q).supported  # an article of another day
    assert not check_claim(claim, [same_day]).supported  # a date the claim brings itself is checked as ever
    dated = "Ryanair's share price plunged by 10% on Friday."
    p = Passage("r", "a", "Ryanair to fly from Shannon", "2005-07-07", None, 0, len(dated), dated)
    assert not check_claim(claim, [p], q).supported  # the window's own date (1 July) decides


def test_the_questions_premise_copied_into_an_answer_is_neither_checked_nor_shown() -> None:
    text = "Ryanair's share price plunged by 10% on the same day due to the London bombings that morning."
    p = Passage("r", "a", "Ryanair shares fall", "2005-07-07", None, 0, len(text), text)
    q = "By how much did Ryanair's share price fall on 7 July 2005, the day it announced new routes from Shannon Airport?"
    premise = ", the day it announced new routes from Shannon Airport [1]."
    judge = CountingJudge()
    v = verify("Ryanair's share price plunged by 10% on 7 July 2005" + premise, [p], q, judge=judge)
    assert v.answer == "Ryanair's share price plunged by 10% [1]." and v.citations[0].text == text
    assert judge.asked == ["Ryanair's share price plunged by 10%."]  # a rescued sentence needs the judgement
    assert verify("Ryanair's share price plunged by 10% on 7 July 2005" + premise, [p], q).answer == ""
    assert check_claim("Ryanair's share price plunged by 10% on 7 July 2005" + premise, [p], q).reason.startswith(
        "names:")  # the whole sentence, premise included, is not what the passage says
    v = verify("Ryanair's share price plunged by 20% on 7 July 2005" + premise, [p], q, judge=judge)
    assert v.answer == "" and v.dropped  # the answer's own part is checked as ever


def test_the_judgement_reads_the_questions_premise_where_the_article_gives_it_beside_the_window() -> None:
    """An answer restating the question ("Enbridge owns the pipeline whose explosion killed two workers") over a
    window that gives only the answer ("Enbridge, the company that owns the line"): the judgement reads the
    article's sentences that give the premise beside the window; a premise the article never gives is not made up."""
    first = "Enbridge, the Canadian company that owns the pipeline, said the repairs would take a week."
    later = " Crude prices rose on the news. The explosion at Clearbrook killed two contract workers on Wednesday."
    p = Passage("e#0", "e", "Pipeline blast in Minnesota", "2007-11-30", None, 0, len(first), first)
    q = "Which company owns the crude oil pipeline whose explosion at Clearbrook killed two contract workers?"
    claim = "Enbridge owns the pipeline whose explosion at Clearbrook killed two contract workers."

    class Reads(CountingJudge):  # YES when the evidence holds every word of six letters or more of the claim
        def probability(self, claim: str, evidence: str, published: str | None, title: str = "") -> float | None:
            self.asked.append(evidence)
            return 1.0 if all(w in evidence.lower() for w in re.findall(r"[a-z]{6,}", claim.lower())) else 0.0

    judge = Reads()
    v = check_claim(claim, [p], q, judge, articles={"e": first + later})
    assert v.supported and (v.start, v.end) == (0, len(first))  # cited by the window that gives the answer
    assert judge.asked[0] == first and "premise" in v.reason  # the window alone first, then beside the premise
    assert "The explosion at Clearbrook killed two contract workers" in judge.asked[1]
    assert not check_claim(claim, [p], q, Reads(), articles={"e": first + " Crude prices rose."}).supported
    assert not check_claim(claim, [p], q, Reads()).supported  # no article: the window alone, as before


def test_a_name_the_question_uses_may_be_found_anywhere_in_the_cited_article() -> None:
    """Sentence-sized evidence rarely repeats the question's premise ("the temple in Kerala"): a name the
    question uses is looked for in the whole article; a name the answer adds must be in the evidence itself."""
    article = ("Officials in Kerala, India, have begun an inventory of a temple's vaults in Thiruvananthapuram. "
               "The treasure of the Sree Padmanabhaswamy Temple is now estimated at US$20 billion.")
    start = article.index("The treasure")
    p = Passage("t", "k", "Temple treasure grows", "2011-07-05", None, start, len(article), article[start:])
    q = "Which temple in Kerala holds treasure estimated at US$20 billion?"
    claim = "The Sree Padmanabhaswamy Temple in Kerala holds treasure estimated at US$20 billion [1]."
    kept = verify(claim, [p], q, articles={"k": article})
    assert kept.answer == claim and kept.citations[0].text == article[start:]
    alone = verify(claim, [p], q)  # the passage alone never names Kerala
    assert alone.answer == "" and alone.reasons[0] == "names: the evidence does not name 'Kerala'"
    added = verify("The Sree Padmanabhaswamy Temple in Thiruvananthapuram holds treasure estimated at US$20 billion [1].",
                   [p], q, articles={"k": article})
    assert added.answer == "" and "Thiruvananthapuram" in added.reasons[0]  # the answer's own name: evidence only


def test_figures_of_different_things_may_come_in_any_order_but_counts_of_one_thing_may_not_swap() -> None:
    text = "Two workers were killed in the Los Reyes mine, located 65 kilometres east of Copiapo, on Monday."
    p = Passage("m", "a", "Two die in Chilean mine", "2010-11-09", None, 0, len(text), text)
    v = check_claim("The Los Reyes mine, 65 kilometres east of Copiapo, is where two workers were killed.", [p])
    assert v.supported, v.reason
    text = "The House passed the bill by 272 votes to 152 on Friday."
    p = Passage("h", "b", "House passes bill", "2008-10-03", None, 0, len(text), text)
    v = check_claim("The House passed the bill by 152 votes to 272 on Friday.", [p])
    assert not v.supported and v.reason.startswith("numbers:") and "swapped" in v.reason


def test_a_compound_name_whose_parts_the_evidence_writes_apart_is_grounded() -> None:
    text = "The alliance of the JD(U) and the BJP has won 143 of 243 seats in the Bihar assembly elections."
    p = Passage("b", "a", "Nitish Kumar's alliance wins Bihar", "2005-11-22", None, 0, len(text), text)
    v = check_claim("The JD(U)-BJP alliance won 143 of 243 seats in Bihar.", [p])
    assert v.supported, v.reason
    v = check_claim("The JD(U)-RJD alliance won 143 of 243 seats in Bihar.", [p])
    assert not v.supported and v.reason.startswith("names:"), v.reason


def test_a_part_and_its_whole_or_a_figure_given_twice_is_not_a_swap() -> None:
    """The order check compares two figures each given once: "29 of the 30" restates "Of the 30 stocks, 29", and a
    figure the evidence gives twice ("the 3 GB plan ... 2 of the 3 GB") has no one place; a swap is still a swap."""
    text = "Of the 30 stocks that make up the Dow Jones Industrials, 29 of them closed down for the day."
    p = Passage("d", "d", "Dow falls", "2006-06-01", None, 0, len(text), text)
    assert check_claim("29 of the 30 Dow Jones Industrials stocks closed down for the day.", [p]).supported
    text = "Of the 3 GB plan, the ad said 2 of the 3 GB could only be used at night."
    p = Passage("g", "g", "Ad censured", "2006-06-01", None, 0, len(text), text)
    assert check_claim("The ad said the 3 GB plan's 2 of the 3 GB could only be used at night.", [p]).supported
    v = check_claim("The A380 had 66 people on board, and the smaller plane had 520.", [P])
    assert not v.supported and "swapped" in v.reason, v.reason


def test_the_questions_own_figures_may_be_repeated_from_anywhere_in_the_article() -> None:
    """As the question's names: "Channel 4" and "22 Boeing 787 Dreamliners" restated from the question are its
    premise, found in the article though not in the answering window; a figure neither gives is still checked."""
    article = ("Aeroflot agreed on Monday to buy 22 Boeing 787 Dreamliners. Aeroflot said the Boeing order had a list "
               "price of US$3.5 billion.")
    start = article.index("Aeroflot said")
    p = Passage("a", "a", "Aeroflot buys Dreamliners", "2007-06-19", None, start, len(article), article[start:])
    q = "What list-price value was put on the 22 Boeing 787 Dreamliners that Aeroflot agreed to buy?"
    claim = "The 22 Boeing 787 Dreamliners had a list price of US$3.5 billion."
    assert not check_claim(claim, [p], q).supported  # the window alone does not give 22 or 787
    assert check_claim(claim, [p], q, articles={"a": article}).supported
    v = check_claim("The 24 Boeing 787 Dreamliners had a list price of US$3.5 billion.", [p], q, articles={"a": article})
    assert not v.supported and "numbers" in v.reason, v.reason


def test_a_currency_code_is_grounded_by_its_letters() -> None:
    text = "Pay rises of about 4% mean a backbench MP will now earn around NZ$ 122,500."
    p = Passage("m", "m", "MPs get pay rise", "2006-11-30", None, 0, len(text), text)
    assert check_claim("A backbench MP will now earn around NZ$ 122,500.", [p]).supported


def test_a_heading_glued_to_the_lead_is_not_read_as_its_subject() -> None:
    text = ("United States infobox A Texas man and Mexican national, Jose Ruiz, was charged on May 2 with smuggling "
            "weapons across the border.")
    p = Passage("k", "a", "Texas man charged", "2007-05-04", None, 0, len(text), text)
    v = check_claim("Jose Ruiz, a Texas man and Mexican national, was charged on May 2 with smuggling weapons.", [p])
    assert v.supported, v.reason
    text = "Spain The Spanish police arrested Juan Lopez on Friday in Madrid."
    p = Passage("s", "a", "Arrest in Madrid", "2007-05-04", None, 0, len(text), text)
    v = check_claim("Juan Lopez arrested the Spanish police on Friday in Madrid.", [p])
    assert not v.supported and v.reason.startswith("roles:"), v.reason
    text = "Swedish truck maker and exporter Volvo said on Monday that it would cut 500 jobs at its plant in Gothenburg."
    p = Passage("v", "a", "Volvo cuts jobs", "2007-05-04", None, 0, len(text), text)
    v = check_claim("Volvo said on Monday that it would cut 500 jobs at its Gothenburg plant.", [p])
    assert v.supported, v.reason  # the doer joined by "and" to the subject's head said it


def test_names_in_one_phrase_are_tied_together() -> None:
    text = "Germany A German engineer, Klaus Meyer, was arrested on Friday in Munich for selling secrets to a rival."
    p = Passage("g", "a", "Engineer arrested", "2007-05-04", None, 0, len(text), text)
    v = check_claim("Klaus Meyer, a German engineer, was arrested in Munich for selling secrets to a rival.", [p])
    assert v.supported, v.reason
    text = ("The WHO's chief scientist, Soumya Patel, praised both Kenya and Uganda for reporting the outbreak early, "
            "calling their response \"exemplary\".")
    p = Passage("w", "a", "WHO praises outbreak response", "2007-05-02", None, 0, len(text), text)
    v = check_claim("Soumya Patel, the WHO's chief scientist, praised Kenya and Uganda for reporting the outbreak early.", [p])
    assert v.supported, v.reason


def test_what_the_evidence_says_of_another_named_doer_is_not_the_claims_doers() -> None:
    text = ("Mayor Anne Roth said the new bridge would open in June and cost 40 million euros. "
            "Councillor Paul Weber said he would vote against the budget.")
    p = Passage("b", "a", "Bridge to open in June", "2007-02-01", None, 0, len(text), text)
    v = check_claim("Councillor Paul Weber said the new bridge would open in June and cost 40 million euros.", [p])
    assert not v.supported and "another sentence" in v.reason, v.reason
    v = check_claim("Anne Roth said the new bridge would open in June and cost 40 million euros.", [p])
    assert v.supported, v.reason
    text = "Mayor Anne Roth spoke on Tuesday. She said the new bridge would open in June and cost 40 million euros."
    p = Passage("c", "a", "Bridge to open in June", "2007-02-01", None, 0, len(text), text)
    v = check_claim("Anne Roth said the new bridge would open in June and cost 40 million euros.", [p])
    assert v.supported, v.reason  # "She said": a sentence naming no doer may speak of the claim's


def test_a_rejection_said_in_the_passive_or_with_a_phrasal_verb_keeps_its_polarity() -> None:
    text = "About 64% of voters in the canton rejected the new tax on Sunday."
    p = Passage("t", "a", "Canton rejects tax", "2007-06-18", None, 0, len(text), text)
    for claim in ("The new tax was rejected by about 64% of voters in the canton on Sunday.",
                  "The new tax was turned down by about 64% of the canton's voters on Sunday."):
        v = check_claim(claim, [p])
        assert v.supported, (claim, v.reason)
    v = check_claim("The new tax was approved by about 64% of voters in the canton on Sunday.", [p])
    assert not v.supported and v.reason.startswith("polarity:"), v.reason


def test_an_opposite_under_a_negation_says_the_same() -> None:
    text = "Neither the mayor nor his deputy were present at Monday's council meeting."
    p = Passage("n", "a", "Council meets", "2007-06-19", None, 0, len(text), text)
    v = check_claim("The mayor and his deputy were absent from Monday's council meeting.", [p])
    assert v.supported, v.reason
    v = check_claim("The mayor and his deputy were present at Monday's council meeting.", [p])
    assert not v.supported and v.reason.startswith("polarity:"), v.reason


def test_the_doer_and_the_done_to_turned_round_under_another_verb_is_a_role_swap() -> None:
    text = "In the third quarter Nokia overtook the smaller maker Motorola in sales of smartphones."
    p = Passage("n", "a", "Nokia ahead", "2007-10-19", None, 0, len(text), text)
    v = check_claim("Motorola surpassed Nokia in smartphone sales in the third quarter.", [p])
    assert not v.supported and v.reason.startswith("roles:"), v.reason
    v = check_claim("Nokia surpassed Motorola in smartphone sales in the third quarter.", [p])
    assert "other way round" not in v.reason, v.reason
    text = "Spain beat Germany 1-0 in the final in Vienna on Sunday."
    p = Passage("s", "a", "Spain win", "2008-06-30", None, 0, len(text), text)
    v = check_claim("Germany lost to Spain 1-0 in the final in Vienna on Sunday.", [p])
    assert "other way round" not in v.reason, v.reason  # a converse (polarity.toml) turns them round rightly


def test_each_passive_subject_of_a_verb_is_done_to() -> None:
    """The parse gives this sentence two passive subjects of "arrested" (Hale and Moss): each was arrested,
    though the verb's one (doer, done-to) triple names only the last."""
    text = ("The governor of Illinois in the United States, Rod Hale, 51, along with his chief of staff John Moss, 46, "
            "were arrested Tuesday morning by the FBI on federal corruption charges.")
    p = Passage("a", "a", "Governor arrested", "2009-03-03", None, 0, len(text), text)
    for claim in ("Illinois governor Rod Hale and his chief of staff John Moss were arrested by the FBI on Tuesday.",
                  "Rod Hale was arrested by the FBI on Tuesday morning."):
        v = check_claim(claim, [p])
        assert v.supported, (claim, v.reason)
    v = check_claim("The FBI was arrested by Rod Hale on Tuesday morning.", [p])
    assert not v.supported and v.reason.startswith("roles:"), v.reason


def test_fiscal_quarters_named_together_are_times_not_figures() -> None:
    text = ("The economy shrank by 0.3% in the third quarter of 2009. It had also shrunk by 0.3% in the second "
            "quarter.")
    p = Passage("q", "a", "Recession", "2009-11-14", None, 0, len(text), text)
    v = check_claim("The economy shrank by 0.3% in both the second and third quarters of 2009.", [p])
    assert v.supported, v.reason
    v = check_claim("The economy shrank by 0.5% in both the second and third quarters of 2009.", [p])
    assert not v.supported and v.reason.startswith("numbers:"), v.reason


def test_a_doer_named_by_the_initials_its_evidence_spells_out_is_the_same_doer() -> None:
    """The parse makes the doer of "The Liberation Tigers of Tamil Eelam (LTTE) bombed..." 'liberation tigers':
    the initials are those of the name as the evidence writes it in full, not of the parse's head alone."""
    text = "The Liberation Tigers of Tamil Eelam (LTTE) bombed the capital using two light aircraft on Friday."
    p = Passage("l", "a", "Rebels bomb capital", "2009-02-21", None, 0, len(text), text)
    v = check_claim("The LTTE bombed the capital using two light aircraft on Friday.", [p])
    assert v.supported, v.reason
    text = "The Liberation Tigers of Tamil Eelam (LTTE) said the Sri Lanka Army had bombed the town of Puthukkudiyiruppu."
    p = Passage("m", "a", "Town bombed", "2009-02-21", None, 0, len(text), text)
    v = check_claim("The LTTE had bombed the town of Puthukkudiyiruppu.", [p])
    assert not v.supported and v.reason.startswith("roles:"), v.reason


def test_a_figure_the_window_gives_the_claims_doer_is_not_the_other_doers_deed_of_the_same_verb() -> None:
    text = ("The electoral council's latest report gives President Ana Lopez the victory with 58.2% of the votes "
            "counted. Her rival, Marco Diaz, received 40.1%.")
    p = Passage("o", "a", "Lopez re-elected", "2006-12-04", None, 0, len(text), text)
    from rag.verify import _assess

    # the window of both sentences too (the one a longer claim needs): Diaz's "received" is not Lopez's figure
    both = [v for v in _assess("Ana Lopez received 58.2% of the votes counted.", p, "", set())
            if "Diaz" in v.evidence and "58.2" in v.evidence]
    assert both and all(v.supported for v in both), [v.reason for v in both]
    v = check_claim("Ana Lopez received 40.1% of the votes counted.", [p])
    assert not v.supported and v.reason.startswith("roles:"), v.reason


def test_a_figure_with_two_decimals_is_a_number_not_a_clock_time() -> None:
    text = "Official results gave the president 61.35% of the vote and his rival 38.39%, with 10.35 GMT the count's end."
    p = Passage("d", "a", "Results", "2006-12-04", None, 0, len(text), text)
    assert check_claim("Official results gave the president 61.35% of the vote.", [p]).supported
    v = check_claim("Official results gave the president 62.35% of the vote.", [p])
    assert not v.supported and v.reason.startswith("numbers:"), v.reason


def test_yet_to_and_an_exception_negate_what_follows_and_high_is_the_opposite_of_low() -> None:
    text = "Local officials have yet to confirm the death toll given by the Red Cross."
    p = Passage("y", "a", "Floods", "2007-08-02", None, 0, len(text), text)
    v = check_claim("Local officials have confirmed the death toll given by the Red Cross.", [p])
    assert not v.supported and v.reason.startswith("polarity:"), v.reason
    v = check_claim("The Red Cross's death toll has not yet been confirmed by local officials.", [p])
    assert not v.reason.startswith("polarity:"), v.reason
    text = "All the member states, with the exception of Malta, signed the treaty in Lisbon."
    p = Passage("e", "a", "Treaty signed", "2007-12-14", None, 0, len(text), text)
    v = check_claim("Malta signed the treaty in Lisbon with the other member states.", [p])
    assert not v.supported and v.reason.startswith("polarity:"), v.reason
    text = "The turnout of 38% was the lowest on record."
    p = Passage("t", "a", "Low turnout", "2007-05-07", None, 0, len(text), text)
    v = check_claim("The 38% turnout was the highest on record.", [p])
    assert not v.supported and v.reason.startswith("polarity:"), v.reason


def test_a_negation_the_question_makes_is_left_to_the_judgement_not_called_a_contradiction() -> None:
    text = "Moscow dismissed the European version, with Kremlin aide Yuri Ushakov calling it unconstructive."
    p = Passage("u", "a", "Moscow dismisses plan", "2025-11-25", None, 0, len(text), text)
    claim = "Yuri Ushakov rejected the European counter-proposal."
    v = check_claim(claim, [p], "Which Kremlin aide rejected the European counter-proposal?")
    assert v.verdict == "unsupported" and "as the question does" in v.reason, v.reason
    v = check_claim(claim, [p])  # no question: the claim's own negation over evidence without one
    assert v.verdict == "contradicted" and v.reason.startswith("polarity:"), v.reason


def test_a_date_added_to_the_questions_words_needs_the_questions_event_in_its_window() -> None:
    text = "Prisoner John Baker was sentenced Friday by a military court after pleading guilty to fraud."
    p = Passage("b", "a", "Prisoner sentenced", "2007-04-01", None, 0, len(text), text)
    v = check_claim("John Baker was released from prison on 30 March 2007.", [p],
                    "On what date was John Baker released from prison?")
    assert not v.supported and "'release'" in v.reason, v.reason  # the judgement's to decide, not the checks'
    v = check_claim("John Baker was sentenced on 30 March 2007.", [p], "On what date was John Baker sentenced?")
    assert v.supported, v.reason


def test_words_that_only_look_prefixed_support_verbs_and_hyphenated_ages_are_no_contradiction() -> None:
    text = "Raiders under the guise of traders entered the port. Acme had a loss of $300, whereas Zenith made $2bn."
    p = Passage("g", "a", "Port raid", "2009-03-02", None, 0, len(text), text)
    assert check_claim("Raiders in the disguise of traders entered the port.", [p]).reason.split(":")[0] != "polarity"
    v = check_claim("Acme made a loss of $300, while Zenith made $2bn.", [p])
    assert v.supported, v.reason  # "made a loss" says what "had a loss" says
    v = check_claim("Acme made $2bn.", [p])
    assert not v.supported and v.reason.startswith("roles:"), v.reason
    text = "In June the 300-year-old oak was cut down with up to 12 chainsaws."
    p = Passage("o", "a", "Oak felled", "2009-07-02", None, 0, len(text), text)
    v = check_claim("In June, as many as 12 chainsaws were used to cut down the 300-year-old oak.", [p])
    assert not v.reason.startswith("numbers:"), v.reason  # an age and a count are not swapped figures


def test_an_amount_is_not_a_name_and_this_day_last_year_is_a_date() -> None:
    text = "Tickets cost NZ$ 40-$60 for the ferry."
    p = Passage("n", "a", "Ferry fares", "2010-01-05", None, 0, len(text), text)
    v = check_claim("Ferry tickets cost NZ$40-$60.", [p])
    assert not v.reason.startswith("names:"), v.reason
    text = "On this day last year, floods closed the main bridge in Dresden."
    p = Passage("d", "a", "Floods remembered", "2006-08-14", None, 0, len(text), text)
    assert check_claim("Floods closed the main bridge in Dresden on 14 August 2005.", [p]).supported
    v = check_claim("Floods closed the main bridge in Dresden on 12 August 2005.", [p])
    assert v.reason.startswith("dates:"), v.reason


@pytest.mark.parametrize(("evidence", "claim"), [
    ("The coalition won 31% of the seats, short of a majority.", "The coalition won a majority with 31% of the seats."),
    ("The council called it a budget rather than a tax.", "The council called it a tax."),
    ("The club signed Ortega instead of the Brazilian striker.", "The club signed the Brazilian striker."),
])
def test_rather_than_instead_of_and_short_of_negate_what_follows(evidence: str, claim: str) -> None:
    p = Passage("r", "a", "Vote", "2008-05-02", None, 0, len(evidence), evidence)
    v = check_claim(claim, [p])
    assert not v.supported and v.reason.startswith("polarity:"), v.reason


def test_names_turned_round_that_read_better_to_the_judgement_make_a_role_swap() -> None:
    """The contrast (rag.verify.contrast): a claim that keeps every word of its evidence with two names swapped
    passes the checks; the judgement, asked of the claim and of it turned round, reads the turned-round one as
    better supported, so the claim is unsupported. The judge here scores a claim by whether its names come in
    the evidence's order; the claim that has them right is kept, and out of budget the checks stand."""
    text = "The contract was signed by Finance Minister Maria Costa and Transport Minister Joao Ferreira in Lisbon."
    p = Passage("c", "c", "Contract signed", "2008-04-02", None, 0, len(text), text)

    class Orders(CountingJudge):
        def probability(self, claim: str, evidence: str, published: str | None, title: str = "") -> float | None:
            self.asked.append(claim)
            return 0.9 if claim.find("Costa") < claim.find("Ferreira") else 0.6

    swapped = "The contract was signed in Lisbon by Finance Minister Joao Ferreira and Transport Minister Maria Costa."
    assert check_claim(swapped, [p]).supported  # the checks alone let it through
    judge = Orders()
    v = check_claim(swapped, [p], judge=judge)
    assert not v.supported and v.reason.startswith("roles:") and "0.90 against 0.60" in v.reason, v.reason
    assert any("Minister Maria Costa and Transport Minister Joao Ferreira" in c for c in judge.asked), judge.asked
    right = "The contract was signed in Lisbon by Finance Minister Maria Costa and Transport Minister Joao Ferreira."
    assert check_claim(right, [p], judge=Orders()).supported
    spent = Orders()
    spent.budget, spent.calls = 2, 2  # type: ignore[attr-defined]
    assert check_claim(swapped, [p], judge=spent).supported  # no budget left for the contrast: the checks stand
    sure = Orders()
    assert check_claim(right, [p], judge=sure).supported
    # read at P(YES) 0.9, no variant can read better by judge_contrast (0.1): none is asked, the model's time saved
    assert sure.asked == [right], sure.asked


def test_the_contrast_swaps_two_places_but_never_replaces_one() -> None:
    """One place of the evidence may hold another: "the arrest in Khartoum" is not made a role swap by "the arrest
    in Sudan" reading better; two places turned round still are asked."""
    from rag.verify.contrast import variants

    assert variants("The arrest in Khartoum occurred on Sunday.",
                    "On Sunday the police in Sudan arrested her at her lodgings in Khartoum.") == []
    assert variants("Talks moved from Paris to Geneva on Monday.", "Talks moved from Geneva to Paris on Monday.") == \
        ["Talks moved from Geneva to Paris on Monday."]


def test_the_real_judgement_tells_a_role_swap_from_its_evidence_by_contrast(local_llm: object) -> None:
    """The embedded model: two officials' posts swapped, every word kept, is read as a role swap by contrast; the
    same sentence with the posts right is kept."""
    judge = Judge(local_llm, "test-model")  # type: ignore[arg-type]
    text = ("The treaty was signed by Portugal's interior minister, Rui Matos, and the director of the Russian firm "
            "Avia, Igor Belov.")
    p = Passage("c", "c", "Treaty signed", "2008-04-02", None, 0, len(text), text)
    v = check_claim("The treaty was signed by Igor Belov, Portugal's interior minister, and Rui Matos, director of the "
                    "Russian firm Avia.", [p], judge=judge)
    assert not v.supported and v.reason.startswith("roles:"), v.reason
    v = check_claim("Rui Matos, Portugal's interior minister, and Igor Belov, director of the Russian firm Avia, "
                    "signed the treaty.", [p], judge=judge)
    assert v.supported, v.reason


@pytest.mark.parametrize(("evidence", "claim", "supported"), [
    # "to B from A" is the change from A to B, in either sentence
    ("The firm will slash its districts to twenty from 46.", "The firm will cut its districts from 46 to twenty.", True),
    ("The firm will slash its districts to twenty from 46.", "The firm will cut its districts from twenty to 46.", False),
    ("The firm will slash its districts from 46 to twenty.", "The firm will cut its districts to twenty from 46.", True),
    ("The firm will slash its districts from 46 to twenty.", "The firm will cut its districts from twenty to 46.", False),
    # "unless" is "if not"
    ("Brown threatened to vote against the bill if the tax was not removed.",
     "Brown threatened to vote against the bill unless the tax was removed.", True),
    ("Brown threatened to vote against the bill if the tax was removed.",
     "Brown threatened to vote against the bill unless the tax was removed.", False),
    # an opposite the claim says itself as well is no contradiction; alone, it is
    ("The inspection of the plant had begun in mid April, and concluded on Friday.",
     "The inspection of the plant ended on Friday, having started in mid April.", True),
    ("The inspection of the plant had begun in mid April.", "The inspection of the plant ended in mid April.", False),
    # an acronym is a name though the tagger calls it a noun; an irregular adjective names its country
    ("Truth Wins Out, a gay rights group, launched a petition asking Apple to remove the app.",
     "GLAAD, a gay rights group, launched a petition asking Apple to remove the app.", False),
    ("The emergency loan is expected to be delivered before Portuguese elections on June 5.",
     "Portugal is expected to receive the emergency loan before its elections on June 5.", True),
    ("Norwegian police said the bomb went off in the capital.", "Police in Norway said the bomb went off in the capital.",
     True),
])
def test_figures_from_and_to_unless_both_ends_of_an_opposite_acronyms_and_irregular_adjectives(
        evidence: str, claim: str, supported: bool) -> None:
    p = Passage("s", "s", "News", "2010-05-01", None, 0, len(evidence), evidence)

    class Mild(CountingJudge):  # a mild yes (0.7) or no (0.1) by the claim's last word: it decides what the checks
        # leave undecided, and is never firm enough to outweigh them (judge_appeal 0.9)
        def probability(self, claim: str, evidence: str, published: str | None, title: str = "") -> float | None:
            return 0.7 if super().probability(claim, evidence, published, title) else 0.1

    assert check_claim(claim, [p], judge=Mild()).supported == supported


def test_a_name_with_an_initial_is_grounded_in_the_title_that_writes_it() -> None:
    from rag.verify.checks import names
    from rag.verify.facts import claim_facts

    window = claim_facts("The former congressman has died at the age of 100.", None)
    title = "American politician Augustus F. Hawkins dies at 100"
    assert names(claim_facts("Augustus F. Hawkins died at the age of 100.", None), window, title).ok
    assert not names(claim_facts("Augustus F. Bell died at the age of 100.", None), window, title).ok


class AnswerJudge(Judge):
    """A judgement of answers to questions: YES when every capitalised word of the answer is in the evidence, and
    the question is given; it records what it was asked."""

    def __init__(self) -> None:
        super().__init__(llm=None, model="test")  # type: ignore[arg-type]
        self.asked: list[tuple[str, str]] = []

    def probability(self, claim: str, evidence: str, published: str | None, title: str = "",
                    question: str = "") -> float | None:
        self.asked.append((claim, question))
        if not question:
            return 0.0  # the claim itself, read as a claim: the window does not say "Royal Navy"
        return 0.9 if all(w in evidence for w in re.findall(r"\b[A-Z]\w+", claim)) else 0.1


def test_an_answer_restating_the_question_is_kept_when_the_evidence_gives_what_it_adds() -> None:
    text = "HMS Tireless, a navy submarine from the United Kingdom, crashed into rocks in the northern half of the Red Sea."
    p = Passage("s#0", "s", "UK submarine hits rocks", "2008-05-28", None, 0, len(text), text)
    q = "A Royal Navy submarine ran into rocks in May 2008. In which sea did that happen?"
    judge = AnswerJudge()
    got = verify("The Royal Navy submarine ran into rocks in the Red Sea [1].", [p], q, judge=judge)
    assert got.answer == "The Royal Navy submarine ran into rocks in the Red Sea [1]." and got.citations[0].text == text
    assert judge.asked[-1] == ("the Red Sea", q)  # asked of what the sentence adds to the question
    assert "question's" in got.verdicts[0].reason
    got = verify("The Royal Navy submarine ran into rocks in the Black Sea [1].", [p], q, judge=AnswerJudge())
    assert got.answer == "" and got.dropped  # a name the window does not give is not the question's premise
    got = verify("The Royal Navy submarine ran into rocks in the Red Sea [1].", [p], "", judge=AnswerJudge())
    assert got.answer == ""  # no question, no premise: the claim is checked as it stands


def test_the_dates_an_answer_repeats_from_the_question_are_its_premise_when_they_hold_the_articles_time() -> None:
    text = "Both the Chardonnay and Merlot will retail for CDN$11.95 MSRP."
    q = "What was the retail price of the Olympic wines announced in February 2007 as a Vancouver 2010 sponsorship?"
    claim = "The retail price of the Olympic wines announced in February 2007 as a Vancouver 2010 sponsorship was CDN$11.95 MSRP [1]."
    p = Passage("w#0", "w", "Olympic wines on menu", "2007-02-08", None, 0, len(text), text)
    got = verify(claim, [p], q, judge=AnswerJudge())
    assert got.answer == claim and "question's" in got.verdicts[0].reason  # "2010" and "February 2007" are the reader's
    old = Passage("w#0", "w", "Olympic wines on menu", "2005-06-01", None, 0, len(text), text)
    got = verify(claim, [old], q, judge=AnswerJudge())
    assert got.answer == "" and got.dropped  # a premise of another time than the article's is checked


def _one(text: str, date: str = "2009-02-10") -> Passage:
    return Passage("w", "a", "Story", date, None, 0, len(text), text)


def test_a_quote_shortened_at_its_end_or_begun_mid_sentence_is_still_verbatim() -> None:
    p = _one('"The age of cheap money is over, and savers will pay for it," the governor said on Monday.')
    assert check_claim('The governor said on Monday that "the age of cheap money is over."', [p]).supported
    v = check_claim('The governor said on Monday that "the age of cheap credit is over."', [p])
    assert not v.supported and v.reason.startswith("quotes:"), v.reason


def test_a_share_said_as_n_in_m_is_a_percentage() -> None:
    p = _one("A survey found 70% of the town's residents oppose the new road.")
    assert check_claim("Seven in ten of the town's residents oppose the new road, a survey found.", [p]).supported
    v = check_claim("Six in ten of the town's residents oppose the new road, a survey found.", [p])
    assert not v.supported and v.reason.startswith("numbers:"), v.reason
    p = _one("The Labour-led group won 162 out of 230 council seats.")
    assert check_claim("The group led by Labour took 162 of the 230 council seats.", [p]).supported  # counts


def test_lacking_something_is_not_having_it() -> None:
    p = _one("The minister said the agency does not have the legal power to close the plant.")
    assert check_claim("The minister said the agency lacks the legal power to close the plant.", [p]).supported
    p = _one("The navy stopped the ship in the Red Sea, but it lacked the authority to board it.")
    v = check_claim("The navy stopped the ship in the Red Sea and had the authority to board it.", [p])
    assert not v.supported and v.reason.startswith("polarity:"), v.reason


def test_nothing_to_do_with_a_name_does_not_negate_the_name() -> None:
    p = _one('Tom Reed stated categorically that his company just saved GameHub and Kato never tried to acquire Zine. '
             '"Closing Zine has absolutely nothing to do with Kato. We have just hired 24 people and have expanded Kato '
             'by 33 percent, because our business is robust and growing.')
    v = check_claim("Tom Reed said Kato had just hired 24 people and grown by 33 percent because its business was robust "
                    "and growing.", [p])
    assert not v.reason.startswith("polarity:"), v.reason


def test_a_subject_that_is_to_be_acted_on_is_done_to() -> None:
    p = _one("The portal's Briefcase service, which stores files online, is to be shut down on March 30.")
    v = check_claim("Briefcase, which stores files online, will be shut down on March 30.", [p])
    assert v.supported, v.reason


def test_a_negation_said_with_no_or_with_not_is_one_negation() -> None:
    p = _one("If a new budget is not in place by April, the current budget will roll over.")
    assert check_claim("If no new budget is in place by April, the current one will roll over.", [p]).supported
    p = _one("One passenger was killed. No-one on the ground was hurt in the accident.")
    assert check_claim("One passenger was killed, and no one on the ground was hurt.", [p]).supported


def test_a_shared_title_does_not_make_two_people_one() -> None:
    p = _one("President Barack Obama has vowed to send more troops, ignoring a request from President Karzai.")
    v = check_claim("President Karzai has vowed to send more troops, ignoring a request from President Obama.", [p])
    assert not v.supported and v.reason.startswith("roles:"), v.reason


def test_an_opposite_is_read_before_a_negation_the_judgement_would_weigh() -> None:
    p = _one("Sympathy strikes have been illegal in France since the 1980s. However, the fines apply only to unions "
             "organising such strikes, not to workers acting alone.")
    v = check_claim("Sympathy strikes have been legal in France since the 1980s.", [p])
    assert v.reason.startswith("polarity: the claim says 'legal'"), v.reason


def test_a_negation_of_something_the_window_never_mentions_is_not_supported_by_the_checks_alone() -> None:
    p = _one("The minister was questioned about taxes he failed to pay on income earned abroad.")
    v = check_claim("The minister was questioned about taxes he failed to pay on income earned abroad, and the "
                    "senators refused to forgive him.", [p])
    assert not v.supported, v.reason


def test_last_with_a_month_is_that_month_before_the_article() -> None:
    p = _one("The company, which filed for bankruptcy protection last March, left it on Friday.", date="2009-07-12")
    assert check_claim("The company, which filed for bankruptcy protection in March 2009, left it on Friday.",
                       [p]).supported
    v = check_claim("The company, which filed for bankruptcy protection in March 2008, left it on Friday.", [p])
    assert not v.supported and v.reason.startswith("dates:"), v.reason
    p = _one("The company, which filed for bankruptcy protection last March, left it on Friday.", date="2009-03-20")
    assert check_claim("The company, which filed for bankruptcy protection in March 2008, left it on Friday.",
                       [p]).supported


HEDGED = ("Judge Mathers said the TxtDrive competition was an illegal lottery. The two men are to appear in court on "
          "6 October; they face a fine of $4,000 or three months in prison. Police said it is possible the records "
          "were destroyed. Staff could be seen leaving the building. The ship possibly carried fuel and was refused entry to "
          "Weipa harbour.")
HP = Passage("h#0", "h", "Two men ran illegal text lottery", "2006-08-18", None, 0, len(HEDGED), HEDGED)


@pytest.mark.parametrize(("claim", "question", "kept"), [
    # what the evidence gives as possible, stated as done: not supported, whatever the question asked
    ("The court imposed a fine of $4,000 on the two men.", "What fine did the court impose on the two men?", False),
    ("Police found that the records were destroyed.", "What did police find about the records?", False),
    # said as possible, as the evidence says it; or asked as possible
    ("The two men face a fine of $4,000 or three months in prison.", "What penalty did the two men get?", True),
    ("They could be fined $4,000.", "What fine could the two men be given?", True),
    # a modal before a verb of perception tells what happened; a clause before the hedge is not under it
    ("Staff were seen leaving the building.", "", True),
    ("The two men are to appear in court on 6 October.", "", True),
    # what is joined to a hedged verb, and its subject, are not under the hedge
    ("The ship was refused entry to Weipa harbour.", "", True),
    ("The ship carried fuel.", "", False),
])
def test_modality_a_claim_does_not_state_as_done_what_its_evidence_gives_as_possible(
        claim: str, question: str, kept: bool) -> None:
    v = check_claim(claim, [HP], question)
    assert v.supported is kept, v.reason
    if not kept:
        assert v.reason.startswith("modality: the evidence gives") and "only as possible" in v.reason, v.reason


def test_event_an_answer_about_the_same_kind_of_event_in_another_year_is_not_kept() -> None:
    text = ("Ms Waters received a 6 per cent swing at the 2006 election in the Brisbane Central electorate. At the "
            "2009 election she won 24 per cent of the vote in Mt Coot-tha.")
    p = Passage("w#0", "w", "Greens run lawyer", "2009-02-05", None, 0, len(text), text)
    q = "What swing did Waters get at the March 2009 Queensland state election?"
    v = check_claim("Waters received a 6 per cent swing at the 2006 election.", [p], q)
    assert not v.supported and v.reason.startswith("event: the question asks about the election of 2009"), v.reason
    assert check_claim("Waters won 24 per cent of the vote at the 2009 election.", [p], q).supported
    # without a question, or when the question dates no election, the claim is only checked against its evidence
    assert check_claim("Waters received a 6 per cent swing at the 2006 election.", [p]).supported

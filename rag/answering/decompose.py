"""A question about two things, as two questions that each have one answer.

A small model answers a simple question from its evidence far more reliably than a compound one: asked
"whom did Bush pick to replace Rumsfeld, and which Democrat won Virginia's Senate seat?" it answers one
half, and asked "how many days after the referendum did ARM accept SoftBank's offer?" it does the
arithmetic itself, wrongly. So `rag.answering.answer.ask` puts each sub-question through the whole pipeline
(retrieval, evidence, generation, verification) and joins the verified answers; for arithmetic, code
computes from the two verified inputs (rag.answering.derive).

Which questions are split is decided by their wording, never their topic (rag.answering.derive.operation and
comparison); how they are split:
- over two named things: "how many jobs did Ford and GM cut in total?" -> one question per name (a pattern);
- other arithmetic ("how many days after X did Y?", "by how many seats did A beat B?", "how much higher was
  A than B?", "how many times as many X were Y as Z?"): the model writes the two questions (prompts/parts.md),
  kept only if `_sound` (two different questions on the question's own words, asking "when" exactly when dates
  are computed); otherwise patterns: "When was X?", "When did Y?"; "What was A?", "What was B?"; "How many X
  were Y?"; patterns and name pairs read the question proper, without sentences setting the scene before it;
- comparisons ("which killed more people, Typhoon Haiyan or Typhoon Bopha?", "which came first, A or B?"):
  one question per option, written by the model (prompts/compare.md), kept only if each keeps its own
  option; code then compares the two verified figures or dates (rag.answering.derive.compare).
Two questions joined by "and" ("Who won X, and how old was he?") are asked whole: split, on the blind test
split, they turned 5 answers wrong (the second half loses what the first says: "at what age?", "how old was
he?" read with the wrong name). Only when the verified answer says nothing of one half (`halves`,
`unanswered`) is that half asked again on its own, with the whole question beside it (rag.answering.answer.ask).
Anything else is left whole (an empty list).
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING

from rag.answering.derive import comparison, operation
from rag.textdates import mentions
from rag.verify.facts import claim_facts

if TYPE_CHECKING:
    from rag.models.llm import ChatModel

_TOTAL = re.compile(r",?\s*\b(?:in total|combined|(?:taken\s+)?together|altogether|in all|between them|both)\b", re.I)
_AFTER = re.compile(r"^how (?:many|much)\s+(?:days|weeks|months|years|time)\s+(?:after|before|since)\s+(?P<x>.+?)\s+"
                    r"(?P<aux>did|does|do|was|were|is|are|had|has|have|will|would)\s+(?P<y>.+)$", re.I)
_BETWEEN = re.compile(r"\bbetween\s+(?P<x>.+?)\s+and\s+(?P<y>.+)$", re.I)
# "..., A or B?" after a comma, colon or dash; A and B without commas of their own
_OPTIONS = re.compile(r"^(?P<stem>.+?)\s*(?:[,:;]|\s-+)\s*(?:either\s+)?(?P<a>[^,;:]+?),?\s+or\s+(?P<b>[^,;:]+?)\s*[?.!]*$",
                      re.I)
_WHEN = re.compile(r"\b(when|what (?:date|day|month|year|time)|which (?:date|day|month|year))\b", re.I)
_MARGIN = re.compile(r",?\s+and\s+by\s+how\s+(?:much|many)\b[^?]*\?*$", re.I)  # "..., and by how much?"
_TIMES = re.compile(r"^how many times as (?P<much>many|much)\s+(?P<what>.+?)\s+(?P<aux>was|were|is|are|did|does|do|had|has|have)"
                    r"\s+(?P<x>.+?)\s+as\s+(?P<y>.+)$", re.I)
_THAN = re.compile(r"^how (?:many|much)\b.*?\s(?P<aux>was|were|is|are)\s+(?P<x>.+?)\s+than\s+(?P<y>.+)$", re.I)


def _q(text: str) -> str:
    text = text.strip(" ,;:").rstrip("?.,;: ").strip()
    return text[:1].upper() + text[1:] + "?" if text else ""


def question_names(question: str) -> list[str]:
    """The name phrases of a question (spaCy's parse, first word included), e.g. ['Take-Two', 'GTA']."""
    return [" ".join(n) for n in claim_facts(question, None).names]


def names_as_written(question: str) -> list[str]:
    """The question's names as written in it ("General Motors", not the parse's folded form)."""
    out = []
    for n in question_names(question):
        m = re.search(r"\b" + r"\W+".join(re.escape(w) for w in n.split()) + r"\b", question, re.I)
        if m:
            out.append(m.group(0))
    return out


def _named(question: str) -> list[str]:
    """One question per name of "X and Y" in an arithmetic question; a name's number goes with it ("Flight 574").

    >>> _named("How many people died in the Adam Air Flight 574 and Garuda Indonesia Flight 200 crashes combined?")
    ['How many people died in the Adam Air Flight 574 crashes?', 'How many people died in the Garuda Indonesia Flight 200 crashes?']
    >>> _named("How many tankers were ordered from Boeing and Airbus in 2008 and from Airbus in 2009, together?")
    []
    """
    names = names_as_written(question)
    for a in names:
        for b in names:
            pair = rf"\b(?P<a>{re.escape(a)}(?:\s+\d+)?)\s+and\s+(?:the\s+)?(?P<b>{re.escape(b)}(?:\s+\d+)?)\b"
            if a != b and re.search(pair, question, re.I):
                rest = _TOTAL.sub("", question)
                span = re.search(pair, rest, re.I)
                if span is None:
                    return []
                out = [_q(rest[: span.start()] + span.group(x) + rest[span.end():]) for x in ("a", "b")]
                # a name the question repeats elsewhere is not what tells the two apart ("the deal won by
                # Northrop Grumman and EADS with the contract EADS signed"): each half would still name it
                if any(re.search(rf"\b{re.escape(n)}\b", o, re.I) for o, n in zip(out, (b, a), strict=True)):
                    return []
                return out
    return []


# sentences before the question proper; not an initial's full stop ("was J. Russell Coffey older ...?")
_CONTEXT = re.compile(r"^.*(?<!\b[A-Z])[.!]\s+(?=\S(?:[^.!?]|(?<=\b[A-Z])\.)*\?\s*$)", re.S)


def _proper(question: str) -> str:
    """The question without the sentences that set the scene before it ("In 2005, A bought B. How much...?").

    >>> _proper("Ames and Bell died in 2007. How many years older was J. R. Ames than Bell?")
    'How many years older was J. R. Ames than Bell?'
    """
    return _CONTEXT.sub("", question.strip(), count=1)


def _events(question: str) -> list[str]:
    """The two parts by pattern, from the question proper: sentences that set the scene before it ("In October
    2005, A agreed to buy B and C agreed to buy D. How much more was C's deal worth than A's?") are left out
    (each part's answer cites one article, which need not name the other part's things).

    >>> _events("How many times as many people were affected by the first leak as by the second leak?")
    ['How many people were affected by the first leak?', 'How many people were affected by the second leak?']
    >>> _events("In 2005, Acme bought Bolt and Zeta bought Yarn. How much more was the Zeta deal worth than the Acme deal?")
    ['What was the Zeta deal worth?', 'What was the Acme deal?']
    """
    question = _proper(question)
    text = question.rstrip("?").strip()
    op = operation(question)
    if op == "days":
        if m := _AFTER.match(text):
            return [_q(f"When was {m.group('x')}"), _q(f"When {m.group('aux')} {m.group('y')}")]
        if m := _BETWEEN.search(text):
            return [_q(f"When was {m.group('x')}"), _q(f"When was {m.group('y')}")]
        return []
    if op == "ratio" and (m := _TIMES.match(text)):  # "how many times as many people were hurt by X as by Y"
        what, aux, x, y = m.group("what"), m.group("aux"), m.group("x"), m.group("y")
        lead = re.match(r"(?P<prep>by|in|at|for|from|on|of|to|with)\s", y, re.I)
        at = re.search(rf"\s{lead.group('prep')}\s", f" {x} ", re.I) if lead else None
        if at:  # "as by Y" takes x's words before its own "by": "affected by Y"
            y = f"{x[: max(at.start() - 1, 0)]} {y}".strip()
        return [_q(f"How {m.group('much')} {what} {aux} {x}"), _q(f"How {m.group('much')} {what} {aux} {y}")]
    if op == "difference" and (ages := _ages(text)):
        return ages
    if op in ("difference", "compare") and (m := _THAN.match(text)):
        aux, x, y = m.group("aux").lower(), m.group("x"), m.group("y")
        head = re.match(r"the\s+(\w+)\b", y, re.I)  # "than the rate in 2009": the rate of the first part
        full = head and re.search(rf"\bthe\s+(?:[\w'-]+\s+){{0,3}}?{re.escape(head.group(1))}\b", x, re.I)
        if head and full:
            y = full.group(0) + y[head.end():]
        return [_q(f"What {aux} {x}"), _q(f"What {aux} {y}")]
    return []


# "how many years older at his death was X than Y", "how many years younger than Y was X when she died"
_OLDER = re.compile(r"^how many years (?:older|younger)\s+(?P<at>(?:at|when)\b.*?\s+)?(?P<aux>was|were|is|are)\s+"
                    r"(?P<x>.+?),?\s+than\s+(?P<y>[^,]+)", re.I)
_OLDER_THAN = re.compile(r"^how many years (?:older|younger)\s+than\s+(?P<y>.+?)\s+(?P<aux>was|were|is|are)\s+"
                         r"(?P<x>.+?)(?P<at>\s+(?:at|when)\b.*)?$", re.I)


def _ages(text: str) -> list[str]:
    """The two ages an age gap asks for, each at the moment the question names ("at his death").

    >>> _ages("How many years older at his death was Ames, the oldest veteran, than the senator Bell, both dead")
    ['How old at his death was Ames, the oldest veteran?', 'How old at his death was the senator Bell?']
    >>> _ages("How many years younger than Bell was Ames when she died")
    ['How old was Ames when she died?', 'How old was Bell when she died?']
    """
    if m := _OLDER.match(text):
        at = (m.group("at") or "").strip()
        lead = f"How old {at} {m.group('aux')}" if at else f"How old {m.group('aux')}"
        return [_q(f"{lead} {m.group('x')}"), _q(f"{lead} {m.group('y')}")]
    if m := _OLDER_THAN.match(text):
        at = m.group("at") or ""
        return [_q(f"How old {m.group('aux')} {m.group('x')}{at}"), _q(f"How old {m.group('aux')} {m.group('y')}{at}")]
    return []


_BY_HOW = re.compile(r"\bby how (?:much|many)\b", re.I)


def margin(question: str) -> bool:
    """A change or margin asked for as one figure, which articles often state themselves ("By how many votes
    did the bid succeed?", "By how much did the share price fall?"): worth asking as it is before asking its
    two inputs. Not a comparison between named options ("Which was bigger, A or B, and by how much?").

    >>> margin("By how many votes did the takeover bid succeed?"), margin("By how much did A's bid exceed B's?")
    (True, True)
    >>> margin("Which was bigger, the Pixar deal or the Delta bid, and by how much?"), margin("Who won?")
    (False, False)
    """
    return bool(_BY_HOW.search(question)) and operation(question) == "difference" and options(question) is None


def subquestions(question: str, llm: ChatModel | None = None) -> list[str]:
    """The two questions an arithmetic question or a comparison asks (module doc), or [] to leave it whole.
    With `llm`, the model writes them (kept only if they pass `_sound`); the patterns are the fallback.

    >>> subquestions("How many days after the UK's EU referendum did ARM accept SoftBank's offer?")
    ["When was the UK's EU referendum?", "When did ARM accept SoftBank's offer?"]
    >>> subquestions("How many points lower was the jobless rate for July 2015 than the rate in November 2009?")
    ['What was the jobless rate for July 2015?', 'What was the jobless rate in November 2009?']
    >>> subquestions("Who won the vote?")
    []
    """
    if options(question):
        return compared(question, llm) if llm is not None else []
    if not (op := operation(question)):
        return []
    # a total over "X and Y" (not a difference or a margin: "the bill for British and Dutch savers" is one bill);
    # not names joined in a sentence setting the scene
    if op == "sum" and len(out := _named(_proper(question))) == 2 and all(out):
        return out
    if llm is not None:
        from rag.prompts import load_prompt

        system, user = load_prompt("parts", {"question"}).render(question=question)
        out = _lines(llm.complete(system, user, 96).text)
        if _sound(question, out, dated=op == "days"):
            return out
    if len(out := _events(question)) == 2 and all(out):
        return out
    return []


_WH = r"(?:who|whom|whose|which|what|when|where|why|how)\b"
_PREP = r"(?:(?:to|with|by|in|at|for|on|from|of)\s+)"  # "to how many", "with what"
_ROUGHLY = r"(?:(?:roughly|approximately|about|around|exactly|precisely)\s+)"  # "roughly how many"
# ", and" then a question of its own: a question word, perhaps after a preposition ("to how many", "with what")
# or a word of precision ("roughly how many")
_JOINED = re.compile(rf",\s+and\s+(?={_ROUGHLY}?{_PREP}?{_WH}[^,]*\?\s*$)", re.I)
_LEAD = re.compile(rf"^(?P<lead>[^?]*?,\s*)(?={_WH})", re.I)
# a clause setting the scene before the question proper: "When police entered the reserve, how long ...?"
_SCENE = re.compile(rf"^\W*(?:when|after|before|as|while|once|since|following|if)\b[^?]*?,\s*(?={_PREP}?{_WH})", re.I)
_WH_QUESTION = re.compile(rf"^\W*{_PREP}?{_WH}", re.I)


def main_clause(question: str) -> str:
    """The question without a leading clause that sets the scene, whose "when" asks nothing.

    >>> main_clause("When police entered the reserve on 12 September, how long were the Bushmen given?")
    'how long were the Bushmen given?'
    >>> main_clause("When did police enter the reserve?")
    'When did police enter the reserve?'
    """
    return _SCENE.sub("", question, count=1)


def asks_wh(question: str) -> bool:
    """The question proper asks who, what, which, when, where, why or how (not yes or no)."""
    return bool(_WH_QUESTION.match(main_clause(question)))


def halves(question: str) -> tuple[str, str] | None:
    """The two questions of "A, and B?", each with what leads the whole ("After the midterms, ..."), or None.

    >>> halves("After the 2006 midterms, whom did Bush pick to replace Rumsfeld, and which Democrat won Virginia?")
    ('After the 2006 midterms, whom did Bush pick to replace Rumsfeld?', 'After the 2006 midterms, which Democrat won Virginia?')
    >>> halves("Who won the run-off, and with what share of the vote?")
    ('Who won the run-off?', 'With what share of the vote?')
    >>> halves("Where was the round launched, and roughly how many people marched?")
    ('Where was the round launched?', 'Roughly how many people marched?')
    >>> halves("How many jobs did Ford and GM cut?") is None
    True
    """
    m = _JOINED.search(question)
    if m is None:
        return None
    first, second = question[: m.start()], question[m.end() :]
    lead = _LEAD.match(first)
    if lead:
        second = lead.group("lead") + second
    return _q(first), (second if lead else _q(second)).strip()


def unanswered(question: str, answer: str) -> str | None:
    """The half of a two-question question (`halves`) that no clause of the answer speaks to, or None: a
    clause speaks to the half whose own words (those the other half lacks) it shares more of, if it gives
    what that half asks for (`_gives`).

    >>> q = "Which bank's ATM paid out double money, and in which New Zealand town was it?"
    >>> unanswered(q, "The bank's ATM paid out double money, and it was in Queenstown, New Zealand [1].")
    "Which bank's ATM paid out double money?"
    >>> unanswered(q, "Kiwibank's ATM paid out double money [1].")
    'In which New Zealand town was it?'
    """
    pair = halves(question)
    if pair is None or not answer.strip():
        return None
    from rag.chunk import sentences
    from rag.cite import content_words

    own = [content_words(pair[0]) - content_words(pair[1]), content_words(pair[1]) - content_words(pair[0])]
    if not all(own):  # "..., and by when?": no words of its own to tell whether it was answered
        return None
    spoken = [False, False]
    for s, e in sentences(answer):  # "The deal runs for 20 years, and it is worth $20 million a year": both
        for clause in re.split(r",\s+(?:and|but|while)\s+|;\s+", answer[s:e]):
            words = content_words(clause)
            a, b = len(words & own[0]), len(words & own[1])
            if a != b and _gives(clause, pair[a < b], question):
                spoken[a < b] = True
    if spoken == [True, False]:
        return pair[1]
    if spoken == [False, True]:
        return pair[0]
    return None


_WHO = re.compile(rf"^{_PREP}?(?:who|whom|whose|which)\b", re.I)
_HOW_MUCH = re.compile(r"^(?:by |to |for )?how (?:many|much)\b", re.I)


def _gives(clause: str, half: str, question: str) -> bool:
    """The clause gives what the half asks for: a name the question lacks for "who" or "which", a number it
    lacks for "how many" or "how much" (other questions: any clause sharing their words). "The bank's ATM
    paid out double" does not answer "Which bank's ATM paid out double?"; "Jim Webb won" answers "which
    Democrat won?"."""
    from rag.verify.checks import mentions_name
    from rag.verify.facts import numbers

    ask = _LEAD.sub("", half, count=1).strip()
    if _WHO.match(ask):
        return any(not mentions_name(n, question) for n in question_names(clause))
    if _HOW_MUCH.match(ask):
        given = {n.key() for n in numbers(question)}
        return any(n.key() not in given for n in numbers(clause))
    return True


def _words(text: str) -> set[str]:
    """Content words by their first five letters."""
    return {w.lower()[:5] for w in re.findall(r"[\w'-]{3,}", text)} - _COMMON


_COMMON = {"the", "and", "for", "was", "were", "did", "does", "how", "many", "much", "what", "when", "which", "who",
           "that", "with", "from", "its", "their", "this", "have", "has", "had", "been", "happe"}


def _lines(reply: str) -> list[str]:
    """The questions of the model's two-line reply, numbering removed."""
    lines = [re.sub(r"^\s*(?:\d[.)]|[-*])\s*", "", x).strip() for x in reply.splitlines()]
    return [x for x in lines if x.endswith("?")][:2]


def _sound(question: str, subs: list[str], dated: bool) -> bool:
    """Two different questions, each on the question's own words (no topic of its own), each asking "when"
    if and only if the computation is over dates, neither asking for the computation the whole asks for."""
    if len(subs) != 2 or subs[0].lower() == subs[1].lower():
        return False
    asked = _words(question)
    op = operation(question)
    # the parts are not one question but for the words of the arithmetic ("How many deaths in
    # total in the attacks?" and "How many deaths in the attacks?" are one question)
    own = [_words(_OP_WORDS.sub(" ", a)) - _words(_OP_WORDS.sub(" ", b)) for a, b in (subs, subs[::-1])]
    return any(own) and all(len(_words(x) & asked) >= 2 and len(_words(x) - asked) <= 2
                            and bool(_WHEN.search(x)) == dated and not _whole_again(x, op)
                            and _dated_as_asked(question, x) for x in subs)


_OP_WORDS = re.compile(r"\b(?:in total|total|combined|together|altogether|in all|more|less|fewer|than|difference|by how)\b",
                       re.I)


_SEGMENT = re.compile(r";\s+|(?<!\b[A-Z])[.!?]\s+(?=[A-Z])|\s+[-\u2013\u2014]+\s+")


def _dated_as_asked(question: str, sub: str) -> bool:
    """Each date of the part is the one the question gives the part's own thing: when the question dates two
    things in two of its sentences or clauses ("Harper said in March 2009 what the registry had cost; in
    February 2005 the sponsorship report found how much was misspent"), a part dated by one of them is about
    what that clause speaks of (by its words), not about the other's thing ("What was the registry's cost in
    February 2005?" is not a part of that question).

    >>> q = "Harper said in March 2009 what the gun registry had cost; in February 2005 an audit found how much was misspent."
    >>> _dated_as_asked(q, "What was the cost of the gun registry in March 2009?")
    True
    >>> _dated_as_asked(q, "What was the cost of the gun registry in February 2005?")
    False
    """
    today = date.today()
    dated = [(seg, {(m.lo, m.hi) for m in found}) for seg in _SEGMENT.split(question)
             if (found := mentions(seg, today))]
    if len(dated) < 2:
        return True
    its = mentions(sub, today)
    own = _words(sub) - {w for m in its for w in _words(m.phrase)}
    fit = [len(own & _words(seg)) for seg, _ in dated]
    for m in its:
        holders = [i for i, (_, spans) in enumerate(dated) if (m.lo, m.hi) in spans]
        if len(holders) == 1 and fit[holders[0]] < max(fit):
            return False
    return True


def _whole_again(sub: str, op: str | None) -> bool:
    """The part asks what the whole asks: a difference, margin, ratio or comparison again ("how many years older
    was A than B?", "by how much did the price fall?"), or a total of two named things; it has not taken the
    question apart. A part of a total naming nothing ("how many deaths in total?") is asked beside the whole question
    (rag.answering.answer.ask)."""
    return operation(sub) == op and (op != "sum" or len(question_names(sub)) >= 2)


def options(question: str) -> tuple[str, str] | None:
    """The two options a comparison question chooses between, or None.

    >>> options("Which storm killed more people in the Philippines, Typhoon Haiyan or Typhoon Bopha?")
    ('Typhoon Haiyan', 'Typhoon Bopha')
    >>> options("Which happened first: the Genoa bridge collapse or the Notre-Dame fire?")
    ('the Genoa bridge collapse', 'the Notre-Dame fire')
    >>> options("Which was bigger, the Pixar deal or the Delta bid, and by how much?")
    ('the Pixar deal', 'the Delta bid')
    >>> options("Who won, and by how much?") is None
    True
    """
    question = _MARGIN.sub("?", question.strip())
    if comparison(question) is None or not (m := _OPTIONS.match(question)):
        return None
    a, b = m.group("a").strip(), m.group("b").strip()
    return (a, b) if a and b and a.lower() != b.lower() else None


def _keeps(sub: str, option: str, other: str) -> bool:
    """The model's sub-question asks about its own option: it holds the option's distinctive words (those
    the other option lacks), by their first five letters, and none of the other's."""
    mine, theirs = _words(option) - _words(other), _words(other) - _words(option)
    got = _words(sub)
    return bool(mine) and bool(mine & got) and not (theirs & got)


def compared(question: str, llm: ChatModel, max_tokens: int = 96) -> list[str]:
    """One question per option of a comparison, written by the model (prompts/compare.md) and kept only if
    each asks about its own option, and asks "when" if and only if dates are compared; a comparison of dates
    falls back to "When was A?"; [] to leave it whole."""
    from rag.prompts import load_prompt

    pair = options(question)
    if pair is None:
        return []
    a, b = pair
    asked = _MARGIN.sub("?", question.strip())  # "..., and by how many points?": the margin is code's (derive.compare)
    system, user = load_prompt("compare", {"question", "first", "second"}).render(question=asked, first=a, second=b)
    subs = _lines(llm.complete(system, user, max_tokens).text)
    dated = comparison(question) in ("earliest", "latest")
    if (len(subs) == 2 and _keeps(subs[0], a, b) and _keeps(subs[1], b, a)
            and all(bool(_WHEN.search(x)) == dated for x in subs)):
        return subs
    if dated:
        return [_q(f"When was {a}"), _q(f"When was {b}")]
    return []

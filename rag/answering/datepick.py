"""A date asked for as one input of a derivation ("How many days after A did B?", asked as "When did A?" and
"When did B?"), picked from the evidence when the model's own answer gave no verified day.

The small local model often answers such a part with the question's words and no date, or with a date its cited
passage does not hold, and it picks badly from a numbered list. A yes/no question about one sentence it reads
well: each sentence of the evidence that holds a date (the date resolved against its article's publication day, as
in the answer prompt) is put to it as "does this sentence give the date of the event asked about?"
(prompts/date_pick.md), and the sentence with the highest P(YES), if it reaches thresholds.toml `date_pick` and leads the next by `date_pick_margin`, is
quoted verbatim with its passage's number, verified like any answer sentence, and code reads its date
(rag.answering.derive). The model decides which event a sentence dates; code decides which sentences hold dates
and what the dates are.
"""

from __future__ import annotations

import re
import time

from rag.chunk import sentences
from rag.cite import strip_markers
from rag.models.llm import ChatModel
from rag.prompts import load_prompt
from rag.textdates import annotate, mentions
from rag.types import Passage
from rag.verify import Verified
from rag.verify.lexicon import lexicon

MAX_SENTENCES = 8  # one short model call each: the strongest passages' dated sentences first


def dated_sentences(passages: list[Passage], day: bool = True) -> list[tuple[int, str]]:
    """(1-based passage number, sentence) for each sentence of the passages that holds a date, in passage order, at
    most MAX_SENTENCES. `day`: only sentences naming one day ("on Monday", "3 March"), not a month or a year.

    >>> p = Passage("c", "a", "T", "2008-02-14", None, 0, 60, "Polls open on March 4. It was cold. Talks began in 2007.")
    >>> dated_sentences([p]), dated_sentences([p], day=False)[1]
    ([(1, 'Polls open on March 4.')], (1, 'Talks began in 2007.'))
    """
    out: list[tuple[int, str]] = []
    for n, p in enumerate(passages, 1):
        for a, b in sentences(p.text):
            s = p.text[a:b]
            if any(m.lo == m.hi or not day for m in mentions(s, p.date)):
                out.append((n, s))
    return out[:MAX_SENTENCES]


def dates_given(checked: Verified, day: bool = True) -> bool:
    """Whether a verified answer states a date itself (one day, with `day`), read against its cited article's day.

    >>> from rag.types import Citation
    >>> c = Citation(1, "a", "T", "2008-02-14", None, 0, 9, "x")
    >>> dates_given(Verified("It is on March 4 [1].", [c])), dates_given(Verified("It is in March [1].", [c]))
    (True, False)
    """
    by_n = {c.n: c for c in checked.citations}
    for a, b in sentences(checked.answer):
        s = checked.answer[a:b]
        ns = [int(n) for n in re.findall(r"\[(\d+)\]", s)]
        c = by_n.get(ns[0]) if ns else None
        if c and any(m.lo == m.hi or not day for m in mentions(strip_markers(s), c.date)):
            return True
    return False


def _line(p: Passage, sentence: str) -> str:
    """One offered sentence as the answer prompt shows a passage (rag.answering.answer.format_passages): its
    article's title and day, bracketed numbers neutralised, dates without a year followed by the dates they mean."""
    text = " ".join(annotate(re.sub(r"\[(\d+)\]", r"(\1)", sentence), p.date).split())
    title = " ".join(p.title.replace('"', "'").split())
    return f'"{title}" ({p.date or "undated"}): {text}'


def pick_dated(question: str, passages: list[Passage], llm: ChatModel,
               day: bool = True) -> tuple[str | None, dict[str, float]]:
    """The evidence sentence the model most believes dates the question's event, written as an answer sentence with
    its passage's marker ("Polls open on March 4 [1]."), and the cost of asking (calls, seconds); None when no
    sentence holds a date, no sentence's P(YES) reaches thresholds.toml `date_pick`, the best does not lead the next
    by `date_pick_margin`, or the model gives no probabilities (a server without log probabilities)."""
    offered = dated_sentences(passages, day)
    believe = getattr(llm, "yes_probability", None)
    cost = {"calls": 0.0, "seconds": 0.0}
    if not offered or believe is None:
        return None, cost
    prompt = load_prompt("date_pick", {"sentence", "question"})
    t0 = time.monotonic()
    read: list[tuple[float, int]] = []
    for i, (n, s) in enumerate(offered):
        p = believe(*prompt.render(sentence=_line(passages[n - 1], s), question=question))
        cost["calls"] += 1
        if p is None:
            return None, cost
        read.append((p, -i))  # the stronger passage's sentence on a tie
    cost["seconds"] = round(time.monotonic() - t0, 3)
    read.sort(reverse=True)
    cut = lexicon().thresholds
    if read[0][0] < cut["date_pick"] or (len(read) > 1 and read[0][0] - read[1][0] < cut["date_pick_margin"]):
        return None, cost  # no sentence believed, or two about as much: the model cannot tell which dates the event
    n, s = offered[-read[0][1]]
    body = s.rstrip()
    end = body[-1] if body[-1:] in ".!?" else "."
    return f"{body.rstrip('.!?')} [{n}]{end}", cost

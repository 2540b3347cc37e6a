"""The entailment judgement for what the explicit checks cannot decide (a paraphrase sharing few words
with its evidence): the configured model is asked one short yes/no question per claim and evidence
(prompts/judge.md; the evidence's relative dates resolved in parentheses), and the answer is cached by claim, evidence, prompt and model, so a repeated check
costs nothing. Given the question a claim answers, the model is asked instead whether the evidence gives that
answer to that question (prompts/judge_answer.md, rag.verify.answers_question).

The model's yes/no is read as a probability where the server gives log probabilities (the local server
and OpenAI do): P(YES) / (P(YES) + P(NO)) of its first token, supported at or above `judge_yes`
(rag/verify/thresholds.toml, fitted on the tune claims); the probability is what is cached, so a new
cut-off needs no new calls. Otherwise the reply's word decides. `probability()` gives that number (None once
the budget is spent), for callers that read a firm no (rag.verify's second look, `judge_veto`) apart from a yes.

Not handled: a model that answers neither YES nor NO is unsure: probability() is None, so the sentence is not
shown as supported on the judgement's word, nor taken away by a second look.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from rag.cache import JsonCache, key
from rag.config import Settings
from rag.models.llm import ChatModel
from rag.prompts import load_prompt
from rag.textdates import annotate
from rag.verify.lexicon import lexicon


@dataclass
class Judge:
    llm: ChatModel
    model: str  # names the model in cache keys
    cache_dir: Path | None = None
    budget: int | None = None  # most model calls (an answer's latency is bounded; a draft's check is not)
    # calls beyond the budget kept for the answer look (a question given: rag.verify.answers_question), the last
    # and most telling look at a sentence, which the claim judgements before it would otherwise have spent
    reserve: int = 0
    calls: int = 0
    cached: int = 0
    seconds: float = 0.0
    _memo: dict[str, float] = field(default_factory=dict)  # P(YES) by cache key
    last: float | None = None  # the P(YES) of the last call that asked the model

    def __call__(self, claim: str, evidence: str, published: str | None, title: str = "",
                 cut: float | None = None) -> bool:
        """Supported: P(YES) at or above `cut` (default `judge_yes`); out of budget is a no."""
        cut = lexicon().thresholds.get("judge_yes", 0.5) if cut is None else cut
        p = self.probability(claim, evidence, published, title)
        return p is not None and p >= cut

    def probability(self, claim: str, evidence: str, published: str | None, title: str = "",
                    question: str = "") -> float | None:
        """P(YES) of the model's one-word reply, from the cache when asked before; None when out of budget.
        With `question`, the claim is an answer to it, and the model is asked whether the evidence gives that
        answer to that question (prompts/judge_answer.md) rather than whether it states the claim."""
        prompt = (load_prompt("judge_answer", {"evidence", "question", "answer"}) if question
                  else load_prompt("judge", {"evidence", "claim"}))
        # relative dates resolved as in the answer prompt ("on Thursday (23 June 2016)"): the small model
        # cannot count days back from the publication date; the title names the story the window is part of
        # ("Google buys DoubleClick" for "when Google agreed to buy it"), as the names check reads it
        source = " ".join(x for x in (f"titled {title!r}" if title else "", f"published {published}" if published
                                      else "") if x)
        dated = f"From an article {source}: {annotate(evidence, published)}" if source else evidence
        k = key("judge", prompt.sha, self.model, claim, dated, *([question] if question else []))
        if k in self._memo:
            return self._memo[k]
        cache = JsonCache(self.cache_dir) if self.cache_dir else None
        hit = cache.get(k) if cache else None
        if isinstance(hit, (bool, float)):
            self.cached += 1
            self._memo[k] = float(hit)
            return self._memo[k]
        if self.budget is not None and self.calls >= self.budget + (self.reserve if question else 0):
            return None  # out of budget: unsure
        system, user = (prompt.render(evidence=dated, question=question, answer=claim) if question
                        else prompt.render(evidence=dated, claim=claim))
        t0 = time.monotonic()
        ask = getattr(self.llm, "yes_probability", None)
        p = ask(system, user) if ask else None
        if p is None:
            word = self.llm.complete(system, user, 2).text.strip().upper()
            p = 1.0 if word.startswith("YES") else 0.0 if word.startswith("NO") else None
        self.calls += 1
        self.seconds += time.monotonic() - t0
        self.last = p
        if p is None:
            return None  # neither yes nor no: unsure, and not cached
        self._memo[k] = p
        if cache:
            cache.put(k, p)
        return p


def cache_dir(settings: Settings) -> Path:
    """Where the judgements on this index are cached (P(YES) by claim, evidence, prompt and model)."""
    return settings.index_dir / "cache" / "judge"


def make_judge(llm: ChatModel, settings: Settings, budget: int | None = None, reserve: int = 0) -> Judge | None:
    """The judgement for this model, cached under the index, or None when RAG_VERIFY_JUDGE=off."""
    if settings.verify_judge == "off":
        return None
    name = str(getattr(llm, "model", None) or type(llm).__name__)
    return Judge(llm, name, cache_dir(settings), budget=budget, reserve=reserve)

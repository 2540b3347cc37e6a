"""Answering a question from the indexed articles: its dates (rag.answering.timeframe), hybrid date-aware
retrieval (rag.answering.retrieve), the evidence the model reads (rag.answering.evidence), a question asked in
parts (rag.answering.decompose) with code's arithmetic over the verified parts (rag.answering.derive), and the
answer, verified and cited (rag.answering.answer). Named "answering", not STYLE.md's "ask": `rag.ask` is the
public function, which a subpackage of that name would shadow."""

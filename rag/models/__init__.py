"""The models behind the library, each one small interface chosen by settings: the embedder (rag.models.embed),
the chat model and the packaged local server (rag.models.llm), and the OpenAI-compatible endpoints both may use
instead (rag.models.backends)."""

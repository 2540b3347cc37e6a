"""`rag web`: the local web app and HTTP API, a thin face over the same library calls as the CLI.

    app.py    the ASGI app (FastAPI): security headers, body limit, errors as one line; `serve`
    api.py    the JSON API (/api/...), server-sent events for ask and brief, token-checked writes
    pages.py  the HTML pages (Jinja2 templates of rag/assets, autoescaped; one script file, no inline script)
    state.py  the embedder and model loaded once, rate counts, cited spans, briefs written
    queue.py  many users, one model: a first-come queue with positions and cancellation
"""

from rag.web.app import create_app, serve

__all__ = ["create_app", "serve"]

"""Jinja2 templates of the static site `rag daily` writes (rag.site): HTML pages and the Atom feed."""

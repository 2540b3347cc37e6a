"""What users read, rendered from the library's results: terminal text (rag.render.text, made safe by
rag.render.terminal), the digest's and the brief's terminal, Markdown and HTML forms (rag.render.digest,
rag.render.brief), and the Jinja2 environment of every HTML page, autoescaped (rag.render.html)."""

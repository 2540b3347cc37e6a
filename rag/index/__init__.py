"""The article store's engines: one small interface (`db.Database`) with two implementations, the embedded
SQLite file in RAG_INDEX_DIR (default) and a PostgreSQL server (RAG_DATABASE_URL). Each holds the articles,
chunk offsets, ingest state, the lexical index (FTS5 / PostgreSQL full-text search) and the writer lock."""

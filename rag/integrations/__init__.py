"""Adapters that let other frameworks use this index (rag.integrations.llamaindex)."""

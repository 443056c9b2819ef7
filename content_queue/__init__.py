"""Articles and deliveries: models, storage (SQLite/PostgreSQL), ingestion and workflow rules.

This package never imports ``bot``.
"""

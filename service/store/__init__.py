"""Persistence: SQLAlchemy models, engines, repositories and the Alembic migrations."""

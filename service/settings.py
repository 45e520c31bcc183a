"""One validated settings object, read from ``RAPPORT_*`` environment variables.

Read once (``get_settings`` is cached) and injected; the domain never sees it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.store.urls import driver_url

DEFAULT_DATABASE_URL = "sqlite:///data/rapport.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RAPPORT_", frozen=True, extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="sqlite:///relative.db, sqlite:////absolute.db or postgresql://user@host/db",
    )
    instruments_dirs: str = Field(
        default="",
        description="Colon-separated directories of extra instrument definition files.",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    auto_migrate: bool = Field(
        default=True, description="Apply pending migrations when `rapport serve` starts."
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    db_pool_size: int = Field(default=10, ge=1, le=200)

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        driver_url(value)  # raises ValueError with a readable message
        return value

    @property
    def instrument_directories(self) -> tuple[Path, ...]:
        return tuple(Path(p) for p in self.instruments_dirs.split(":") if p.strip())


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()

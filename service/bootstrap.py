"""The composition root: build every long-lived service from the settings, once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from service.app.instruments import InstrumentService
from service.domain.instruments.catalogue import load_catalogue
from service.settings import Settings
from service.store.engine import create_engine


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    instruments: InstrumentService
    engine: AsyncEngine


def build_services(settings: Settings) -> Services:
    catalogue = load_catalogue(settings.instrument_directories)
    return Services(
        settings=settings,
        instruments=InstrumentService(catalogue),
        engine=create_engine(settings.database_url, settings.db_pool_size),
    )

"""The composition root: build every long-lived service from the settings, once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from service.app.administrations import Administrations
from service.app.alerting import Alerts
from service.app.auth import Authenticator
from service.app.batches import BatchReads
from service.app.charts import ChartData
from service.app.corrections import Corrections
from service.app.insights import Insights
from service.app.instruments import InstrumentService
from service.app.records import Records
from service.app.smart import TokenEndpoint
from service.app.view_links import ViewLinks
from service.app.webhook_delivery import DeliveryWorker
from service.app.webhooks import Webhooks
from service.domain.instruments.catalogue import load_catalogue
from service.domain.webhooks import Retry
from service.settings import Settings
from service.store.database import Database, open_database
from service.store.runner import StoreTransact


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    database: Database
    transact: StoreTransact
    instruments: InstrumentService
    authenticator: Authenticator
    records: Records
    administrations: Administrations
    insights: Insights
    alerts: Alerts
    batches: BatchReads
    tokens: TokenEndpoint
    webhooks: Webhooks
    corrections: Corrections
    delivery: DeliveryWorker
    charts: ChartData
    view_links: ViewLinks

    def close(self) -> None:
        self.database.close()


def build_services(settings: Settings) -> Services:
    catalogue = load_catalogue(settings.instrument_directories)
    instruments = InstrumentService(catalogue)
    database = open_database(settings.database_url, settings.db_pool_size)
    transact = StoreTransact(database)
    rules = settings.clinical_rules
    insights = Insights(transact, instruments, rules)
    return Services(
        settings=settings,
        database=database,
        transact=transact,
        instruments=instruments,
        authenticator=Authenticator(transact, settings.api_key_cache_seconds),
        records=Records(transact),
        administrations=Administrations(transact, instruments, rules),
        insights=insights,
        alerts=Alerts(transact),
        batches=BatchReads(transact),
        tokens=TokenEndpoint(transact),
        webhooks=Webhooks(transact, settings.webhook_hosts),
        corrections=Corrections(transact, instruments),
        delivery=DeliveryWorker(
            transact,
            settings.webhook_hosts,
            Retry(
                timedelta(seconds=settings.webhook_retry_seconds),
                attempts=settings.webhook_max_attempts,
            ),
            poll_seconds=settings.webhook_poll_seconds,
        ),
        charts=ChartData(transact, instruments, insights, rules),
        view_links=ViewLinks(transact),
    )

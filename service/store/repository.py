"""The repository of the clinical record over one open transaction.

SQL lives in ``service.store.queries``, one module per concept; rows are mapped to domain
records before they leave it.
"""

from __future__ import annotations

from service.store.queries.administrations import AdministrationQueries
from service.store.queries.alerts import AlertQueries
from service.store.queries.alliance import AllianceQueries
from service.store.queries.audit import AuditQueries, StoredResponse
from service.store.queries.clients import ClientQueries
from service.store.queries.clinical_search import ClinicalSearchQueries
from service.store.queries.people import ApiKeyRecord, PeopleQueries
from service.store.queries.summaries import SummaryQueries
from service.store.queries.view_links import ViewLinkQueries
from service.store.queries.webhooks import WebhookQueries

__all__ = ["ApiKeyRecord", "SqlStore", "StoredResponse"]


class SqlStore(
    PeopleQueries,
    AdministrationQueries,
    AlertQueries,
    AuditQueries,
    SummaryQueries,
    ClientQueries,
    WebhookQueries,
    ClinicalSearchQueries,
    ViewLinkQueries,
    AllianceQueries,
):
    """Implements ``service.app.ports.Store``."""

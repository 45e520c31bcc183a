"""Table models (SQLAlchemy 2, typed). Suffixed ``Table`` so domain names stay free.

Every row carries ``tenant_id``; uniqueness is always scoped by tenant. Relationships are
``lazy="raise"``: repositories state what they load, and a forgotten eager load fails in a
test instead of issuing hidden queries in production.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.store.models import Base
from service.store.types import UtcDateTime

TZ = UtcDateTime()


class TenantTable(Base):
    __tablename__ = "tenants"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(TZ)


class ApiKeyTable(Base):
    """Only a SHA-256 of the secret is stored; the token is shown once, at creation."""

    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(TZ)
    revoked_at: Mapped[datetime | None] = mapped_column(TZ)


class PatientTable(Base):
    __tablename__ = "patients"
    __table_args__ = (UniqueConstraint("tenant_id", "external_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"))
    external_id: Mapped[str] = mapped_column(String(200))
    population: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(TZ)


class PractitionerTable(Base):
    __tablename__ = "practitioners"
    __table_args__ = (UniqueConstraint("tenant_id", "external_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"))
    external_id: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(TZ)


class DyadTable(Base):
    __tablename__ = "dyads"
    __table_args__ = (
        Index("ix_dyads_tenant_id_practitioner_id", "tenant_id", "practitioner_id"),
        Index("ix_dyads_tenant_id_patient_id", "tenant_id", "patient_id"),  # FHIR search
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), index=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    practitioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("practitioners.id"))
    started_on: Mapped[date | None] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(TZ)

    patient: Mapped[PatientTable] = relationship(lazy="raise")
    practitioner: Mapped[PractitionerTable] = relationship(lazy="raise")


class SessionTable(Base):
    """A meeting of a dyad, numbered from 1; created when an administration first names it."""

    __tablename__ = "sessions"
    __table_args__ = (
        UniqueConstraint("dyad_id", "number"),
        CheckConstraint("number >= 1", name="positive_number"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"))
    dyad_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dyads.id"))
    number: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(TZ)


class AdministrationTable(Base):
    __tablename__ = "administrations"
    __table_args__ = (
        Index("ix_administrations_dyad_id_id", "dyad_id", "id"),
        Index("ix_administrations_dyad_id_instrument", "dyad_id", "instrument"),
        Index("ix_administrations_dyad_id_session_number_id", "dyad_id", "session_number", "id"),
        # FHIR search by time (migration 0005_fhir).
        Index("ix_administrations_tenant_id_completed_at_id", "tenant_id", "completed_at", "id"),
        Index(
            "ix_administrations_tenant_id_dyad_id_completed_at_id",
            "tenant_id",
            "dyad_id",
            "completed_at",
            "id",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), index=True)
    dyad_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dyads.id"))
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sessions.id"))
    session_number: Mapped[int] = mapped_column(Integer)
    instrument: Mapped[str] = mapped_column(String(64))
    instrument_version: Mapped[str] = mapped_column(String(32))
    respondent: Mapped[str] = mapped_column(String(20))
    completed_at: Mapped[datetime] = mapped_column(TZ)
    responses: Mapped[dict[str, Any]] = mapped_column(JSON)
    score: Mapped[dict[str, Any]] = mapped_column(JSON)
    total: Mapped[float | None] = mapped_column(Float)
    # Scale scores by scale id, copied from ``score`` so change and concordance statistics
    # read a small column instead of parsing every full result.
    scale_scores: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(TZ)
    # Entered in error: never deleted, left out of every statistic and alert rule.
    voided_at: Mapped[datetime | None] = mapped_column(TZ)
    voided_by: Mapped[str | None] = mapped_column(String(64))
    void_reason: Mapped[str | None] = mapped_column(Text)


class IdempotencyKeyTable(Base):
    """A stored response per (tenant, key); the unique key makes concurrent retries safe."""

    __tablename__ = "idempotency_keys"

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(TZ)


class AuditEventTable(Base):
    """One audit event, a link of its tenant's hash chain (service/domain/audit_chain.py)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_tenant_id_occurred_at", "tenant_id", "occurred_at"),
        UniqueConstraint("tenant_id", "seq", name="uq_audit_events_tenant_id_seq"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(20))
    occurred_at: Mapped[datetime] = mapped_column(TZ)
    detail: Mapped[str | None] = mapped_column(Text)
    seq: Mapped[int] = mapped_column(BigInteger)  # 1, 2, ... within the tenant's chain
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditChainHeadTable(Base):
    """The newest link of a tenant's audit chain. Writers lock this row (INSERT ... ON
    CONFLICT DO UPDATE) to append, which orders concurrent writers and processes; it also
    lets ``rapport audit verify`` notice that the newest events were deleted."""

    __tablename__ = "audit_chain_heads"

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class AlertTable(Base):
    """One alert per (dyad, kind, evidence): the unique key makes re-evaluation harmless."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "dyad_id", "kind", "evidence_key"),
        Index("ix_alerts_tenant_id_status_id", "tenant_id", "status", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"))
    dyad_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dyads.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    rule: Mapped[str] = mapped_column(String(128))
    evidence_key: Mapped[str] = mapped_column(String(200))
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(TZ)
    acknowledged_at: Mapped[datetime | None] = mapped_column(TZ)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    acknowledged_note: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(TZ)
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    acknowledged_actor: Mapped[str | None] = mapped_column(String(200))
    resolved_actor: Mapped[str | None] = mapped_column(String(200))
    resolved_note: Mapped[str | None] = mapped_column(Text)


class SeriesSummaryTable(Base):
    """Alert evaluation's summary of one dyad's series of one instrument
    (service.domain.series_summary). Derived data: rebuilt from the administrations
    whenever it may not cover them exactly. ``version`` is the id of the administration
    that last wrote the row: a writer replaces the summary only if it still has the
    version that writer read."""

    __tablename__ = "series_summaries"

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"))
    dyad_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dyads.id"), primary_key=True)
    instrument: Mapped[str] = mapped_column(String(64), primary_key=True)
    rules_key: Mapped[str] = mapped_column(String(32))
    administrations: Mapped[int] = mapped_column(Integer)
    last_session: Mapped[int] = mapped_column(Integer)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[uuid.UUID] = mapped_column(Uuid)


class SmartClientTable(Base):
    """A SMART Backend Services client: an EHR's backend, known by its public keys."""

    __tablename__ = "smart_clients"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)  # the OAuth client_id
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), index=True)
    jwks: Mapped[str] = mapped_column(Text)  # a JSON Web Key Set of public keys
    jwks_url: Mapped[str | None] = mapped_column(String(2000))
    scopes: Mapped[str] = mapped_column(String(2000))  # SMART scopes, space-separated
    created_at: Mapped[datetime] = mapped_column(TZ)
    revoked_at: Mapped[datetime | None] = mapped_column(TZ)


class ClientAssertionTable(Base):
    """The ``jti`` of every client assertion accepted, kept while the assertion could still
    be replayed: the primary key refuses a second use, in every process."""

    __tablename__ = "client_assertions"

    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("smart_clients.id"), primary_key=True)
    jti: Mapped[str] = mapped_column(String(255), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"))
    expires_at: Mapped[datetime] = mapped_column(TZ, index=True)


class AccessTokenTable(Base):
    """A short-lived access token issued to a SMART client; only a SHA-256 of its secret."""

    __tablename__ = "access_tokens"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"))
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("smart_clients.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(String(100))  # Rapport's scopes the grant maps onto
    granted: Mapped[str] = mapped_column(String(2000))  # the SMART scopes granted
    created_at: Mapped[datetime] = mapped_column(TZ)
    expires_at: Mapped[datetime] = mapped_column(TZ, index=True)


class WebhookTable(Base):
    """An EHR's subscription. The secret signs deliveries, so it is kept (shown once)."""

    __tablename__ = "webhooks"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[str] = mapped_column(String(200))  # event types, comma-separated
    secret: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(TZ)
    deleted_at: Mapped[datetime | None] = mapped_column(TZ)


class WebhookDeliveryTable(Base):
    """The outbox: one row per event and subscriber, written in the transaction that made
    the event, sent (and re-sent) by the delivery worker of whichever process claims it."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index(None, "status", "next_attempt_at"), Index(None, "webhook_id", "id"))

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)  # time-ordered: event order
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"))
    webhook_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhooks.id"))
    dyad_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dyads.id"))
    event_type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)  # the exact bytes signed and sent, as text
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime | None] = mapped_column(TZ)
    leased_until: Mapped[datetime | None] = mapped_column(TZ)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(TZ)
    delivered_at: Mapped[datetime | None] = mapped_column(TZ)


class ViewLinkSecretTable(Base):
    """Each tenant's secret for signing view links (service.app.view_links): in the
    database, so every server process signs and checks links alike. Created at the
    tenant's first link."""

    __tablename__ = "view_link_secrets"

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(TZ)


class AlliancePairTable(Base):
    """One paired session of a dyad: the latest client form's total minus the latest
    therapist form's (service.domain.calibration). Derived data, rewritten whenever an
    administration of the session is stored or voided, and rebuilt from the
    administrations when the summary rule or the pairs change."""

    __tablename__ = "alliance_pairs"

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"))
    dyad_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dyads.id"), primary_key=True)
    client_form: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    difference: Mapped[float] = mapped_column(Float)


class AllianceSummaryTable(Base):
    """A dyad's paired sessions of one pair, summarised (service.domain.calibration):
    what a practitioner's calibration reads, one row per dyad. Kept with alliance_pairs."""

    __tablename__ = "alliance_summaries"

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"))
    dyad_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dyads.id"), primary_key=True)
    client_form: Mapped[str] = mapped_column(String(64), primary_key=True)
    pairs: Mapped[int] = mapped_column(Integer)
    difference_sum: Mapped[float] = mapped_column(Float)
    squared_deviations: Mapped[float] = mapped_column(Float)


class AllianceSummaryStateTable(Base):
    """Which rule and client/therapist pairs the alliance summaries were built for (one
    row). Another key at startup means a rebuild (service.app.alliance_summaries)."""

    __tablename__ = "alliance_summary_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    forms_key: Mapped[str] = mapped_column(Text)
    rebuilt_at: Mapped[datetime] = mapped_column(TZ)

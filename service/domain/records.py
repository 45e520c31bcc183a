"""The clinical record: who is treated by whom, and what was measured when.

Plain frozen dataclasses; persistence maps to and from them, and no ORM row leaves the
store. Every record belongs to exactly one tenant.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from service.domain.corrections import AdministrationStatus, Voided
from service.domain.instruments.model import Population, Respondent


class Scope(StrEnum):
    READ = "read"
    WRITE = "write"
    AUDIT = "audit"  # read the tenant's own audit trail; never granted by default


# What a key gets when created without --scope: the audit trail is a separate grant, so a
# key issued to an integration cannot read who did what across the tenant.
DEFAULT_SCOPES = frozenset({Scope.READ, Scope.WRITE})


@dataclass(frozen=True, slots=True)
class Tenant:
    id: uuid.UUID
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an API key of one tenant, or a SMART backend client holding one of
    its access tokens (``key_id`` is then the client's id), with its scopes."""

    tenant_id: uuid.UUID
    key_id: uuid.UUID
    scopes: frozenset[Scope]
    client: bool = False  # a SMART backend client (service/app/smart.py), not an API key

    def can(self, scope: Scope) -> bool:
        return scope in self.scopes

    @property
    def actor(self) -> str:
        """Who the audit trail names: the API key's id, or ``client:<id>`` for a client."""
        return f"client:{self.key_id}" if self.client else str(self.key_id)


@dataclass(frozen=True, slots=True)
class ApiKeySummary:
    """An API key as an operator sees it: never its secret, nor the secret's hash."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    prefix: str
    scopes: frozenset[Scope]
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class Patient:
    id: uuid.UUID
    tenant_id: uuid.UUID
    external_id: str
    population: Population | None  # age group, for the population cut-offs; nothing more
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Practitioner:
    id: uuid.UUID
    tenant_id: uuid.UUID
    external_id: str
    display_name: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Dyad:
    """One patient with one practitioner over one episode of care."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    patient_id: uuid.UUID
    practitioner_id: uuid.UUID
    started_on: date | None
    ended_on: date | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Administration:
    """One completed instrument, its raw answers and the score stored with its provenance."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    dyad_id: uuid.UUID
    session: int
    instrument: str
    instrument_version: str
    respondent: Respondent
    completed_at: datetime
    responses: dict[str, Any]
    score: dict[str, Any]
    created_at: datetime
    voided: Voided | None = None  # entered in error (service.domain.corrections)
    superseded_by: uuid.UUID | None = None  # a later submission of its session and instrument

    @property
    def status(self) -> AdministrationStatus:
        if self.voided is not None:
            return AdministrationStatus.ENTERED_IN_ERROR
        if self.superseded_by is not None:
            return AdministrationStatus.SUPERSEDED
        return AdministrationStatus.FINAL


class Outcome(StrEnum):
    SUCCESS = "success"
    DENIED = "denied"
    NOT_FOUND = "not-found"
    INVALID = "invalid"
    CONFLICT = "conflict"
    UNAUTHENTICATED = "unauthenticated"  # a known key with a wrong secret, or revoked
    ERROR = "error"  # the service failed (a 500); detail names the incident


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """Who did what to which object of which tenant, when, and how it ended."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    actor: str  # the API key id, or "cli" for administrative commands
    action: str  # e.g. patient.create, patient.read, administration.list
    object_type: str
    object_id: str | None
    outcome: Outcome
    occurred_at: datetime
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class SmartClient:
    """A SMART Backend Services client of one tenant: its public keys and allowed scopes."""

    id: uuid.UUID  # the OAuth client_id
    tenant_id: uuid.UUID
    jwks: str  # a JSON Web Key Set (public keys only), as registered
    jwks_url: str | None
    scopes: tuple[str, ...]  # SMART scopes the client may be granted
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class AccessToken:
    """An access token issued to a client, as the authenticator checks it."""

    tenant_id: uuid.UUID
    client_id: uuid.UUID
    secret_hash: str
    scopes: frozenset[Scope]
    expires_at: datetime
    client_revoked: bool

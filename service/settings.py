"""One validated settings object, read from ``RAPPORT_*`` environment variables.

Read once (``get_settings`` is cached) and injected; the domain never sees it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.app.rules import ClinicalRules
from service.domain.nhs_talking_therapies import DeteriorationRule
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
    log_format: Literal["json", "text"] = Field(
        default="json", description="json: one JSON object per line; text: for development"
    )
    metrics: str = Field(
        default="on",
        description="on: GET /metrics on the service's port (no token); off; or a port "
        "number: /metrics served on that port alone",
    )
    workers: int = Field(
        default=1, ge=1, le=64, description="Server processes (PostgreSQL only beyond 1)"
    )
    api_key_cache_seconds: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        description="How long a process trusts a validated API key: a revoked key works "
        "that long at most, in every process",
    )
    db_pool_size: int = Field(default=10, ge=1, le=200)
    max_connections: int = Field(
        default=1000, ge=1, le=100_000,
        description="Open connections per server process; one more is answered 503 with "
        "Retry-After and closed before a byte of it is read.",
    )  # fmt: skip
    header_timeout_seconds: float = Field(
        default=10.0, gt=0, le=300,
        description="Time a client has to send a request's headers, from its first byte (or "
        "from connecting); then the connection is closed (slow-header clients).",
    )  # fmt: skip
    body_timeout_seconds: float = Field(
        default=10.0, gt=0, le=3600,
        description="Time a client has to send a request's whole body once its headers "
        "arrived; then the connection is closed (slow-body clients).",
    )  # fmt: skip
    max_body_bytes: int = Field(
        default=1_048_576, ge=1024, description="The largest request body accepted (413 beyond)"
    )
    graphql_introspection: bool = Field(
        default=False, description="Allow GraphQL introspection (off in production)"
    )
    graphql_ide: bool = Field(default=False, description="Serve GraphiQL at /graphql")
    fhir_canonical_base: str = Field(
        default="http://rapport.invalid/fhir",
        description="Base of canonical URLs of Rapport's Questionnaires and code systems",
        pattern=r"^https?://\S+[^/]$",
    )
    frame_ancestors: str = Field(
        default="'none'",
        description="CSP frame-ancestors of the dyad page (view links): the EHR origins "
        "allowed to embed it in an iframe, space-separated; 'none' forbids framing",
        pattern=r"^[^;,\r\n]+$",
    )
    public_url: str | None = Field(
        default=None,
        description=(
            "The URL EHRs reach Rapport at (https://rapport.example.org): the audience a SMART "
            "client assertion names is its /auth/token. Unset: taken from each request."
        ),
        pattern=r"^https?://\S+[^/]$",
    )
    webhook_allowed_hosts: str = Field(
        default="",
        description="Comma-separated hosts webhooks may be delivered to; empty: none (no "
        "webhook can be created or sent until an operator allows a host)",
        max_length=2000,
    )
    webhook_retry_seconds: float = Field(
        default=5.0, gt=0, le=3600, description="Wait before the first retry; doubled each time"
    )
    webhook_max_attempts: int = Field(default=10, ge=1, le=50)
    webhook_poll_seconds: float = Field(default=1.0, gt=0, le=60)

    @property
    def webhook_hosts(self) -> frozenset[str]:
        return frozenset(
            h.strip().lower() for h in self.webhook_allowed_hosts.split(",") if h.strip()
        )

    # Clinical rules (docs/clinical-rules.md gives each default's source).
    alerts_enabled: bool = Field(default=True, description="Raise alerts on stored scores")
    rupture_baseline_sessions: int = Field(default=3, ge=2, le=20)
    rupture_drop_sds: float = Field(default=2.0, gt=0, le=5)
    rupture_repair_window: int = Field(default=3, ge=1, le=20)
    rupture_min_spread_fraction: float = Field(default=0.05, ge=0, le=1)
    session_drop_fraction: float | None = Field(default=0.10, gt=0, le=1)
    not_on_track_by_session: int = Field(default=6, ge=2, le=100)
    discordance_z: float = Field(default=1.96, gt=0, le=5)
    nhs_tt_deterioration_rule: DeteriorationRule = DeteriorationRule.NO_IMPROVEMENT_ON_OTHER

    @property
    def clinical_rules(self) -> ClinicalRules:
        return ClinicalRules(
            rupture_baseline_sessions=self.rupture_baseline_sessions,
            rupture_drop_sds=self.rupture_drop_sds,
            rupture_repair_window=self.rupture_repair_window,
            rupture_min_spread_fraction=self.rupture_min_spread_fraction,
            session_drop_fraction=self.session_drop_fraction,
            not_on_track_by_session=self.not_on_track_by_session,
            discordance_z=self.discordance_z,
            nhs_tt_deterioration=self.nhs_tt_deterioration_rule,
            alerts_enabled=self.alerts_enabled,
        )

    @field_validator("metrics")
    @classmethod
    def _metrics_mode(cls, value: str) -> str:
        value = value.strip().lower()
        if value in ("on", "off") or (value.isdigit() and 1 <= int(value) <= 65535):
            return value
        raise ValueError("RAPPORT_METRICS must be 'on', 'off' or a port number (1-65535)")

    @property
    def metrics_port(self) -> int | None:
        """The port /metrics is served on apart from the service, if any."""
        return int(self.metrics) if self.metrics.isdigit() else None

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

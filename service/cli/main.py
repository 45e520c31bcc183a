"""The ``rapport`` command: serve, migrate, export the API contract.

Every command works from any working directory: the migrations and instrument definitions
ship inside the package.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from service.app.alliance_summaries import AllianceSummaries
from service.app.audit_trail import verify as verify_trail
from service.app.auth import CACHE_SECONDS, issue_api_key, list_api_keys, revoke_api_key
from service.app.instruments import InstrumentService
from service.cli import backup, clients, healthcheck
from service.cli.serve import serve
from service.domain.errors import NotFound
from service.domain.instruments.catalogue import load_catalogue
from service.domain.records import DEFAULT_SCOPES, ApiKeySummary, Scope
from service.logs import configure as configure_logging
from service.settings import Settings
from service.store import migrate
from service.store.database import open_database
from service.store.engine import create_engine
from service.store.runner import StoreTransact

log = logging.getLogger("rapport")
T = TypeVar("T")
REVOCATION_BOUND = (
    f"a running server refuses a revoked key within {CACHE_SECONDS:g} seconds by default "
    "(RAPPORT_API_KEY_CACHE_SECONDS), in each of its processes (each caches validated keys "
    "that long)"
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        print(f"rapport: invalid settings:\n{exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_format, settings.log_level)
    handler = {
        "serve": _serve,
        "migrate": _migrate,
        "rebuild-summaries": _rebuild_summaries,
        "openapi": _openapi,
        "healthcheck": _healthcheck,
        "backup": backup.run_backup,
        "restore": backup.run_restore,
        "graphql-schema": _graphql_schema,
        "create-api-key": _create_api_key,
        "list-api-keys": _list_api_keys,
        "revoke-api-key": _revoke_api_key,
        "register-client": _register_client,
        "audit": _audit,
    }[args.command]
    try:
        return handler(settings, args)
    except NotFound as exc:  # an unknown tenant or key prefix: said on stderr, exit 1
        return _fail(exc.detail)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rapport", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host", help="interface to bind (default RAPPORT_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default RAPPORT_PORT or 8000)")
    serve.add_argument(
        "--no-migrate",
        action="store_true",
        help="do not apply pending migrations first (default: RAPPORT_AUTO_MIGRATE)",
    )
    serve.add_argument("--no-access-log", action="store_true", help="do not log each request")
    serve.add_argument(
        "--workers",
        type=int,
        choices=range(1, 65),
        metavar="N",
        help="worker processes, PostgreSQL only beyond 1 (default RAPPORT_WORKERS or 1)",
    )
    commands.add_parser("migrate", help="upgrade the database schema to the latest revision")
    commands.add_parser(
        "rebuild-summaries",
        help="rebuild the per-dyad alliance summaries calibration reads, from the "
        "administrations (migrate and serve do it when the instrument pairs change)",
    )
    key = commands.add_parser(
        "create-api-key",
        help="create a tenant if new and an API key for it; the token is the last line",
    )
    key.add_argument("--tenant", required=True, help="tenant (clinic) name")
    key.add_argument(
        "--scope",
        action="append",
        choices=[s.value for s in Scope],
        help="read, write or audit (the tenant's audit trail); repeat for several "
        "(default: read and write, never audit)",
    )
    listing = commands.add_parser(
        "list-api-keys",
        help="list a tenant's API keys: prefix, scopes, created, revoked or active",
        description="One line per key: prefix, scopes, created_at, revoked_at or 'active'. "
        "Secrets are never stored, and their hashes are never shown.",
    )
    listing.add_argument("--tenant", required=True, help="tenant (clinic) name")
    revoke = commands.add_parser(
        "revoke-api-key",
        help=f"revoke an API key by its prefix or whole token; {REVOCATION_BOUND}",
        description=f"Revoke an API key (audited; revoking it again changes nothing). "
        f"Note: {REVOCATION_BOUND}.",
    )
    revoke.add_argument(
        "key", metavar="PREFIX", help="the key's prefix (rap_<prefix>_<secret>), or the whole token"
    )
    audit = commands.add_parser("audit", help="the audit trail: verify its hash chains")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_commands.add_parser(
        "verify",
        help="check every tenant's audit hash chain (or one); exit 1 at the first broken link",
        description="Recompute each tenant's audit chain: a row changed, deleted or inserted "
        "behind the service's back breaks it. Prints one line per tenant; exits 1 naming the "
        "first broken link when any chain is broken.",
    )
    verify.add_argument("--tenant", help="only this tenant (default: every tenant)")
    backup.add_commands(commands.add_parser)
    clients.add_parser(commands)
    health = commands.add_parser(
        "healthcheck",
        help="exit 0 when the local service answers /healthz (container probe)",
        description="Probe http://HOST:PORT/healthz. HOST and PORT default to the --host and "
        "--port of a `rapport serve` running as PID 1 (a container), else RAPPORT_HOST and "
        "RAPPORT_PORT; a wildcard host is probed on 127.0.0.1.",
    )
    health.add_argument("--host", help="host to probe (default: as described above)")
    health.add_argument("--port", type=int, help="port to probe (default: as described above)")
    openapi = commands.add_parser("openapi", help="write the OpenAPI document")
    openapi.add_argument("--output", type=Path, help="file to write (default: stdout)")
    sdl = commands.add_parser("graphql-schema", help="write the GraphQL schema (SDL)")
    sdl.add_argument("--output", type=Path, help="file to write (default: stdout)")
    return parser


def _migrate(settings: Settings, _args: argparse.Namespace) -> int:
    _upgrade(settings)
    log.info("database schema is at revision %s", migrate.head_revision())
    return 0


def _upgrade(settings: Settings) -> None:
    engine = create_engine(settings.database_url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    _rebuild_alliance_summaries(settings, force=False)


def _rebuild_alliance_summaries(settings: Settings, *, force: bool) -> None:
    """Rebuild the alliance summaries calibration reads when they were built for another
    rule or other client/therapist pairs (or ``force``): service.app.alliance_summaries."""
    catalogue = load_catalogue(settings.instrument_directories)
    summaries = AllianceSummaries(InstrumentService(catalogue))
    database = open_database(settings.database_url)
    try:
        transact = StoreTransact(database)
        if asyncio.run(summaries.ensure_current(transact, force=force)):
            log.info("alliance summaries rebuilt from the administrations")
    finally:
        database.close()


def _rebuild_summaries(settings: Settings, _args: argparse.Namespace) -> int:
    _upgrade(settings)
    _rebuild_alliance_summaries(settings, force=True)
    return 0


def _with_store(
    settings: Settings, use_case: Callable[[StoreTransact], Coroutine[Any, Any, T]]
) -> T:
    """Run one use case against the (migrated) database."""
    _upgrade(settings)
    database = open_database(settings.database_url)
    try:
        return asyncio.run(use_case(StoreTransact(database)))
    finally:
        database.close()


def _create_api_key(settings: Settings, args: argparse.Namespace) -> int:
    scopes = frozenset(Scope(s) for s in args.scope) if args.scope else DEFAULT_SCOPES
    token = _with_store(settings, lambda transact: issue_api_key(transact, args.tenant, scopes))
    scope_list = ", ".join(sorted(scopes))
    print(f"API key for tenant '{args.tenant}' with scopes {scope_list}. Shown once; store it now:")
    print(token)
    return 0


def _list_api_keys(settings: Settings, args: argparse.Namespace) -> int:
    keys = _with_store(settings, lambda transact: list_api_keys(transact, args.tenant))
    for key in keys:
        scopes = ",".join(sorted(key.scopes))
        print(f"{key.prefix}  {scopes:<10}  {_when(key.created_at)}  {_revoked(key)}")
    return 0


def _revoke_api_key(settings: Settings, args: argparse.Namespace) -> int:
    revocation = _with_store(settings, lambda transact: revoke_api_key(transact, args.key))
    key = revocation.key
    if not revocation.revoked_now:
        print(f"API key {key.prefix} was already revoked at {_revoked(key)}; nothing changed.")
        return 0
    scopes = ", ".join(sorted(key.scopes))
    print(f"Revoked API key {key.prefix} (id {key.id}, scopes {scopes}) at {_revoked(key)}.")
    seconds = settings.api_key_cache_seconds
    print(
        f"Note: a running server refuses a revoked key within {seconds:g} seconds "
        "(RAPPORT_API_KEY_CACHE_SECONDS), in each of its processes."
    )
    return 0


def _register_client(settings: Settings, args: argparse.Namespace) -> int:
    return clients.register(settings, args, _with_store)


def _audit(settings: Settings, args: argparse.Namespace) -> int:
    verdicts = _with_store(settings, lambda transact: verify_trail(transact, args.tenant))
    broken = 0
    for v in verdicts:
        if v.broken is None:
            print(f"tenant '{v.tenant}': {v.events} event(s), chain intact")
        else:
            broken += 1
            print(f"tenant '{v.tenant}': BROKEN at {v.broken.describe()}")
    if broken:
        return _fail(f"{broken} of {len(verdicts)} audit chain(s) broken")
    return 0


def _when(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _revoked(key: ApiKeySummary) -> str:
    return "active" if key.revoked_at is None else _when(key.revoked_at)


def _fail(message: str) -> int:
    print(f"rapport: {message}", file=sys.stderr)
    return 1


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    # /readyz inspects the schema revision on every probe; keep Alembic's chatter out of logs.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    return serve(settings, args, _upgrade)


def _healthcheck(settings: Settings, args: argparse.Namespace) -> int:
    return healthcheck.probe(settings, args.host, args.port)


def _graphql_schema(_settings: Settings, args: argparse.Namespace) -> int:
    from service.api.graphql.schema import build_schema

    _write(build_schema().as_str() + "\n", args.output)
    return 0


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")


def _openapi(settings: Settings, args: argparse.Namespace) -> int:
    from service.api.app import create_app

    _write(
        json.dumps(create_app(settings).openapi(), indent=2, sort_keys=False) + "\n", args.output
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

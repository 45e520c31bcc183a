"""``rapport register-client``: register an EHR's SMART backend client (service/app/smart.py)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from service.app.smart import DEFAULT_SCOPES, parse_scopes, register_client
from service.settings import Settings
from service.store.runner import StoreTransact

T = TypeVar("T")
WithStore = Callable[[Settings, Callable[[StoreTransact], Coroutine[Any, Any, T]]], T]


def add_parser(commands: Any) -> None:
    register = commands.add_parser(
        "register-client",
        help="register a SMART backend client by its public keys; the client id is the last line",
        description="Register an EHR's backend as a SMART Backend Services client of the tenant "
        "(created if new). It then gets access tokens at POST /auth/token with a client "
        "assertion signed (RS384 or ES384) by one of these keys.",
    )
    register.add_argument("--tenant", required=True, help="tenant (clinic) name")
    register.add_argument(
        "--jwks", required=True, type=Path, help="a JSON Web Key Set file of PUBLIC keys"
    )
    register.add_argument(
        "--jwks-url", help="where the client publishes its keys (consulted for a new kid)"
    )
    register.add_argument(
        "--scope",
        action="append",
        help="a SMART system scope the client may be granted, e.g. system/*.rs; repeat "
        f"(default: {' '.join(DEFAULT_SCOPES)})",
    )


def register(settings: Settings, args: argparse.Namespace, with_store: WithStore[Any]) -> int:
    try:
        jwks = args.jwks.read_text(encoding="utf-8")
        scopes = parse_scopes(" ".join(args.scope)) if args.scope else DEFAULT_SCOPES
        client_id = with_store(
            settings,
            lambda transact: register_client(transact, args.tenant, jwks, args.jwks_url, scopes),
        )
    except (OSError, ValueError) as exc:
        print(f"rapport: {exc}", file=sys.stderr)
        return 2
    print(f"SMART client for tenant '{args.tenant}' with scopes {' '.join(scopes)}. Client id:")
    print(client_id)
    return 0

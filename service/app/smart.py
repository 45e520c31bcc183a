"""SMART Backend Services (HL7 SMART App Launch 2.x): an EHR's backend gets an access token.

The client proves who it is with a JWT it signed (a ``private_key_jwt`` client assertion,
RS384 or ES384) by a key it registered (``rapport register-client``). The assertion is
checked as the specification says: ``iss`` and ``sub`` are the client id, ``aud`` is the
token endpoint's URL, ``exp`` at most five minutes ahead, a ``jti`` never seen before within
its lifetime (stored, so the refusal holds across processes), and a signature by one of the
client's keys. Verification is joserfc's; nothing here parses or checks a signature itself.

An access token is ``rat_<prefix>_<secret>``, stored as a SHA-256 of the secret like an API
key, valid for ``ACCESS_TOKEN_SECONDS``. Its SMART scopes map onto Rapport's read and write.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import secrets
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from service.app.audit import audit_event
from service.app.ports import Store, Transact
from service.domain.errors import Conflict
from service.domain.ids import new_id
from service.domain.records import Outcome, Scope, SmartClient

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALGORITHMS = ("RS384", "ES384")  # what SMART Backend Services requires servers to support
MAX_ASSERTION_SECONDS = 300  # "exp ... no more than five minutes in the future"
ACCESS_TOKEN_SECONDS = 300
TOKEN_PREFIX = "rat"  # noqa: S105 - a public marker, not a secret
# The FHIR resource types Rapport serves; ``*`` is all of them.
RESOURCE_TYPES = frozenset(
    {"*", "Patient", "Practitioner", "Questionnaire", "QuestionnaireResponse", "Observation",
     "Flag"}
)  # fmt: skip
DEFAULT_SCOPES = ("system/*.rs", "system/*.cud")
_SCOPE = re.compile(r"system/(?P<type>\*|[A-Z][A-Za-z]+)\.(?P<perms>c?r?u?d?s?|read|write|\*)")
_JWKS_URL_LIMIT = 64 * 1024


class OAuthError(Exception):
    """An OAuth 2 error response (RFC 6749 section 5.2): ``error`` is its code."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


@dataclass(frozen=True, slots=True)
class TokenGrant:
    access_token: str
    expires_in: int
    scope: str


def parse_scopes(text: str) -> tuple[str, ...]:
    """The SMART system scopes in ``text``, each checked; ``ValueError`` names a bad one."""
    scopes = tuple(dict.fromkeys(text.split()))
    for scope in scopes:
        match = _SCOPE.fullmatch(scope)
        if match is None or not match["perms"] or match["type"] not in RESOURCE_TYPES:
            raise ValueError(
                f"'{scope}' is not a SMART system scope Rapport grants: "
                "system/<type>.<cruds> (v2) or system/<type>.read|write (v1), where <type> "
                f"is one of {', '.join(sorted(RESOURCE_TYPES))}."
            )
    return scopes


def rapport_scopes(scopes: tuple[str, ...]) -> frozenset[Scope]:
    """Rapport's read and write for SMART scopes: r or s reads, c, u or d writes.

    Rapport's permissions are per tenant, not per resource type: a scope on one type grants
    Rapport's read or write on every face, which is documented in docs/smart.md."""
    granted: set[Scope] = set()
    for scope in scopes:
        perms = scope.rsplit(".", 1)[1]
        if perms in {"read", "*"} or "r" in perms or "s" in perms:
            granted.add(Scope.READ)
        if perms in {"write", "*"} or any(p in perms for p in "cud"):
            granted.add(Scope.WRITE)
    return frozenset(granted)


def _covers(allowed: str, requested: str) -> bool:
    """Whether a registered scope allows a requested one (same or wider type and rights)."""
    a_type, a_perms = allowed.split("/", 1)[1].rsplit(".", 1)
    r_type, r_perms = requested.split("/", 1)[1].rsplit(".", 1)
    return a_type in {"*", r_type} and _rights(r_perms) <= _rights(a_perms)


def _rights(perms: str) -> set[str]:
    return {"read": set("rs"), "write": set("cud"), "*": set("cruds")}.get(perms, set(perms))


def public_key_set(jwks_text: str) -> dict[str, Any]:
    """The JSON Web Key Set, checked: RSA or EC public keys, each with a ``kid``."""
    try:
        jwks = json.loads(jwks_text)
        keys = jwks["keys"]
    except (ValueError, TypeError, KeyError) as exc:
        raise ValueError("The JWKS must be a JSON object with a 'keys' list.") from exc
    if not isinstance(keys, list) or not keys:
        raise ValueError("The JWKS has no keys.")
    for key in keys:
        if not isinstance(key, dict) or key.get("kty") not in {"RSA", "EC"}:
            raise ValueError("Each key must be an RSA or EC JSON Web Key.")
        if "d" in key:
            raise ValueError("The JWKS holds a private key: register public keys only.")
        if not isinstance(key.get("kid"), str) or not key["kid"]:
            raise ValueError("Each key needs a 'kid', which assertions name in their header.")
    try:
        KeySet.import_key_set(jwks)
    except (JoseError, ValueError, TypeError) as exc:
        raise ValueError(f"A key of the JWKS cannot be read: {exc}") from exc
    return {"keys": keys}


async def register_client(
    transact: Transact, tenant_name: str, jwks_text: str, jwks_url: str | None,
    scopes: tuple[str, ...],
) -> uuid.UUID:  # fmt: skip
    """Register a client for the tenant (created if new); returns its client id."""
    jwks = public_key_set(jwks_text)
    if jwks_url is not None and not re.fullmatch(r"https?://\S{1,1990}", jwks_url):
        raise ValueError("--jwks-url must be an http(s) URL.")
    parse_scopes(" ".join(scopes))
    if not tenant_name.strip():
        raise ValueError("tenant name must not be empty")
    now, client_id = datetime.now(UTC), new_id()

    def work(store: Store) -> uuid.UUID:
        tenant = store.ensure_tenant(tenant_name.strip(), new_id(), now)
        store.add_smart_client(
            SmartClient(client_id, tenant.id, json.dumps(jwks), jwks_url, scopes, now, None)
        )
        store.record(
            audit_event(
                tenant.id, "cli", "smart-client.register", "smart-client", str(client_id),
                Outcome.SUCCESS,
            )
        )  # fmt: skip
        return client_id

    return await transact(work)


def fetch_jwks(url: str) -> str:
    """The key set published at a client's registered ``jwks_url`` (no redirects)."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(_NoRedirect)
    with opener.open(url, timeout=5) as answer:  # the URL was registered by the operator
        return str(answer.read(_JWKS_URL_LIMIT).decode())


class TokenEndpoint:
    """``POST /auth/token``: a client-credentials grant with a client assertion."""

    def __init__(
        self, transact: Transact, fetch: Callable[[str], str] = fetch_jwks
    ) -> None:  # fmt: skip
        self._transact = transact
        self._fetch = fetch

    async def grant(self, form: Mapping[str, str], token_url: str) -> TokenGrant:
        if form.get("grant_type") != "client_credentials":
            raise OAuthError("unsupported_grant_type", "grant_type must be client_credentials.")
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise OAuthError("invalid_request", f"client_assertion_type must be {ASSERTION_TYPE}.")
        assertion = form.get("client_assertion", "")
        if not assertion:
            raise OAuthError("invalid_request", "client_assertion is required.")
        try:
            requested = parse_scopes(form.get("scope", ""))
        except ValueError as exc:
            raise OAuthError("invalid_scope", str(exc)) from exc
        if not requested:
            raise OAuthError("invalid_scope", "scope is required (e.g. 'system/*.rs').")
        client, claims = await self._verified(assertion, token_url)
        granted = tuple(s for s in requested if any(_covers(a, s) for a in client.scopes))
        if not granted:
            raise OAuthError("invalid_scope", "None of the requested scopes is allowed.")
        return await self._issue(client, claims, granted)

    async def _verified(self, assertion: str, token_url: str) -> tuple[SmartClient, Any]:
        try:
            unverified = jws.extract_compact(assertion.encode())
            header = unverified.headers()
            issuer = json.loads(unverified.payload).get("iss")
            client_id = uuid.UUID(str(issuer))
        except (JoseError, ValueError, TypeError, AttributeError) as exc:
            raise OAuthError("invalid_client", "The client assertion is not a JWT.", 401) from exc
        if header.get("alg") not in ALGORITHMS:
            raise OAuthError("invalid_client", f"The assertion must be signed {ALGORITHMS}.", 401)
        client = await self._transact(
            lambda store: store.find_smart_client(client_id), read_only=True
        )
        if client is None or client.revoked_at is not None:
            raise OAuthError("invalid_client", "The client is unknown or revoked.", 401)
        token = await self._signed(assertion, client, header.get("kid"))
        problem = _claims_problem(token.claims, client, token_url, datetime.now(UTC).timestamp())
        if problem is not None:
            raise OAuthError("invalid_client", f"The client assertion is refused: {problem}.", 401)
        return client, token.claims

    async def _signed(self, assertion: str, client: SmartClient, kid: object) -> Any:
        """The assertion verified by a registered key: the stored set first, then the
        client's ``jwks_url`` (keys rotate there) when the stored set lacks the ``kid``."""
        key_sets = [json.loads(client.jwks)]
        if client.jwks_url is not None and kid not in {k["kid"] for k in key_sets[0]["keys"]}:
            try:
                key_sets.append(
                    public_key_set(await asyncio.to_thread(self._fetch, client.jwks_url))
                )
            except (OSError, ValueError) as exc:
                raise OAuthError(
                    "invalid_client", "The client's jwks_url did not give a usable key set.", 401
                ) from exc
        for key_set in key_sets:
            keys = [k for k in key_set["keys"] if k["kid"] == kid]
            if not keys:
                continue
            try:
                return jwt.decode(
                    assertion, KeySet.import_key_set({"keys": keys}), algorithms=list(ALGORITHMS)
                )
            except (JoseError, ValueError) as exc:
                raise OAuthError(
                    "invalid_client", "The assertion's signature does not verify.", 401
                ) from exc
        raise OAuthError("invalid_client", "No registered key has the assertion's kid.", 401)

    async def _issue(
        self, client: SmartClient, claims: Any, granted: tuple[str, ...]
    ) -> TokenGrant:
        prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        expires = datetime.fromtimestamp(float(claims["exp"]), UTC)

        def work(store: Store) -> None:
            store.accept_assertion(client.tenant_id, client.id, claims["jti"], expires, now)
            store.add_access_token(
                new_id(), client, prefix, token_hash(secret), rapport_scopes(granted), granted,
                now, now + timedelta(seconds=ACCESS_TOKEN_SECONDS),
            )  # fmt: skip
            store.record(
                audit_event(
                    client.tenant_id, f"client:{client.id}", "smart.token", "smart-client",
                    str(client.id), Outcome.SUCCESS, " ".join(granted),
                )
            )  # fmt: skip

        try:
            await self._transact(work)
        except Conflict as exc:  # the jti's primary key: this assertion was used before
            raise OAuthError(
                "invalid_client", "The client assertion was used before (jti replayed).", 401
            ) from exc
        return TokenGrant(
            f"{TOKEN_PREFIX}_{prefix}_{secret}", ACCESS_TOKEN_SECONDS, " ".join(granted)
        )


def _claims_problem(
    claims: Mapping[str, Any], client: SmartClient, token_url: str, now: float
) -> str | None:
    """What is wrong with a verified assertion's claims, or None."""
    if claims.get("iss") != str(client.id) or claims.get("sub") != str(client.id):
        return "iss and sub must both be the client id"
    audience = claims.get("aud")
    if token_url not in (audience if isinstance(audience, list) else [audience]):
        return f"aud must be the token URL {token_url}"
    expires = claims.get("exp")
    if not isinstance(expires, int | float) or isinstance(expires, bool):
        return "exp is required"
    if expires <= now:
        return "the assertion has expired"
    if expires > now + MAX_ASSERTION_SECONDS:
        return "exp must be at most five minutes ahead"
    jti = claims.get("jti")
    if not isinstance(jti, str) or not 0 < len(jti) <= 255:
        return "jti is required (at most 255 characters)"
    return None


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()

"""Audit every refusal and failure that no use case audited itself (issue 16, item 6).

Use cases audit the refusals they raise (``audited``, ``require``) and mark the error so.
Everything else an authenticated caller is refused (a body or path that fails validation,
answers the scorer rejects before the transaction, a 500) is audited here, by the
adapters' error handlers, once the response status is known. A caller whose key was not
recognised belongs to no tenant and leaves no row (a known key with a wrong secret is
audited by the authenticator). Events carry the route template and an error code, never
the request's values.
"""

from __future__ import annotations

import logging

from starlette.requests import Request

from service.app.audit import audit_event
from service.bootstrap import Services
from service.domain.records import Outcome, Principal

log = logging.getLogger("rapport.audit")

_OUTCOME_BY_STATUS = {
    401: Outcome.UNAUTHENTICATED, 403: Outcome.DENIED, 404: Outcome.NOT_FOUND,
    405: Outcome.INVALID, 409: Outcome.CONFLICT,
}  # fmt: skip


def remember_principal(request: Request, principal: Principal) -> None:
    request.state.principal = principal


def principal_of(request: Request) -> Principal | None:
    found = getattr(request.state, "principal", None)
    return found if isinstance(found, Principal) else None


def outcome_for(status: int) -> Outcome:
    if status >= 500:
        return Outcome.ERROR
    return _OUTCOME_BY_STATUS.get(status, Outcome.INVALID)


def action_of(request: Request) -> str:
    """'METHOD /route/{template}': never the concrete path, whose values may be anything."""
    route = request.scope.get("route")
    template = getattr(route, "path", None)
    if template is None:  # a route served outside the router: rebuild its template
        by_value = {str(v): k for k, v in request.scope.get("path_params", {}).items()}
        segments = request.url.path.split("/")
        if by_value and any(s in by_value for s in segments):
            template = "/".join("{" + by_value[s] + "}" if s in by_value else s for s in segments)
        else:
            template = "(no route)"
    return f"{request.method} {template}"[:64]


async def audit_refusal(request: Request, error: Exception, status: int, code: str) -> None:
    """Record the refusal unless a use case already did; never raises (the answer stands)."""
    if getattr(error, "audited", False):
        return
    principal = principal_of(request)
    if principal is None:
        return
    services: Services = request.app.state.services
    event = audit_event(
        principal.tenant_id, principal.actor, action_of(request), "request", None,
        outcome_for(status), code[:200],
    )  # fmt: skip
    try:
        await services.transact(lambda store: store.record(event))
    except Exception:  # the database may be why the request failed; the answer stands
        log.error("could not audit a refused request (status %s, code %s)", status, code)

"""Alerts and concordance in plain words, for the dyad page.

Each sentence is built from the alert's stored evidence (docs/clinical-rules.md names the
rules), so it says what the rule saw rather than interpreting it.
"""

from __future__ import annotations

from typing import Any

from service.api.charts.spec import number, signed
from service.app.insights import ConcordanceView
from service.domain.alerts import Alert, AlertKind


def alert_sentence(alert: Alert) -> str:
    e: dict[str, Any] = alert.evidence
    session = e.get("session")
    at = f" at session {session}" if session is not None else ""
    kind = alert.kind
    if kind is AlertKind.RISK:
        items = ", ".join(str(i) for i in e.get("items", []))
        message = str(e.get("message") or "").rstrip(".")
        return (
            f"A risk item was endorsed{at} (item {items}). {message}. The flag supports, and "
            "never replaces, a clinical risk assessment."
        )
    if kind is AlertKind.DETERIORATION:
        return (
            f"Reliable deterioration on {_name(e)}{at}: a change of {signed(e['change'])} since "
            f"session {e.get('first_session')} (reliable from {number(e.get('minimum_change'))})."
        )
    if kind is AlertKind.NOT_ON_TRACK:
        return (
            f"Not on track on {_name(e)}{at}: no reliable improvement since session "
            f"{e.get('first_session')} (change {signed(e['change'])}; reliable from "
            f"{number(e.get('minimum_change'))})."
        )
    if kind is AlertKind.RUPTURE and "baseline" in e:
        return (
            f"Possible alliance rupture{at}: the client's score {number(e.get('score'))} fell "
            f"below {number(e.get('threshold'))}, under the baseline of "
            f"{number(e.get('baseline'))} over the previous {e.get('baseline_sessions')} sessions."
        )
    if kind is AlertKind.RUPTURE:
        return (
            f"The client's alliance score dropped{at} from {number(e.get('previous'))} to "
            f"{number(e.get('score'))}."
        )
    if kind is AlertKind.ALLIANCE_LOW:
        return f"The client's alliance score {number(e.get('total'))}{at} is below its cut-off."
    if kind is AlertKind.DISCORDANCE:
        return (
            f"Client and therapist disagreed{at}: client {number(e.get('client'))}, therapist "
            f"{number(e.get('therapist'))} (difference {signed(e['difference'])}). "
            "Descriptive only."
        )
    return f"{kind.value}{at}."  # pragma: no cover - every kind is worded above


def _name(evidence: dict[str, Any]) -> str:
    return str(evidence.get("instrument", "the instrument")).upper()


def concordance_sentences(view: ConcordanceView) -> list[str]:
    s = view.summary
    c, t = view.client_form.short_name, view.therapist_form.short_name
    if s.n == 0:
        return [f"No session has both a {c} and a {t} yet."]
    discordant = sum(1 for p in view.sessions if p.discordant)
    out = [f"{s.n} sessions rated by both; {discordant} discordant."]
    if s.bias is not None:
        out.append(
            f"On average the client rated the alliance {signed(s.bias)} points against the "
            f"therapist (expected {signed(view.rule.expected_offset)})."
        )
    if s.lower_limit is not None and s.upper_limit is not None:
        out.append(f"95% limits of agreement: {number(s.lower_limit)} to {number(s.upper_limit)}.")
    if s.converging is not None:
        out.append(
            "The two views are converging." if s.converging else "The two views are not converging."
        )
    return out

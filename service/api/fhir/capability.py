"""The CapabilityStatement: exactly what this FHIR face does, and nothing more.

``SUPPORT`` is the one table of what each resource type supports; the statement, the
``Allow`` header of a 405 and the test that exercises every declared interaction and search
parameter (tests/integration/test_fhir_capability.py) are all generated from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service import __version__
from service.api.fhir.terms import Terms

EXTRACT = "http://hl7.org/fhir/uv/sdc/OperationDefinition/QuestionnaireResponse-extract"
_PEOPLE = (
    ("patient", "reference", "The patient: Patient/<id>, or :identifier=system|value."),
    ("subject", "reference", "The same as patient (subjects are always Patients)."),
)
_PAGING = (
    "_count (1-200, default 50) and _sort=date|-date (authored|-authored for responses); "
    "pages follow Bundle.link next (an opaque _cursor)."
)


@dataclass(frozen=True, slots=True)
class TypeSupport:
    interactions: tuple[str, ...]
    search: tuple[tuple[str, str, str], ...] = ()  # (name, type, documentation)
    operations: tuple[tuple[str, str, str], ...] = ()  # (name, definition, documentation)
    documentation: str = ""

    def allow(self, level: str) -> list[str]:
        """HTTP methods on the type (``type``) or on one instance (``instance``)."""
        if level == "type":
            methods = ["GET"] if "search-type" in self.interactions else []
            methods += ["POST"] if "create" in self.interactions else []
            return methods
        return ["GET"] if "read" in self.interactions else []


SUPPORT: dict[str, TypeSupport] = {
    "Questionnaire": TypeSupport(
        ("read", "search-type"),
        (("url", "uri", "The canonical url (url|version also accepted)."),
         ("version", "token", "The definition's version.")),
    ),
    "QuestionnaireResponse": TypeSupport(
        ("read", "vread", "search-type", "create"),
        (*_PEOPLE,
         ("authored", "date", "When answered; eq/ge/gt/le/lt prefixes."),
         ("questionnaire", "reference", "The Questionnaire's canonical url."),
         ("status", "token", "completed, or entered-in-error once voided.")),
        (("extract", EXTRACT,
          "Scores without storing; returns a transaction Bundle (observation-based). Body: "
          "a QuestionnaireResponse, or Parameters with questionnaire-response."),),
        "Create stores an administration (conditional create with If-None-Exist: "
        "identifier=system|value). " + _PAGING,
    ),
    "Observation": TypeSupport(
        ("read", "vread", "search-type"),
        (*_PEOPLE,
         ("code", "token", "The total's code, e.g. http://loinc.org|44261-6."),
         ("date", "date", "When answered; eq/ge/gt/le/lt prefixes."),
         ("category", "token", "survey"),
         ("status", "token", "final, or entered-in-error once voided.")),
        documentation="US Core 6.1.0 Observation Screening Assessment; search returns the "
        "totals, whose hasMember names the item results. " + _PAGING,
    ),
    "Patient": TypeSupport(
        ("read", "vread", "search-type"),
        (("identifier", "token", "The EHR identifier given to POST /v1/patients."),),
        documentation="Without identifier, every patient: _count (1-200), Bundle.link next.",
    ),
    "Practitioner": TypeSupport(
        ("read", "vread", "search-type"),
        (("identifier", "token", "The EHR identifier given to POST /v1/practitioners."),),
        documentation="Without identifier, every practitioner: _count (1-200), Bundle.link next.",
    ),
    "Flag": TypeSupport(
        ("read", "search-type"),
        (("patient", "reference", "The patient: Patient/<id>, or :identifier=system|value."),
         ("status", "token", "active or inactive.")),
        documentation="Alerts. _count (1-200, default 50); pages follow Bundle.link next.",
    ),
}  # fmt: skip


def capability_statement(terms: Terms, released: str) -> dict[str, Any]:
    resources = []
    for kind, support in SUPPORT.items():
        entry: dict[str, Any] = {
            "type": kind,
            "interaction": [{"code": code} for code in support.interactions],
        }
        if "vread" in support.interactions:
            entry["versioning"] = "versioned"
        if support.search:
            entry["searchParam"] = [
                {"name": name, "type": kind_, "documentation": doc}
                for name, kind_, doc in support.search
            ]
        if support.operations:
            entry["operation"] = [
                {"name": name, "definition": definition, "documentation": doc}
                for name, definition, doc in support.operations
            ]
        if support.documentation:
            entry["documentation"] = support.documentation
        if "create" in support.interactions:
            entry["conditionalCreate"] = True
        resources.append(entry)
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": released,
        "publisher": "Rapport",
        "kind": "instance",
        "software": {"name": "Rapport", "version": __version__},
        "implementation": {"description": "Rapport measurement-based-care engine, FHIR R4 face"},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    "JSON only (XML answers 406). Bearer API keys as for the REST API; "
                    "tenant-scoped. Unknown search parameters are refused (400) unless "
                    "Prefer: handling=lenient. Questionnaires are generated from Rapport's "
                    "instrument definitions; QuestionnaireResponses are stored as "
                    "administrations and scored into US Core screening-assessment "
                    "Observations; alerts are Flags."
                ),
                "security": {
                    "description": "Authorization: Bearer <Rapport API key>; tenant-scoped."
                },
                "resource": resources,
            }
        ],
    }

"""The CapabilityStatement: exactly what this FHIR face does, and nothing more."""

from __future__ import annotations

from typing import Any

from service import __version__
from service.api.fhir.terms import Terms


def capability_statement(terms: Terms, released: str) -> dict[str, Any]:
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
                    "Bearer API keys as for the REST API. Questionnaires are generated from "
                    "Rapport's instrument definitions; QuestionnaireResponses are scored into "
                    "US Core screening-assessment Observations; alerts are Flags."
                ),
                "security": {
                    "description": "Authorization: Bearer <Rapport API key>; tenant-scoped."
                },
                "resource": [
                    {
                        "type": "Questionnaire",
                        "interaction": [{"code": "read"}, {"code": "search-type"}],
                        "searchParam": [
                            {"name": "url", "type": "uri"},
                            {"name": "version", "type": "token"},
                        ],
                    },
                    {
                        "type": "QuestionnaireResponse",
                        "interaction": [{"code": "create"}],
                        "operation": [
                            {
                                "name": "extract",
                                "definition": "http://hl7.org/fhir/uv/sdc/OperationDefinition/"
                                "QuestionnaireResponse-extract",
                                "documentation": "Scores without storing; returns a "
                                "transaction Bundle (observation-based extraction).",
                            }
                        ],
                    },
                    {
                        "type": "Flag",
                        "interaction": [{"code": "read"}, {"code": "search-type"}],
                        "searchParam": [
                            {"name": "status", "type": "token"},
                            {"name": "_count", "type": "number"},
                        ],
                    },
                ],
            }
        ],
    }

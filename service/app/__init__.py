"""Use cases: what Rapport does, called by every adapter (REST, GraphQL, FHIR, CLI)."""

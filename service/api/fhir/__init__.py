"""The FHIR R4 face: Questionnaires in, scored Observations out, alerts as Flags."""

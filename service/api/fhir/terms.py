"""Canonical URLs and code systems Rapport uses in FHIR resources.

Instrument Questionnaires are identified by ``{base}/Questionnaire/{id}`` with the
definition's version; scores without a LOINC code are coded in ``{base}/CodeSystem/scores``.
The base is a setting (``RAPPORT_FHIR_CANONICAL_BASE``) so that a deployment can publish its
own resolvable canonicals; its default uses the reserved ``.invalid`` top-level domain to
say plainly that it is an identifier, not a web address.
"""

from __future__ import annotations

from dataclasses import dataclass

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"
DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
ITEM_WEIGHT = "http://hl7.org/fhir/StructureDefinition/itemWeight"
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"  # the older name
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
US_CORE_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/us-core-category"
US_CORE_SCREENING = (
    "http://hl7.org/fhir/us/core/StructureDefinition/us-core-observation-screening-assessment"
)
US_CORE_VERSION = "6.1.0"
SDC_QUESTIONNAIRE = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire"
FHIR_JSON = "application/fhir+json"
# LOINC's display names of the totals Rapport codes with LOINC (loinc.org, version 2.77).
LOINC_DISPLAY = {
    "44261-6": "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]",
    "70274-6": "Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]",
    "55758-7": "Patient Health Questionnaire 2 item (PHQ-2) total score [Reported]",
}


@dataclass(frozen=True, slots=True)
class Terms:
    base: str

    def questionnaire(self, instrument_id: str) -> str:
        return f"{self.base}/Questionnaire/{instrument_id}"

    @property
    def scores(self) -> str:
        return f"{self.base}/CodeSystem/scores"

    @property
    def answers(self) -> str:
        return f"{self.base}/CodeSystem/answer-values"

    @property
    def bands(self) -> str:
        return f"{self.base}/CodeSystem/bands"

    @property
    def interpretation(self) -> str:
        return f"{self.base}/CodeSystem/interpretation"

    @property
    def alert_kinds(self) -> str:
        return f"{self.base}/CodeSystem/alert-kinds"

    @property
    def patient_ids(self) -> str:
        return f"{self.base}/NamingSystem/patient-external-id"

    @property
    def practitioner_ids(self) -> str:
        return f"{self.base}/NamingSystem/practitioner-external-id"

    @property
    def items(self) -> str:
        return f"{self.base}/CodeSystem/items"

    @property
    def session_extension(self) -> str:
        return f"{self.base}/StructureDefinition/session-number"

    @property
    def dyad_extension(self) -> str:
        return f"{self.base}/StructureDefinition/dyad-id"

"""Exports of OUT in the hospital's standards: FHIR R4 Bulk Data NDJSON (fhir) and OMOP CDM v5.4
NOTE / NOTE_NLP tables (omop). ``values`` reads what to export, ``folder`` writes it atomically."""

"""A patient's reports in order: each report paired with its prior study, and a finding timeline.

``pairing`` orders a patient's studies (their dates read by radlite.text.dates) and names each one's prior,
``lesions`` reads sized lesions, ``changes`` compares a study's findings with its prior's,
``build`` recomputes both tables for the patients a run touched, from the committed tables;
radlite.catalog_views holds the registry queries the catalog offers over them. See docs/timeline.md.
"""

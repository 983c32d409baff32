"""Registry queries over the finding timeline (radlite.timeline), offered as views in every OUT's catalog.

``lung_rads_upgrades``: patients whose Lung-RADS category went up between consecutive screens
(consecutive studies of the series that state a Lung-RADS category, whatever lies between them).
``stable_but_grew``: findings the report calls unchanged/stable whose measured size grew by at least
20% since the prior study.
"""

from __future__ import annotations

GREW_AT_LEAST = 0.20

LUNG_RADS_UPGRADES = """
WITH screens AS (
    SELECT patient_id, series, report_id, study_date, position, value AS category, category_rank, evidence,
           lag(report_id) OVER w AS prior_report_id, lag(study_date) OVER w AS prior_study_date,
           lag(value) OVER w AS prior_category, lag(category_rank) OVER w AS prior_rank
    FROM finding_timeline
    WHERE finding_kind = 'rads' AND finding = 'Lung-RADS' AND assertion = 'present'
    WINDOW w AS (PARTITION BY patient_id, series ORDER BY position))
SELECT patient_id, series, prior_report_id, prior_study_date, prior_category, report_id, study_date, category,
       evidence
FROM screens WHERE category_rank > prior_rank"""

STABLE_BUT_GREW = f"""
SELECT patient_id, series, prior_report_id, report_id, study_date, finding, prior_size_mm, size_mm,
       size_change_pct, stated_change, stated_evidence_start, stated_evidence_end, evidence
FROM finding_timeline
WHERE stated_change = 'unchanged' AND size_change_pct >= {100 * GREW_AT_LEAST}"""

#: view name -> SELECT over the catalog's table views.
CATALOG_VIEWS = {"lung_rads_upgrades": LUNG_RADS_UPGRADES, "stable_but_grew": STABLE_BUT_GREW}

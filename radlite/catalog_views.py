"""Registry queries over the finding timeline (radlite.timeline), offered as views in every OUT's catalog.

``lung_rads_upgrades``: patients whose Lung-RADS category went up between consecutive screens
(consecutive studies of the series that state a Lung-RADS category, whatever lies between them).
``stable_but_grew``: findings the report calls unchanged/stable whose measured size grew since the
prior study: computed_change 'increased', whose thresholds live in one place
(radlite.timeline.changes: Lung-RADS growth of more than 1.5 mm for a lung lesion, else 20%).
Both follow a patient by report_priors.patient_key (the id as given, or normalised when the run
asked for it), so studies filed under '000123' and '123' are one patient's.
"""

from __future__ import annotations

LUNG_RADS_UPGRADES = """
WITH screens AS (
    SELECT t.patient_id, t.series, t.report_id, t.study_date, t.position, t.value AS category, t.category_rank,
           t.evidence, lag(t.report_id) OVER w AS prior_report_id, lag(t.study_date) OVER w AS prior_study_date,
           lag(t.value) OVER w AS prior_category, lag(t.category_rank) OVER w AS prior_rank
    FROM finding_timeline t LEFT JOIN report_priors p USING (report_id)
    WHERE t.finding_kind = 'rads' AND t.finding = 'Lung-RADS' AND t.assertion = 'present'
    WINDOW w AS (PARTITION BY coalesce(p.patient_key, t.patient_id), t.series ORDER BY t.position))
SELECT patient_id, series, prior_report_id, prior_study_date, prior_category, report_id, study_date, category,
       evidence
FROM screens WHERE category_rank > prior_rank"""

STABLE_BUT_GREW = """
SELECT patient_id, series, prior_report_id, report_id, study_date, finding, prior_size_mm, size_mm,
       size_change_pct, stated_change, stated_evidence_start, stated_evidence_end, evidence
FROM finding_timeline
WHERE stated_change = 'unchanged' AND computed_change = 'increased'"""

#: view name -> SELECT over the catalog's table views.
CATALOG_VIEWS = {"lung_rads_upgrades": LUNG_RADS_UPGRADES, "stable_but_grew": STABLE_BUT_GREW}

"""The committed timeline step: after a run's commit, recompute pairing and timeline per touched patient.

Why after the commit and not in the Beam graph: a prior is often a study committed months ago, which
the run's graph never reads; the patient is the unit, and the committed tables already hold every
study of the patient, whichever run or runner wrote them. So the step reads the committed state
with DuckDB, recomputes both tables for every patient a not-yet-covered run touched (all their
studies, so a late older study re-pairs the next one), and publishes them through
``OutputStore.commit_derived`` in one atomic manifest replace, marking the run covered. Rows are
a pure function of the committed rows, sorted: the same on any runner, and a rerun after a crash
recomputes the same patients (the mark was not written), so nothing is duplicated or missed.
"""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

import pyarrow as pa

from radlite.store import OutputStore, StoreManifest
from radlite.text.assertion import STATUS_OF_CHEXPERT
from radlite.text.dates import parse_date
from radlite.timeline.changes import Compared, Observation, StatedChange, compare_study, stage_rank
from radlite.timeline.lesions import Lesion, follow_unsited, read_lesions
from radlite.timeline.pairing import Pairing, Study, TimelineOptions, arrival_key, pair_studies, patient_key

#: Manifest key: the last run whose patients the timeline covers.
MARK = "timeline_through"
_ASSERTIONS = {**STATUS_OF_CHEXPERT, "not_mentioned": "not_mentioned"}
_USABLE = "valid AND grounded IS NOT FALSE"


class TimelineSummary(NamedTuple):
    """What one timeline step recomputed."""

    patients: int
    reports: int
    timeline_rows: int


def pending_runs(manifest: StoreManifest) -> list[str]:
    """Committed runs the timeline does not cover yet (all of them when the mark is missing or unknown,
    e.g. after `radlite repair`)."""
    runs = manifest.runs
    through = manifest.mark(MARK)
    return runs[runs.index(through) + 1:] if through in runs else list(runs)


def _touched(con, runs: list[str]) -> tuple[list[str], list[str]]:
    """(patients, report ids without a patient) of the reports the runs wrote, and every patient those
    reports belonged to before (a report moved to another patient changes both)."""
    con.register("_runs", pa.table({"run_id": runs}))
    ids = "SELECT DISTINCT report_id FROM reports_history WHERE run_id IN (SELECT run_id FROM _runs)"
    patients = con.sql(f"SELECT DISTINCT patient_id FROM reports_history WHERE report_id IN ({ids}) "
                       "AND patient_id IS NOT NULL ORDER BY 1").fetchall()
    alone = con.sql(f"SELECT report_id FROM reports WHERE report_id IN ({ids}) AND patient_id IS NULL "
                    "ORDER BY 1").fetchall()
    return [p for (p,) in patients], [r for (r,) in alone]


def _same_patients(con, patients: list[str], normalize: bool) -> list[str]:
    """Every committed patient id that is one of ``patients`` once normalised (``patient_key``)."""
    if not normalize:
        return patients
    keys = {patient_key(p, True) for p in patients}
    every = con.sql("SELECT DISTINCT patient_id FROM reports WHERE patient_id IS NOT NULL ORDER BY 1").fetchall()
    return sorted({p for (p,) in every if patient_key(p, True) in keys} | set(patients))


def _studies(con, patients: list[str], alone: list[str]) -> list[Study]:
    con.register("_patients", pa.table({"patient_id": pa.array(patients, pa.string())}))
    con.register("_alone", pa.table({"report_id": pa.array(alone, pa.string())}))
    rows = con.sql("""
        WITH arrival AS (SELECT report_id, min(o.seq) AS seq FROM reports_history JOIN _radlite_run_order o
                         USING (run_id) GROUP BY report_id)
        SELECT r.report_id, r.patient_id, r.study_date, r.modality, r.body_region, r.source, r.locator, a.seq,
               r.input_position
        FROM reports r JOIN arrival a USING (report_id)
        WHERE r.patient_id IN (SELECT patient_id FROM _patients) OR r.report_id IN (SELECT report_id FROM _alone)
        ORDER BY r.report_id""").fetchall()
    return [Study(rid, pid, parse_date(date), modality, region, arrival_key(seq, source, locator, position))
            for rid, pid, date, modality, region, source, locator, seq, position in rows]


def _report_level(con, table: str) -> str:
    """The filter that keeps a table's report-level rows (``scope``: its site rows are per site or
    primary); none where the table has no such column yet (an OUT written before it)."""
    return "AND coalesce(scope, 'report') = 'report'" if "scope" in con.sql(f"SELECT * FROM {table} LIMIT 0").columns \
        else ""


def _rads_sql(con, where: str) -> str:
    """One category per report and system: the report-level row where the table marks it (``scope``),
    else the highest category, stated in RADS words first, the last stated first (the final assessment)."""
    return (f"SELECT report_id, system, category, severity_rank, evidence_start, evidence_end, evidence FROM rads "
            f"WHERE {where} AND system IS NOT NULL AND category IS NOT NULL {_report_level(con, 'rads')} "
            "QUALIFY row_number() OVER (PARTITION BY report_id, system ORDER BY severity_rank DESC NULLS LAST, "
            "evidence ILIKE '%rads%' DESC, evidence_start DESC NULLS LAST, category) = 1 ORDER BY report_id, system")


def _observations(con, report_ids: list[str]) -> tuple[dict, dict, dict]:
    """Per report: its observations, its stated changes, and its text."""
    con.register("_ids", pa.table({"report_id": pa.array(report_ids, pa.string())}))
    where = f"report_id IN (SELECT report_id FROM _ids) AND {_USABLE}"
    found: dict[str, list[Observation]] = defaultdict(list)
    for rid, finding, status, s, e, ev in con.sql(
            f"SELECT report_id, finding, status, evidence_start, evidence_end, evidence FROM abnormalities "
            f"WHERE {where} AND status <> 'not_mentioned' ORDER BY report_id, finding").fetchall():
        found[rid].append(Observation("chexpert", finding, status, _ASSERTIONS.get(status, status), None, None,
                                      s, e, ev))
    for rid, system, category, rank, s, e, ev in con.sql(_rads_sql(con, where)).fetchall():
        found[rid].append(Observation("rads", system, category, "present", rank, None, s, e, ev))
    for rid, task, n, m, s, e, ev in con.sql(
            f"SELECT report_id, task, n_stage, m_stage, evidence_start, evidence_end, evidence FROM staging "
            f"WHERE {where} {_report_level(con, 'staging')} ORDER BY report_id, task").fetchall():
        stage = n if task == "n_staging" else m
        if stage:
            kind = "n_stage" if task == "n_staging" else "m_stage"
            found[rid].append(Observation(kind, stage[0], stage, "present", stage_rank(stage), None, s, e, ev))
    stated: dict[str, list[StatedChange]] = defaultdict(list)
    for rid, finding, change, s, e in con.sql(
            f"SELECT report_id, finding, change, evidence_start, evidence_end FROM temporal_changes WHERE {where} "
            "AND finding IS NOT NULL AND change IS NOT NULL "
            "ORDER BY report_id, evidence_start NULLS LAST, finding").fetchall():
        stated[rid].append(StatedChange(finding, change, s, e))
    texts = dict(con.sql("SELECT report_id, text FROM reports WHERE report_id IN (SELECT report_id FROM _ids)")
                 .fetchall())
    for rid, text in texts.items():
        found[rid].extend(lesion_observation(lesion, text) for lesion in read_lesions(text))
    return found, stated, texts


def lesion_observation(lesion: Lesion, text: str) -> Observation:
    """A lesion as a timeline observation, with the change its own clause states."""
    stated = StatedChange(lesion.name, *lesion.stated) if lesion.stated else None
    value = f"{lesion.size_mm:g} mm" if lesion.size_mm is not None else lesion.assertion
    return Observation("lesion", lesion.name, value, lesion.assertion, None, lesion.size_mm, lesion.start, lesion.end,
                       text[lesion.start:lesion.end], lesion.organ, stated, lesion.clauses)


def timeline_rows(pairings: list[Pairing], observations: dict, stated: dict, texts: dict, run_id: str) -> list[dict]:
    """finding_timeline rows of the placed studies, in patient, series, position, finding order."""
    rows = []
    for p in pairings:
        if p.position is None:
            continue
        prior = observations.get(p.prior_report_id, []) if p.prior_report_id else None
        current = follow_unsited(observations.get(p.report_id, []), prior or [])
        for c in compare_study(current, prior, stated.get(p.report_id, []), texts.get(p.report_id, "")):
            rows.append(_row(p, c, run_id))
    return rows


def _row(p: Pairing, c: Compared, run_id: str) -> dict:
    now, before, said = c.current, c.prior, c.stated
    return {
        "patient_id": p.patient_id, "series": p.series, "report_id": p.report_id, "study_date": p.study_date,
        "position": p.position, "prior_report_id": p.prior_report_id, "prior_basis": p.prior_basis,
        "finding_kind": c.kind, "finding": c.finding,
        "value": now.value if now else None,
        "assertion": now.assertion if now else None if c.kind == "stated" else "not_mentioned",
        "category_rank": now.rank if now else None, "size_mm": now.size_mm if now else None,
        "prior_value": before.value if before else None,
        "prior_assertion": (before.assertion if before else "not_mentioned")
        if p.prior_report_id and c.kind != "stated" else None,
        "prior_size_mm": before.size_mm if before else None, "size_change_pct": c.size_change_pct,
        "computed_change": c.computed_change, "stated_change": said.change if said else None,
        "agreement": c.agreement,
        "evidence_start": now.start if now else None, "evidence_end": now.end if now else None,
        "evidence": now.evidence if now else None,
        "prior_evidence_start": before.start if before else None,
        "prior_evidence_end": before.end if before else None,
        "stated_evidence_start": said.start if said else None, "stated_evidence_end": said.end if said else None,
        "run_id": run_id,
    }


def _prior_row(p: Pairing, run_id: str, options: TimelineOptions) -> dict:
    return {**p._asdict(), "patient_ids_normalized": options.normalize_patient_ids, "run_id": run_id}


def refresh_timeline(store: OutputStore, run_id: str, options: TimelineOptions | None = None) -> TimelineSummary:
    """Recompute report_priors and finding_timeline for the patients of the runs not covered yet, and
    publish them under ``run_id`` (the run just committed). Call with the store locked."""
    options = options or TimelineOptions()
    manifest = store.manifest()
    runs = pending_runs(manifest)
    if not runs:
        return TimelineSummary(0, 0, 0)
    con = store.committed_views(("abnormalities", "rads", "staging", "temporal_changes"))
    try:
        patients, alone = _touched(con, runs)
        patients = _same_patients(con, patients, options.normalize_patient_ids)
        pairings = pair_studies(_studies(con, patients, alone), options.normalize_patient_ids)
        placed = sorted({p.report_id for p in pairings if p.position is not None})
        observations, stated, texts = _observations(con, placed)
    finally:
        con.close()
    priors = [_prior_row(p, run_id, options) for p in pairings]
    timeline = timeline_rows(pairings, observations, stated, texts, run_id)
    staged = {table: store.stage_derived(run_id, table, rows)
              for table, rows in (("report_priors", priors), ("finding_timeline", timeline))}
    store.commit_derived(run_id, staged, {MARK: manifest.runs[-1]})
    return TimelineSummary(len(patients), len(priors), len(timeline))

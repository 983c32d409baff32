"""Order a patient's studies and name each one's prior: the previous study of the same series.

A series is one patient's studies of one modality family and one body region (a chest CT is never
compared with a chest radiograph). Studies are ordered by date, then time; where a series carries no
dates at all they are ordered by arrival (commit order, then position in the input); two studies
on one day without both times are ordered by arrival too. ``prior_basis`` says which order chose
the prior; a study with no prior gets a ``reason`` instead.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field

#: Modality -> family: studies of one family and one region are compared with each other.
MODALITY_FAMILIES = {"XR": "radiography", "MG": "mammography", "CT": "CT", "MR": "MR", "US": "ultrasound",
                     "PET": "nuclear medicine", "NM": "nuclear medicine"}

#: prior_basis values.
BY_DATE, BY_TIME = "study_date", "study_time"
BY_ARRIVAL_SAME_DAY, BY_ARRIVAL = "same_day_arrival_order", "arrival_order"


class TimelineOptions(BaseModel):
    """How the timeline step tells patients apart."""

    model_config = ConfigDict(frozen=True)

    normalize_patient_ids: bool = Field(False, description="Timeline: follow patient ids written with and without "
                                                           "leading zeros or in another case as one patient ('000123' "
                                                           "= '123', 'AB12' = 'ab12'); report_priors records it.")


def patient_key(patient_id: str | None, normalize: bool) -> str | None:
    """The patient a report is followed under: the id as given, or without leading zeros and case folded
    (an all-zero id stays '0')."""
    if patient_id is None or not normalize:
        return patient_id
    return patient_id.strip().casefold().lstrip("0") or "0"


@dataclass(frozen=True)
class Study:
    """What pairing needs to know of one report. ``study_date`` is ISO (radlite.text.dates);
    ``arrival`` sorts in the order the study reached the store."""

    report_id: str
    patient_id: str | None
    study_date: str | None
    modality: str
    body_region: str
    arrival: tuple = ()


class Pairing(NamedTuple):
    """One report's place in its series: its prior (or why none), and its position (0 = first)."""

    report_id: str
    patient_id: str | None
    patient_key: str | None
    series: str | None
    study_date: str | None
    position: int | None
    prior_report_id: str | None
    prior_basis: str | None
    reason: str | None


def arrival_key(seq: int, source: str, locator: str, input_position: int | None = None) -> tuple:
    """Sortable arrival of a report: its first commit, then its input, then its place there: its
    position in the input (reports.input_position), else its locator (``row=10`` after ``row=9``;
    reports committed before input_position existed)."""
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", locator) if p)
    return (seq, source, (0, input_position) if input_position is not None else (1, 0), parts)


def series_of(study: Study) -> tuple[str | None, str | None]:
    """(series name, None), or (None, why the study belongs to no series)."""
    if not study.patient_id:
        return None, "no patient id in the input (MIMIC-CXR paths and --patient-column carry one)"
    family = MODALITY_FAMILIES.get(study.modality)
    if family is None:
        return None, f"modality {study.modality}: no series to compare within"
    if study.body_region == "unknown":
        return None, "body region unknown: no series to compare within"
    return f"{family} {study.body_region}", None


def _ordered(studies: list[Study]) -> list[tuple[Study, str | None]]:
    """The series in study order, each with the basis that placed it after the one before."""
    if not any(s.study_date for s in studies):
        ordered = sorted(studies, key=lambda s: s.arrival)
        return [(s, BY_ARRIVAL if i else None) for i, s in enumerate(ordered)]
    days: dict[str, list[Study]] = defaultdict(list)
    for s in studies:
        days[s.study_date[:10]].append(s)
    result: list[tuple[Study, str | None]] = []
    for day in sorted(days):
        same_day = days[day]
        timed = all(len(s.study_date) > 10 for s in same_day)
        key = (lambda s: (s.study_date, s.arrival)) if timed else (lambda s: s.arrival)
        for i, s in enumerate(sorted(same_day, key=key)):
            basis = BY_DATE if i == 0 else BY_TIME if timed and s.study_date != result[-1][0].study_date \
                else BY_ARRIVAL_SAME_DAY
            result.append((s, basis if result else None))
    return result


def pair_series(series: str, studies: list[Study], key: str | None = None) -> list[Pairing]:
    """Pairings of one patient's series (``key``: the patient they are followed under, default the
    first study's id): undated studies among dated ones cannot be placed."""
    key = key if key is not None else studies[0].patient_id
    dated = [s for s in studies if s.study_date]
    undated = [s for s in studies if not s.study_date] if dated else []
    pairings = [Pairing(s.report_id, s.patient_id, key, series, None, None, None, None,
                        f"no study date, while the patient's other {series} studies are dated: cannot be placed")
                for s in undated]
    ordered = _ordered(dated or studies)
    for i, (s, basis) in enumerate(ordered):
        prior = ordered[i - 1][0] if i else None
        pairings.append(Pairing(s.report_id, s.patient_id, key, series, s.study_date, i,
                                prior.report_id if prior else None, basis,
                                None if prior else f"first {series} study of the patient"))
    return pairings


def pair_studies(studies: Iterable[Study], normalize_patient_ids: bool = False) -> list[Pairing]:
    """Every study's pairing, sorted by patient, series and position (studies of no series last); with
    ``normalize_patient_ids`` the studies of ids equal after ``patient_key`` are one patient's."""
    groups: dict[tuple[str, str], list[Study]] = defaultdict(list)
    alone: list[Pairing] = []
    for s in studies:
        series, reason = series_of(s)
        key = patient_key(s.patient_id, normalize_patient_ids)
        if series is None:
            alone.append(Pairing(s.report_id, s.patient_id, key, None, s.study_date, None, None, None, reason))
        else:
            groups[(key, series)].append(s)
    paired = [p for key in sorted(groups) for p in pair_series(key[1], groups[key], key[0])]
    return paired + sorted(alone, key=lambda p: p.report_id)

"""Pairing a patient's studies: order by date and time, arrival where no date is known, series apart."""

from radlite.text.dates import header_date, parse_date
from radlite.timeline.pairing import Study, arrival_key, pair_studies, patient_key


def _study(rid, date=None, patient="p1", modality="CT", region="chest", seq=0, locator=None, position=None):
    return Study(rid, patient, date, modality, region,
                 arrival_key(seq, "in.csv", locator or f"row={rid[-1]}", position))


def _priors(studies, normalize=False):
    return {p.report_id: (p.prior_report_id, p.prior_basis, p.reason) for p in pair_studies(studies, normalize)}


def test_same_patient_paired_by_date_whatever_the_input_order():
    priors = _priors([_study("r3", "2024-05-01"), _study("r1", "2022-05-01"), _study("r2", "2023-05-01")])
    assert priors["r1"] == (None, None, "first CT chest study of the patient")
    assert priors["r2"] == ("r1", "study_date", None)
    assert priors["r3"] == ("r2", "study_date", None)


def test_patients_are_never_mixed():
    priors = _priors([_study("a1", "2022-01-01", patient="A"), _study("b1", "2023-01-01", patient="B"),
                      _study("a2", "2024-01-01", patient="A")])
    assert priors["a2"][0] == "a1" and priors["b1"][0] is None


def test_different_modality_or_region_is_another_series():
    priors = _priors([_study("r1", "2022-01-01", modality="XR"), _study("r2", "2023-01-01", modality="CT"),
                      _study("r3", "2024-01-01", modality="CT", region="abdomen"),
                      _study("r4", "2025-01-01", modality="XR")])
    assert priors["r2"][0] is None and priors["r3"][0] is None
    assert priors["r4"] == ("r1", "study_date", None)


def test_pet_and_nm_share_a_family_but_unknown_modality_pairs_with_nothing():
    priors = _priors([_study("r1", "2022-01-01", modality="PET"), _study("r2", "2023-01-01", modality="NM"),
                      _study("r3", "2024-01-01", modality="unknown")])
    assert priors["r2"][0] == "r1"
    assert priors["r3"] == (None, None, "modality unknown: no series to compare within")


def test_missing_dates():
    # a whole series without dates: ordered by arrival (commit order, then row), and said so
    priors = _priors([_study("r2", seq=1, locator="row=2"), _study("r1", seq=0, locator="row=10"),
                      _study("r3", seq=1, locator="row=10")])
    assert priors["r2"] == ("r1", "arrival_order", None)
    assert priors["r3"] == ("r2", "arrival_order", None)
    # an undated study among dated ones cannot be placed: it has a reason and is no one's prior
    priors = _priors([_study("r1", "2022-01-01"), _study("r2"), _study("r3", "2023-01-01")])
    assert priors["r2"][0] is None and "no study date" in priors["r2"][2]
    assert priors["r3"][0] == "r1"


def test_two_studies_on_one_day():
    # no times: arrival order decides, and the basis says so; the next day pairs with the later one
    priors = _priors([_study("r2", "2024-01-01", locator="row=2"), _study("r1", "2024-01-01", locator="row=1"),
                      _study("r3", "2024-01-02", locator="row=3")])
    assert priors["r2"] == ("r1", "same_day_arrival_order", None)
    assert priors["r3"] == ("r2", "study_date", None)
    # with times, the time decides whatever the arrival
    priors = _priors([_study("r1", "2024-01-01T15:00", locator="row=1"),
                      _study("r2", "2024-01-01T08:30", locator="row=2")])
    assert priors["r1"] == ("r2", "study_time", None)


def test_same_day_studies_without_times_follow_the_input_rows_not_the_ids():
    # an export with an id column: locators are id=..., whose order says nothing; the row does
    priors = _priors([_study("r1", "2024-01-01", locator="id=zz-first", position=0),
                      _study("r2", "2024-01-01", locator="id=aa-second", position=1)])
    assert priors["r2"] == ("r1", "same_day_arrival_order", None)
    # commit order still comes first: a report committed by an earlier run arrived earlier
    priors = _priors([_study("r1", "2024-01-01", seq=1, locator="id=a", position=0),
                      _study("r2", "2024-01-01", seq=0, locator="id=b", position=5)])
    assert priors["r1"] == ("r2", "same_day_arrival_order", None)


def test_normalised_patient_ids_are_one_patient_only_when_asked():
    studies = [_study("r1", "2022-01-01", patient="000123"), _study("r2", "2023-01-01", patient="123"),
               _study("r3", "2024-01-01", patient="AB7"), _study("r4", "2025-01-01", patient="ab7")]
    assert _priors(studies)["r2"][0] is None and _priors(studies)["r4"][0] is None
    normalised = _priors(studies, normalize=True)
    assert normalised["r2"] == ("r1", "study_date", None) and normalised["r4"] == ("r3", "study_date", None)
    keys = {p.report_id: (p.patient_id, p.patient_key) for p in pair_studies(studies, True)}
    assert keys["r1"] == ("000123", "123") and keys["r3"] == ("AB7", "ab7")
    assert patient_key("000", True) == "0" and patient_key(" 0042 ", True) == "42"
    assert patient_key("000123", False) == "000123" and patient_key(None, True) is None


def test_a_report_without_patient_gets_a_reason():
    priors = _priors([_study("r1", "2024-01-01", patient=None)])
    assert priors["r1"][0] is None and priors["r1"][2].startswith("no patient id")


def test_dates_from_columns_and_report_headers():
    assert parse_date("03/01/2024") == "2024-03-01"
    assert parse_date("1 Mar 2024 10:30") == "2024-03-01T10:30"
    assert parse_date("2024-03-01 2:05 PM") == "2024-03-01T14:05"
    assert parse_date("2024-02-30") is None and parse_date("unknown") is None
    assert header_date("EXAMINATION: CT CHEST\nExam date: March 3, 2024\nFINDINGS: clear.") == "2024-03-03"
    # a comparison's date is not the study's date
    assert header_date("COMPARISON: CT 01/01/2020.\nFINDINGS: clear.") is None

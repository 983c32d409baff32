"""Rule extractors on the variants reports really use, on negated, hedged and historical phrasings,
and the evidence of every value pointing at the right words."""

import pytest

from radlite.chexpert import label_report
from radlite.report import build_report
from radlite.rules.answers import rule_answer
from radlite.rules.rads import stated_rads
from radlite.rules.temporal import stated_changes
from radlite.tasks import TASKS
from radlite.tasks.rads import SEVERITY
from radlite.text.tnm import stated_stages

#: (report text, expected label, the words the evidence must quote). Several phrasings per system.
RADS_STATED = [
    ("MAMMO DIAGNOSTIC\nIMPRESSION: BI-RADS 4a, suspicious.", "BI-RADS 4A", "BI-RADS 4a"),
    ("MAMMO\nIMPRESSION: BIRADS 4A: biopsy advised.", "BI-RADS 4A", "BIRADS 4A"),
    ("MAMMO SCREENING BILATERAL\nIMPRESSION: Overall assessment BI-RADS Category 2 - benign.", "BI-RADS 2",
     "BI-RADS Category 2"),
    ("MAMMO SCREENING BILATERAL\nFINDINGS: Scattered densities.\nIMPRESSION: ASSESSMENT: Category 4B", "BI-RADS 4B",
     "ASSESSMENT: Category 4B"),
    ("US BREAST\nIMPRESSION: BI-RADS 5. Highly suggestive of malignancy.", "BI-RADS 5", "BI-RADS 5"),
    ("MAMMO\nIMPRESSION: bi-rads 0, incomplete.", "BI-RADS 0", "bi-rads 0"),
    ("MRI PROSTATE\nIMPRESSION: PI-RADS 4 lesion in the left peripheral zone.", "PI-RADS 4", "PI-RADS 4"),
    ("MRI PROSTATE\nIMPRESSION: PIRADS 5.", "PI-RADS 5", "PIRADS 5"),
    ("MRI PROSTATE\nIMPRESSION: PI-RADS category 3 (equivocal).", "PI-RADS 3", "PI-RADS category 3"),
    ("MRI PROSTATE\nIMPRESSION: Overall PI-RADS: 2.", "PI-RADS 2", "PI-RADS: 2"),
    ("CT ABDOMEN\nIMPRESSION: LR-5 observation in segment 7.", "LI-RADS 5", "LR-5"),
    ("MRI LIVER\nIMPRESSION: LI-RADS 5, 2.1 cm.", "LI-RADS 5", "LI-RADS 5"),
    ("MRI LIVER\nIMPRESSION: LR-TR viable after ablation.", "LI-RADS TR-viable", "LR-TR viable"),
    ("MRI LIVER\nIMPRESSION: LI-RADS LR-4 observation.", "LI-RADS 4", "LI-RADS LR-4"),
    ("MRI LIVER\nIMPRESSION: LR-M lesion.", "LI-RADS M", "LR-M"),
    ("US THYROID\nIMPRESSION: ACR TI-RADS TR4 nodule in the right lobe.", "TI-RADS TR4", "ACR TI-RADS TR4"),
    ("US THYROID\nIMPRESSION: TI-RADS 3.", "TI-RADS TR3", "TI-RADS 3"),
    ("US THYROID\nIMPRESSION: Right lobe nodule, TR5.", "TI-RADS TR5", "TR5"),
    ("US THYROID\nIMPRESSION: ACR TIRADS TR 2.", "TI-RADS TR2", "ACR TIRADS TR 2"),
    ("CT CHEST LOW DOSE LUNG CANCER SCREENING\nIMPRESSION: Lung-RADS 4B.", "Lung-RADS 4B", "Lung-RADS 4B"),
    ("CT CHEST LOW DOSE LUNG CANCER SCREENING\nIMPRESSION: Solid nodule, category 4B.", "Lung-RADS 4B",
     "category 4B"),
    ("CT CHEST\nIMPRESSION: Lung-RADS 2, benign appearance.", "Lung-RADS 2", "Lung-RADS 2"),
    ("CT CHEST\nIMPRESSION: LungRADS 3.", "Lung-RADS 3", "LungRADS 3"),
    ("US PELVIS\nIMPRESSION: O-RADS US 3 adnexal lesion.", "O-RADS 3", "O-RADS US 3"),
    ("MRI PELVIS\nIMPRESSION: O-RADS MRI 4.", "O-RADS 4", "O-RADS MRI 4"),
    ("US PELVIS\nIMPRESSION: ORADS 2.", "O-RADS 2", "ORADS 2"),
    ("CT NECK\nIMPRESSION: NI-RADS 2a at the primary site.", "NI-RADS 2A", "NI-RADS 2a"),
    ("CT NECK\nIMPRESSION: NI-RADS 3.", "NI-RADS 3", "NI-RADS 3"),
    ("CT NECK\nIMPRESSION: NIRADS 1.", "NI-RADS 1", "NIRADS 1"),
    ("CTA CORONARY\nIMPRESSION: CAD-RADS 3.", "CAD-RADS 3", "CAD-RADS 3"),
    ("CTA CORONARY\nIMPRESSION: CAD-RADS 4A, severe stenosis.", "CAD-RADS 4A", "CAD-RADS 4A"),
    ("CTA CORONARY\nIMPRESSION: CADRADS 0.", "CAD-RADS 0", "CADRADS 0"),
    ("MRI BLADDER\nIMPRESSION: VI-RADS 5.", "VI-RADS 5", "VI-RADS 5"),
    ("MRI BLADDER\nIMPRESSION: VIRADS 2.", "VI-RADS 2", "VIRADS 2"),
    ("MRI BLADDER\nIMPRESSION: VI-RADS score 4.", "VI-RADS 4", "VI-RADS score 4"),
    ("US ABDOMEN\nIMPRESSION: GB-RADS 2.", "GB-RADS 2", "GB-RADS 2"),
    ("US ABDOMEN\nIMPRESSION: GBRADS 4.", "GB-RADS 4", "GBRADS 4"),
    ("US ABDOMEN\nIMPRESSION: Gallbladder wall thickening, GB-RADS category 3.", "GB-RADS 3", "GB-RADS category 3"),
    ("MAMMO\nFINDINGS: A BI-RADS 4 lesion was biopsied previously.\nIMPRESSION: BI-RADS 2, benign biopsy site.",
     "BI-RADS 2", "BI-RADS 2"),
    ("MRI PROSTATE\nFINDINGS: PI-RADS 3 in the transition zone.\nIMPRESSION: Final assessment PI-RADS 4.", "PI-RADS 4",
     "PI-RADS 4"),
]

TNM_STATED = [
    ("CT CHEST\nIMPRESSION: Lung cancer, T2N1M0.", "N1", "N1", "M0", "M0"),
    ("CT CHEST\nIMPRESSION: cT3 N2 M1a disease.", "N2", "N2", "M1", "M1a"),
    ("CT ABDOMEN\nIMPRESSION: Rectal cancer restaged ypN0.", "N0", "ypN0", None, None),
    ("CT ABDOMEN\nIMPRESSION: N2 disease. Staging: M1b.", "N2", "N2", "M1", "M1b"),
    ("PET CT\nIMPRESSION: pT1b pN3 cM0.", "N3", "pN3", "M0", "cM0"),
    ("CTA HEAD\nFINDINGS: The M1 segment of the middle cerebral artery is patent.", None, None, None, None),
]


@pytest.mark.parametrize("text,label,quote", RADS_STATED)
def test_stated_rads_categories_of_all_ten_systems(text, label, quote):
    report = build_report("t", "r", text)
    result, evidence = stated_rads(report)
    assert result.label == label
    assert report.text[evidence.start:evidence.end] == quote


@pytest.mark.parametrize("system", sorted(SEVERITY))
def test_every_category_of_every_system_the_task_knows_is_read_when_stated(system):
    """All ten systems, every canonical category, as an impression states it: no category is unreadable."""
    for category in SEVERITY[system]:
        report = build_report("t", "r", f"FINDINGS: See below.\nIMPRESSION: {system} {category}.")
        stated = stated_rads(report)
        assert stated is not None and stated[0].label == f"{system} {category}", (system, category, stated)


def test_a_category_only_stated_as_history_is_no_assessment():
    report = build_report("t", "r", "MAMMO\nFINDINGS: A BI-RADS 4 lesion was biopsied previously. Stable.")
    assert stated_rads(report) is None
    answer = rule_answer(report, TASKS["rads_assignment"].instances(report)[0], last=True)
    assert answer.result.label == "No applicable RADS" and answer.evidence == [None]


@pytest.mark.parametrize("text,n,n_quote,m,m_quote", TNM_STATED)
def test_stated_tnm(text, n, n_quote, m, m_quote):
    report = build_report("t", "r", text)
    for letter, stage, quote in (("N", n, n_quote), ("M", m, m_quote)):
        found = stated_stages(report, letter)  # the first stated stage
        if stage is None:
            assert found == []
        else:
            first = found[0]
            assert first.stage == stage and report.text[first.evidence.start:first.evidence.end] == quote


@pytest.mark.parametrize("text,label,status,quote", [
    ("FINDINGS: No pneumothorax.", "pneumothorax", "negative", "pneumothorax"),
    ("FINDINGS: There is no evidence of pneumothorax or pleural effusion.", "pleural effusion", "negative",
     "pleural effusion"),
    ("IMPRESSION: Cannot exclude pneumonia.", "pneumonia", "uncertain", "pneumonia"),
    ("IMPRESSION: Pneumonia is not excluded.", "pneumonia", "uncertain", "Pneumonia"),
    ("IMPRESSION: Right lower lobe opacity may represent atelectasis.", "atelectasis", "uncertain", "atelectasis"),
    ("FINDINGS: Previously seen left effusion has resolved.", "pleural effusion", "negative", "effusion"),
    ("FINDINGS: Interval resolution of the right pneumothorax.", "pneumothorax", "negative", "pneumothorax"),
    ("FINDINGS: Small right pleural effusion.", "pleural effusion", "positive", "pleural effusion"),
    ("FINDINGS: The heart size is normal.", "cardiomegaly", "negative", "heart size is normal"),
    ("FINDINGS: Borderline cardiomegaly.", "cardiomegaly", "positive", "cardiomegaly"),
    ("FINDINGS: No pleural line to suggest pneumothorax.", "pneumothorax", "negative", "pneumothorax"),
    ("FINDINGS: Opacity in the right base, atelectasis versus pneumonia.", "pneumonia", "uncertain", "pneumonia"),
    ("INDICATION: Rule out pneumonia.\nFINDINGS: Lungs are clear.", "pneumonia", None, None),
    ("FINDINGS: Right PICC with tip in the SVC.", "support devices", "positive", "PICC"),
])
def test_chexpert_statuses_with_negation_uncertainty_and_sections(text, label, status, quote):
    report = build_report("t", "r", text)
    mention = label_report(report)[label]
    if status is None:
        assert mention is None
    else:
        assert mention.status == status and report.text[mention.start:mention.end] == quote


def test_no_finding_needs_a_normal_study_and_names_its_evidence():
    normal = build_report("t", "r", "FINDINGS: Heart size normal. Lungs are clear.\nIMPRESSION: No acute "
                                    "cardiopulmonary abnormality.")
    mention = label_report(normal)["no finding"]
    assert mention.status == "positive" and "clear" in normal.text[mention.start:mention.end].lower()
    abnormal = build_report("t", "r", "FINDINGS: Heart size normal. Small left effusion.")
    assert label_report(abnormal)["no finding"].status == "negative"


def test_temporal_cues_attach_to_their_finding():
    report = build_report("t", "r", "FINDINGS: New small right pleural effusion. The heart size is stable. "
                                    "Interval resolution of the pneumothorax. No new consolidation.\n"
                                    "IMPRESSION: Increased opacity in the right base since the prior study.")
    result, evidence = stated_changes(report)
    pairs = [(c.finding, c.change) for c in result.changes]
    assert pairs == [("small right pleural effusion", "new"), ("heart size", "unchanged"),
                     ("pneumothorax", "resolved"), ("opacity in the right base", "worsened")]
    assert [report.text[e.start:e.end] for e in evidence] == [f for f, _ in pairs]


def _changes(text: str) -> list[tuple[str, str]]:
    found = stated_changes(build_report("t", "r", text))
    return [(c.finding, c.change) for c in found[0].changes] if found else []


@pytest.mark.parametrize("text, expected", [
    # a finding, a comma, then its change against the prior: the finding is the clause before the comma
    ("FINDINGS: There is a patchy opacity in the left mid lung, unchanged compared to prior.",
     [("patchy opacity in the left mid lung", "unchanged")]),
    ("FINDINGS: Tortuosity of the thoracic aorta, stable from prior.",
     [("Tortuosity of the thoracic aorta", "unchanged")]),
    # the comparison after a cue is never the finding
    ("FINDINGS: Opacities obscuring the hemidiaphragms, slightly improved from prior exam.",
     [("Opacities obscuring the hemidiaphragms", "improved")]),
    # an expletive or pronoun is not the finding: the phrase after an attributive cue is
    ("FINDINGS: There is increased opacity in the left upper lobe.", [("opacity in the left upper lobe", "worsened")]),
    ("FINDINGS: This is unchanged.", []),
    # two places compared, not two times; an enlarged heart is a state, not a change
    ("IMPRESSION: Bilateral effusions, right larger than left.", []),
    ("FINDINGS: The heart is enlarged.", []),
    ("FINDINGS: The effusion is larger than on the prior study.", [("effusion", "worsened")]),
])
def test_temporal_changes_name_the_finding_not_the_comparison(text, expected):
    assert _changes(text) == expected


def _impression(text: str) -> str | None:
    report = build_report("t", "r", text)
    answer = rule_answer(report, TASKS["impression_generation"].instances(report)[0])
    return answer.result.generated if answer else None


def test_extractive_impression_restates_the_abnormal_findings_and_says_when_nothing_is_acute():
    findings = ("The heart is mildly enlarged. Lungs are clear. No pleural effusion or pneumothorax. "
                "Degenerative changes of the thoracic spine.")
    chronic = _impression(f"EXAMINATION: CHEST 2V\nFINDINGS: {findings}\nIMPRESSION: Pneumonia.")
    # the impression section is never read: its "Pneumonia" does not make the report acute
    assert chronic == "The heart is mildly enlarged. No acute cardiopulmonary abnormality."
    acute = _impression("EXAMINATION: CHEST 2V\nFINDINGS: Heart size normal. Small left pleural effusion. "
                        "Right lower lobe consolidation, possibly pneumonia.")
    assert acute == "Small left pleural effusion. Right lower lobe consolidation, possibly pneumonia."
    assert _impression("FINDINGS: Heart size normal. Lungs are clear.") == "No acute cardiopulmonary abnormality."


def test_extractive_impression_leaves_other_studies_to_the_next_model():
    assert _impression("EXAMINATION: CT ABDOMEN\nFINDINGS: Small left pleural effusion. Liver normal.") is None
    assert _impression("EXAMINATION: XR LEFT KNEE\nFINDINGS: No fracture. Joint effusion.") is None


def test_extractive_impression_keeps_decimals_and_abbreviations_inside_their_sentence():
    """A sentence ends at its full stop, never at a decimal point ("2.0 cm") or an abbreviation's period."""
    findings = ("Heart size normal. There is a 2.0 cm nodule in the right upper lobe, approx. 1.5 cm on the "
                "prior exam per Dr. Smith. Lungs otherwise clear.")
    assert _impression(f"EXAMINATION: CHEST 2V\nFINDINGS: {findings}") == (
        "There is a 2.0 cm nodule in the right upper lobe, approx. 1.5 cm on the prior exam per Dr. Smith. "
        "No acute cardiopulmonary abnormality.")

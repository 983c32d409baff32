"""Entity rows read as claims of the findings NegBio covers, and scored against its gold.

Every report, sentence and gold label below is HAND-WRITTEN for these tests (no IU X-ray text, no
NegBio label): the gold dictionaries are NegBio's shape (key -> the CheXpert labels marked positive).
"""

import pytest
from statsmodels.stats.proportion import proportion_confint

from benchmarks.quality_iu import (
    agreement_cells,
    entity_claims,
    keyword_claims,
    keyword_labels,
    run_store,
    write_export,
)
from training.eval.negbio import Claim, ClaimAgreement, claim_agreement, entity_claim


def span_of(words: str, text: str) -> tuple[int, int]:
    start = text.index(words)
    return start, start + len(words)


@pytest.mark.parametrize(("text", "label", "expected"), [
    ("effusion", "OBS-DP", Claim("pleural effusion", "present")),
    ("pleural effusion", "OBS-DA", Claim("pleural effusion", "absent")),
    ("pneumothorax", "OBS-U", Claim("pneumothorax", "uncertain")),
    ("atelectatic", "OBS-DP", Claim("atelectasis", "present")),
    ("nodules", "OBS-DA", Claim("lung lesion", "absent")),
    ("cardiomegaly", "OBS-DP", Claim("cardiomegaly", "present")),
])
def test_an_observation_naming_a_covered_finding_claims_it_with_its_label_s_assertion(text, label, expected):
    assert entity_claim(text, label, f"FINDINGS: {text}.") == expected


@pytest.mark.parametrize(("text", "label"), [
    ("pleural effusion", "ANAT-DP"),      # anatomy claims nothing
    ("opacities", "OBS-DP"),              # lung opacity: NegBio's gold does not cover it
    ("fracture", "OBS-DA"),               # nor fractures
    ("pericardial effusion", "OBS-DP"),   # not a pleural effusion, as the CheXpert tables read it
    ("clear", "OBS-DP"),
])
def test_anatomy_and_findings_negbio_does_not_cover_claim_nothing(text, label):
    assert entity_claim(text, label, f"FINDINGS: {text}.") is None


def test_the_phrase_around_the_span_names_the_finding():
    """"enlarged" alone names nothing; in "the heart is enlarged" it claims cardiomegaly."""
    heart = "FINDINGS: The heart is enlarged. Enlarged lymph nodes."
    first = heart.index("enlarged")
    assert entity_claim("enlarged", "OBS-DP", heart, first, first + 8) == Claim("cardiomegaly", "present")
    second = heart.index("Enlarged")
    assert entity_claim("Enlarged", "OBS-DP", heart, second, second + 8) is None
    assert entity_claim("enlarged", "OBS-DP", heart) is None


def test_a_located_row_is_read_in_its_place_and_an_unlocated_one_by_its_words():
    """"nodule" in "calcified nodule" is no lung lesion in the tables; without a span only the words are read."""
    text = "FINDINGS: A calcified nodule in the left upper lobe."
    assert entity_claim("nodule", "OBS-DP", text, *span_of("nodule", text)) is None
    assert entity_claim("nodule", "OBS-DP", text) == Claim("lung lesion", "present")


def test_agreement_counts_present_and_absent_claims_against_the_report_s_gold():
    gold = {"CXR1": {"pleural effusion"}, "CXR2": set()}
    claims = [
        ("CXR1", Claim("pleural effusion", "present")),   # gold-positive: agrees
        ("CXR2", Claim("pleural effusion", "present")),   # no effusion in this report's gold: disagrees
        ("CXR9", Claim("atelectasis", "present")),        # a report the gold lacks has no finding: disagrees
        ("CXR1", Claim("pneumothorax", "absent")),        # not gold-positive: agrees
        ("CXR2", Claim("consolidation", "absent")),       # agrees
        ("CXR1", Claim("pleural effusion", "absent")),    # gold-positive: disagrees
        ("CXR2", Claim("edema", "uncertain")),            # counted apart, never scored
    ]
    assert claim_agreement(claims, gold) == ClaimAgreement(present=3, present_agree=1, absent=3, absent_agree=2,
                                                           uncertain=1)


def test_agreement_cells_give_the_share_and_its_wilson_interval():
    present, absent = agreement_cells(ClaimAgreement(present=26, present_agree=23, absent=0, absent_agree=0,
                                                     uncertain=4))
    low, high = proportion_confint(23, 26, alpha=0.05, method="wilson")
    assert present == f"23/26 = 0.885 (95% CI {low:.3f}-{high:.3f})"
    assert absent == "0/0 = 0.000 (95% CI 0.000-0.000)"


def test_keyword_baseline_claims_present_without_a_negation_word_and_absent_with_one():
    text = "INDICATION: pneumonia?\nFINDINGS: No pleural effusion. Small right pneumothorax.\nIMPRESSION: Pneumothorax."
    assert keyword_claims(text) == [Claim("pleural effusion", "absent"), Claim("pneumothorax", "present"),
                                    Claim("pneumothorax", "present")]
    assert keyword_labels(text) == {"pneumothorax"}
    assert keyword_labels("FINDINGS: No effusion.") == {"no finding"}


def test_the_entities_arm_scores_the_rows_radlite_run_publishes(tmp_path):
    """Two hand-written reports in Open-i's columns through `radlite run` (embedded routing, radiology_ner)."""
    rows = [{"uid": "1", "findings": "Small right pleural effusion. No pneumothorax.", "impression": "Effusion."},
            {"uid": "2", "findings": "The heart is enlarged. Possible atelectasis at the left base."}]
    gold = {"CXR1": {"pleural effusion"}, "CXR2": set()}  # hand-written: no cardiomegaly in report 2's gold
    export = str(tmp_path / "handwritten.csv")
    write_export(rows, export)
    store, _ = run_store(export, str(tmp_path / "out"), "embedded", "radiology_ner")
    claims, published, grounded = entity_claims(store)
    assert sorted(claims) == [("CXR1", Claim("pleural effusion", "present")), ("CXR1", Claim("pneumothorax", "absent")),
                              ("CXR2", Claim("atelectasis", "uncertain")), ("CXR2", Claim("cardiomegaly", "present"))]
    assert claim_agreement(claims, gold) == ClaimAgreement(present=2, present_agree=1, absent=1, absent_agree=1,
                                                           uncertain=1)
    assert published == grounded > len(claims)  # anatomy rows are published too, and every rules row is grounded

"""The one sentence rule: where a mention's sentence starts and ends (radlite.text.sentences)."""

import pytest

from radlite.text.sentences import sentence_bounds, split_sentences


def _sentence_of(text: str, words: str, **options) -> str:
    start = text.index(words)
    left, right = sentence_bounds(text, start, start + len(words), **options)
    return text[left:right]


@pytest.mark.parametrize("text, words, sentence", [
    ("Nodule measuring 2.0 cm in the right lobe. Next.", "right lobe", "Nodule measuring 2.0 cm in the right lobe"),
    ("Atelectasis vs. pneumonia measuring 1.5 cm. Next sentence.", "pneumonia",
     "Atelectasis vs. pneumonia measuring 1.5 cm"),
    ("Seen before. Mass of approx. 3 cm, e.g. on image 4. After.", "Mass", " Mass of approx. 3 cm, e.g. on image 4"),
    ("Discussed with Dr. Smith on the phone.", "phone", "Discussed with Dr. Smith on the phone"),
    ("No effusion; small nodule. Next.", "nodule", " small nodule"),
    ("Is there a mass? Pneumonia is likely!", "Pneumonia", " Pneumonia is likely"),
    ("Mild cardiomegaly\nwith a small effusion. Next.", "effusion", "Mild cardiomegaly\nwith a small effusion"),
    ("Old fracture\n\nNew effusion", "effusion", "New effusion"),
    ("IMPRESSION:\n1) Effusion\n2) Nodule", "Nodule", "2) Nodule"),
    ("Effusion\n- nodule", "nodule", "- nodule"),
    ("Small effusion\nFINDINGS: nodule", "nodule", "FINDINGS: nodule"),
    ("Ends without a period", "period", "Ends without a period"),
])
def test_a_sentence_ends_at_punctuation_blank_lines_and_items_never_at_a_decimal(text, words, sentence):
    assert _sentence_of(text, words) == sentence


def test_with_lines_every_line_break_ends_the_sentence_too():
    text = "Mass in the right breast\nmeasuring 1.5 cm. Next."
    assert _sentence_of(text, "measuring", lines=True) == "measuring 1.5 cm"
    assert _sentence_of(text, "Mass", lines=True) == "Mass in the right breast"
    assert _sentence_of(text, "Mass") == "Mass in the right breast\nmeasuring 1.5 cm"


def test_an_impression_list_splits_at_item_numbers_and_lines_but_not_at_semicolons():
    impression = "1. No acute disease. 2. Stable 2.0 cm nodule; unchanged.\nApprox. 3 mm cyst vs. granuloma."
    statements = [s for s in split_sentences(impression, "items") if not s.rstrip(".").isdigit()]
    assert statements == ["No acute disease.", "Stable 2.0 cm nodule; unchanged.", "Approx. 3 mm cyst vs. granuloma."]


def test_prose_sentences_end_at_semicolons():
    assert split_sentences("Heart normal; lungs clear. No effusion.") == ["Heart normal", "lungs clear", "No effusion"]

"""A failed model call is a typed record (code, model_id, n_ctx, message): its row's ``error`` text is
rendered from it in one place, read back into it by retry and doctor, and its kind says whether a
changed entry may get past it."""

from radlite.kinds import CONTEXT_OVERFLOW, MODEL_ERROR, ModelEntry, ModelFailure

#: The row text of an overflow as runs before the record wrote it (the tables keep their values).
OVERFLOW_ROW = ("context_overflow: ValueError: Requested tokens (5000) exceed context window of 4096 (n_ctx=4096; "
                "raise n_ctx in the routing entry to process such reports)")


def test_an_overflow_renders_the_rows_text_and_reads_back_into_the_same_record():
    failure = ModelFailure.of_exception(ValueError("Requested tokens (5000) exceed context window of 4096"),
                                        "m.gguf", 4096)
    assert (failure.code, failure.n_ctx, failure.model_id) == (CONTEXT_OVERFLOW, 4096, "m.gguf")
    assert failure.error == OVERFLOW_ROW
    assert ModelFailure.of_row(OVERFLOW_ROW, "m.gguf") == failure


def test_other_failures_are_model_errors_and_a_parse_error_is_no_model_failure():
    failure = ModelFailure.of_exception(RuntimeError("llama_decode returned -1"), "m.gguf", 4096)
    assert failure.error == "model_error: RuntimeError: llama_decode returned -1" and failure.code == MODEL_ERROR
    assert failure.n_ctx is None and ModelFailure.of_row(failure.error, "m.gguf") == failure
    assert ModelFailure.of_row("no_answer: the report states no value the rules read", "rules") is None
    assert ModelFailure.of_row(None, "m.gguf") is None


def test_the_llama_cpp_kind_says_an_overflow_fits_only_a_larger_context():
    overflow = ModelFailure.of_row(OVERFLOW_ROW, "m.gguf")
    for n_ctx, fits in ((4096, False), (2048, False), (8192, True)):
        entry = ModelEntry(path="m.gguf", n_ctx=n_ctx)
        assert entry.traits.may_fit(entry, overflow) is fits
    rules = ModelEntry(kind="rules")
    assert rules.traits.may_fit(rules, overflow)  # a kind with no context size: nothing says it cannot

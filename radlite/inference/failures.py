"""A model call that failed, as a typed record: what the decoder saw, what retry and doctor read.

A failed call's row keeps its ``error`` text (the tables' contract), rendered from the record here
and read back into it here, so no other module spells or parses the text: a ``context_overflow``
names the context size it overflowed (a larger ``n_ctx`` may fit), a ``model_error`` may be transient.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MODEL_ERROR, CONTEXT_OVERFLOW = "model_error", "context_overflow"
CODES = (MODEL_ERROR, CONTEXT_OVERFLOW)
#: What the ``error`` column of a failed call's row starts with.
ERROR_PREFIXES = tuple(f"{code}:" for code in CODES)
_OVERFLOW_ADVICE = "raise n_ctx in the routing entry to process such reports"
#: The context size an overflow's text names (the advice after it is not read: older rows may word it otherwise).
_OVERFLOW = re.compile(r"(?P<message>.*) \(n_ctx=(?P<n_ctx>\d+);", re.DOTALL)
#: How much of llama.cpp's words a row keeps.
MESSAGE_CHARS = 500


@dataclass(frozen=True)
class ModelFailure:
    """One failed model call: its code, the entry's ``model_id``, the context size of an overflow, and
    llama.cpp's words."""

    code: str
    model_id: str
    message: str
    n_ctx: int | None = None

    @classmethod
    def of_exception(cls, exc: Exception, model_id: str, n_ctx: int) -> ModelFailure:
        """What ``exc`` raised by a call on a model with context size ``n_ctx`` means."""
        message = f"{type(exc).__name__}: {exc}"[:MESSAGE_CHARS]
        if "exceed context window" in message or "context" in message and "too long" in message:
            return cls(CONTEXT_OVERFLOW, model_id, message, n_ctx)
        return cls(MODEL_ERROR, model_id, message)

    @classmethod
    def of_row(cls, error: str | None, model_id: str) -> ModelFailure | None:
        """The failure a row's ``error`` records (None: the row's model call did not fail)."""
        code, _, rest = (error or "").partition(": ")
        if code not in CODES:
            return None
        overflow = _OVERFLOW.match(rest) if code == CONTEXT_OVERFLOW else None
        if overflow:
            return cls(code, model_id, overflow["message"], int(overflow["n_ctx"]))
        return cls(code, model_id, rest)

    @property
    def error(self) -> str:
        """The row's ``error`` text: the code, then llama.cpp's words (and the context size overflowed)."""
        if self.code == CONTEXT_OVERFLOW and self.n_ctx is not None:
            return f"{self.code}: {self.message} (n_ctx={self.n_ctx}; {_OVERFLOW_ADVICE})"
        return f"{self.code}: {self.message}"

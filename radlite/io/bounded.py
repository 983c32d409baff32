"""One record at a time from a byte stream, read in bounded pieces.

A reader that takes a whole line (``readline()``, ``for line in fh``) holds a 50 MB line in memory
before it can see that the line is too long. These functions read at most one ``PIECE`` at a time,
keep a record's bytes only while it is within ``max_bytes``, and past that drop what they kept and
read on to the record's end, so that an over-long record costs the limit, not its size. Parsing is
left to the caller (the ``csv`` and ``json`` modules); here we only find where a record ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, NamedTuple

#: Bytes read from the stream at a time.
PIECE = 64 * 1024

_QUOTE = ord('"')
_START, _FIELD, _QUOTED, _QUOTE_IN_QUOTED = range(4)


class Chunk(NamedTuple):
    """One record as found in the stream."""

    #: The record's bytes, or None when it spanned more than ``max_bytes`` (it was dropped as read).
    data: bytes | None
    #: Bytes the record spans in the stream.
    size: int
    #: Bytes of its first line: where reading resumes when the caller refuses a multi-line record.
    first_line: int
    #: False when a quoted field was still open at the end of the stream.
    closed: bool = True


def _line_pieces(fh: BinaryIO, piece: int) -> Iterator[bytes]:
    """The next line of ``fh`` (up to and including its newline) in pieces of at most ``piece`` bytes."""
    while part := fh.readline(piece):
        yield part
        if part.endswith(b"\n"):
            return


class _Kept:
    """The bytes of a record while it stays within ``max_bytes``; none of them once it passes it."""

    def __init__(self, max_bytes: int):
        self.max_bytes, self.size, self.parts = max_bytes, 0, []

    def add(self, part: bytes) -> None:
        self.size += len(part)
        if self.size > self.max_bytes:
            self.parts = None
        elif self.parts is not None:
            self.parts.append(part)

    def data(self) -> bytes | None:
        return None if self.parts is None else b"".join(self.parts)


def read_line(fh: BinaryIO, max_bytes: int, piece: int = PIECE) -> Chunk | None:
    """The next ``\\n``-ended line of ``fh``; None at the end of the stream."""
    kept = _Kept(max_bytes)
    for part in _line_pieces(fh, piece):
        kept.add(part)
    return Chunk(kept.data(), kept.size, kept.size) if kept.size else None


class _QuoteTracker:
    """Follows the quoting of Python's ``csv`` module (``"`` quotes, ``""`` inside quotes, no escape
    character) over the pieces of a record, to tell whether a line's newline ends the record or
    belongs to a quoted field. A quote inside an unquoted field is an ordinary character, as in csv."""

    def __init__(self, delimiter: bytes):
        self.delimiter, self.state = delimiter, _START

    @property
    def in_quotes(self) -> bool:
        return self.state == _QUOTED

    def feed(self, part: bytes) -> None:
        pos = 0
        while pos < len(part):
            if self.state == _QUOTED:
                end = part.find(b'"', pos)
                if end < 0:
                    return
                self.state, pos = _QUOTE_IN_QUOTED, end + 1
            elif self.state == _QUOTE_IN_QUOTED:  # "" stays quoted; anything else closed the field
                self.state, pos = (_QUOTED, pos + 1) if part[pos] == _QUOTE else (_FIELD, pos)
            elif self.state == _START:
                if part[pos] == _QUOTE:
                    self.state, pos = _QUOTED, pos + 1
                elif part.startswith(self.delimiter, pos):
                    pos += len(self.delimiter)
                else:
                    self.state = _FIELD
            else:
                end = part.find(self.delimiter, pos)
                if end < 0:
                    return
                self.state, pos = _START, end + len(self.delimiter)


def read_csv_record(fh: BinaryIO, delimiter: str, max_bytes: int, piece: int = PIECE) -> Chunk | None:
    """The next CSV record of a UTF-8 stream: lines up to one whose newline is outside quotes (or the
    end of the stream); None at the end. ``closed`` is False when a quote never closed."""
    tracker, kept, first_line = _QuoteTracker(delimiter.encode()), _Kept(max_bytes), None
    while True:
        before = kept.size
        for part in _line_pieces(fh, piece):
            tracker.feed(part)
            kept.add(part)
        first_line = kept.size if first_line is None else first_line
        if kept.size == before or not tracker.in_quotes:
            break
    return Chunk(kept.data(), kept.size, first_line, not tracker.in_quotes) if kept.size else None

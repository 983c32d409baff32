"""GBNF rules whose strings are spans of a report: what a model may write in an extractive field.

Why: an entity's text, a QA quote or a temporal finding that the model writes freely can name things
the report never says. Decoded under these rules, such a field can only copy the report.

A span is a run of the report's words (``\\w+``) and punctuation marks, copied with the report's own
spacing between them, in any letter case (the grounding lookups, ``ner.locate`` and
``spans.find_phrase``, ignore case). It starts and ends at a word or mark, never crosses a line break,
a tab or a control character, and is at most ``max_chars`` characters long (the field's length
limit). Word boundaries, not characters, because a fragment of a word ("neumotho") is no finding, and
because a bounded run of words keeps the grammar small.

The spans form a radix tree over their (case-folded) characters: a node per branch point or span end,
an edge per run of characters. Each node becomes one GBNF rule whose alternatives start with distinct
characters, so llama.cpp's grammar sampler holds few stacks at any point of a span. In JSON mode a
report's ``"`` or ``\\`` is written escaped, as a JSON string must hold it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

#: A word or a single punctuation mark: what a span starts and ends with.
_TOKEN = re.compile(r"\w+|[^\w\s]")
#: Characters that break spans: a span never holds a line break, tab or other control character.
_BREAK = re.compile(r"[\x00-\x1f\x7f]")


@dataclass
class SpanNode:
    """A radix-tree node: ``end`` when a span may stop here; children keyed by their edge's characters."""

    end: bool = False
    children: dict[str, SpanNode] = field(default_factory=dict)


def _fold(text: str) -> str:
    """Lower case, one character for one (so the grammar's ``[xX]`` classes line up with the report)."""
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def span_pieces(segment: str) -> list[list[str]]:
    """The runs of ``segment`` a span may cover, each as its pieces: the first token, then each further
    token with the spaces before it. A line break, tab or control character ends a run."""
    runs: list[list[str]] = []
    for line in _BREAK.split(segment):
        pieces, last = [], None
        for m in _TOKEN.finditer(line):
            pieces.append(m.group() if last is None else line[last:m.end()])
            last = m.end()
        if pieces:
            runs.append(pieces)
    return runs


def span_tree(segments: Sequence[str], max_chars: int) -> SpanNode:
    """The character trie of every span of ``segments`` up to ``max_chars`` characters, compressed."""
    root = SpanNode()
    for segment in segments:
        for pieces in span_pieces(segment):
            pieces = [_fold(piece) for piece in pieces]
            for start in range(len(pieces)):
                node, length = root, 0
                for index in range(start, len(pieces)):
                    piece = pieces[index].lstrip(" ") if index == start else pieces[index]
                    length += len(piece)
                    if length > max_chars:
                        break
                    for char in piece:
                        node = node.children.get(char) or node.children.setdefault(char, SpanNode())
                    node.end = True
    return _compress(root)


def _compress(node: SpanNode) -> SpanNode:
    """Merge chains of one-child nodes where no span ends into one edge (a radix tree)."""
    merged = {}
    for label, child in node.children.items():
        while not child.end and len(child.children) == 1:
            (more, child), = child.children.items()
            label += more
        merged[label] = _compress(child)
    node.children = merged
    return node


def span_rules(segments: Sequence[str], max_chars: int, name: str = "span", json_escaped: bool = False) -> str | None:
    """GBNF rules defining ``name``: exactly the non-empty spans of ``segments`` (see the module
    docstring), written as a JSON string's content when ``json_escaped``. None when there is no span."""
    root = span_tree(segments, max_chars)
    if not root.children:
        return None
    lines: list[str] = []
    _node_rules(root, name, name, json_escaped, lines, [0])
    return "\n".join(lines) + "\n"


def _node_rules(node: SpanNode, rule: str, name: str, json_escaped: bool, lines: list[str],
                counter: list[int]) -> None:
    """Append ``rule ::= edge child | ...`` for ``node``, then the rules of its children (``name-N``)."""
    alternatives, pending = [], []
    for label, child in node.children.items():
        edge = edge_pattern(label, json_escaped)
        if child.children:
            counter[0] += 1
            child_rule = f"{name}-{counter[0]}"
            alternatives.append(f"{edge} {child_rule}{'?' if child.end else ''}")
            pending.append((child, child_rule))
        else:
            alternatives.append(edge)
    lines.append(f"{rule} ::= " + " | ".join(alternatives))
    for child, child_rule in pending:
        _node_rules(child, child_rule, name, json_escaped, lines, counter)


def edge_pattern(label: str, json_escaped: bool) -> str:
    """GBNF for a folded edge label: a cased letter as ``[xX]``, the other characters as literals."""
    parts, literal = [], ""
    for char in label:
        cased = _case_class(char)
        if cased:
            if literal:
                parts.append(_literal(literal))
                literal = ""
            parts.append(cased)
        else:
            literal += ("\\" + char) if json_escaped and char in '"\\' else char
    if literal:
        parts.append(_literal(literal))
    return " ".join(parts)


@functools.lru_cache(maxsize=4096)
def _case_class(char: str) -> str | None:
    """``[xX]`` for a folded letter with one upper-case form; None for any other character."""
    upper = char.upper()
    return f"[{char}{upper}]" if len(upper) == 1 and upper != char and _fold(upper) == char else None


def _literal(text: str) -> str:
    """A GBNF string literal of ``text`` (its quote and backslash escaped)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def is_span(text: str, segments: Sequence[str], max_chars: int) -> bool:
    """Whether ``text`` is one of the spans ``span_rules`` accepts (the same tree, walked): for tests
    and checks of decoded output."""
    node, rest = span_tree(segments, max_chars), _fold(text)
    while rest:
        label = next((label for label in node.children if rest.startswith(label)), None)
        if label is None:
            return False
        node, rest = node.children[label], rest[len(label):]
    return node.end

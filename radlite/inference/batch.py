"""Decoding on one llama.cpp context: many prompts at once, shared prefixes evaluated once.

Every model call of radlite decodes here; a single prompt is a group of one. Why batch: on a CPU the
report text is the large fixed cost of every task prompt, and one sequence at a time leaves the
matrix kernels under-used while decoding. So the prompts of a group (one report's task prompts) are
laid out as a prefix tree: each tree node's tokens are evaluated once, and llama.cpp's
multi-sequence KV cache forks the evaluated prefix into each prompt's own sequence
(``llama_memory_seq_cp`` shares the cells, it copies nothing). What every prompt of a run starts
with (the system prompt) is evaluated once per run, into a sequence of its own, and shared into
every group's sequences the same way. All admitted prompts then decode together, one token per
sequence per ``llama_decode``, each under its own sampler and stops; a finished sequence's slot goes
to the next group waiting (continuous batching).

Each prompt gets its own sampler chain, the one llama-cpp-python's ``create_completion`` builds:
at ``temperature=0`` its grammar, then greedy; above 0 its grammar, top-k 40, top-p 0.95, min-p 0.05,
the temperature, then a draw seeded with the request's seed (the penalties and typical-p samplers
llama-cpp-python adds are no-ops at its defaults and are left out). So a prompt's answer does not
depend on what else shares the batch, unless the batched kernels round a logit differently
(tests/inference measure that against llama-cpp-python's own decoding).
"""

from __future__ import annotations

import ctypes
import math
import time
from collections import OrderedDict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import llama_cpp
import numpy as np


@dataclass(frozen=True)
class Request:
    """One prompt to complete: its token ids and how to decode."""

    tokens: tuple[int, ...]
    max_tokens: int
    stop: tuple[str, ...] = ()
    grammar: str | None = None
    #: 0: greedy; above: sampled (top-k, top-p, min-p, temperature) from a draw seeded with ``seed``
    temperature: float = 0.0
    seed: int = 0


@dataclass
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int
    tokens: tuple[int, ...] = ()  # the token ids sampled (the last may be a stop string's first token)
    #: per sampled token, its natural log-probability under the model's full softmax (before the grammar
    #: and the sampler chain pick it): the raw score radlite.confidence turns into a value's confidence
    logprobs: tuple[float, ...] = ()
    #: per sampled token, the byte offset where it ends in the UTF-8 text generated (stop string included)
    token_ends: tuple[int, ...] = ()


@dataclass
class GroupCost:
    """What one group (report) cost: prompt tokens it made llama.cpp evaluate, and its share of the time."""

    prefill_tokens: int = 0
    seconds: float = 0.0


@dataclass
class Node:
    """A run of tokens shared by every prompt below it, starting at position ``start``."""

    start: int
    tokens: tuple[int, ...]
    children: list[Node] = field(default_factory=list)
    ending: list[int] = field(default_factory=list)  # prompts (indices) that end with this node

    @property
    def end(self) -> int:
        return self.start + len(self.tokens)


def prefix_tree(prompts: Sequence[Sequence[int]], start: int = 0, members: Sequence[int] | None = None) -> list[Node]:
    """The radix tree of ``prompts`` (token lists): nodes whose tokens are evaluated once for all
    prompts sharing them. Returns the roots (prompts that differ from their first token on)."""
    members = range(len(prompts)) if members is None else members
    by_first: dict[int, list[int]] = {}
    for index in members:
        by_first.setdefault(prompts[index][start], []).append(index)
    nodes = []
    for group in by_first.values():
        end = start + 1
        while all(len(prompts[i]) > end for i in group) and len({prompts[i][end] for i in group}) == 1:
            end += 1
        node = Node(start, tuple(prompts[group[0]][start:end]))
        node.ending = [i for i in group if len(prompts[i]) == end]
        longer = [i for i in group if len(prompts[i]) > end]
        if longer:
            node.children = prefix_tree(prompts, end, longer)
        nodes.append(node)
    return nodes


def tree_tokens(nodes: list[Node]) -> int:
    """Tokens evaluated to prefill a tree: the fewest that give every prompt its full KV cache."""
    return sum(len(n.tokens) + tree_tokens(n.children) for n in nodes)


def shared_root_length(groups: Sequence[Sequence[Sequence[int]]]) -> int:
    """Tokens every prompt of every group starts with (the system prompt and template head), evaluated
    once per run and shared by all groups; each prompt keeps at least one token of its own (the one
    whose logits start its answer). 0 for fewer than two groups, or a group with an empty prompt."""
    prompts = [p for group in groups for p in group]
    if len(groups) < 2 or not prompts or any(not p for p in prompts):
        return 0
    length = min(len(p) for p in prompts) - 1
    for prompt in prompts[1:]:
        length = min(length, llama_cpp.Llama.longest_token_prefix(prompts[0], prompt))
    return max(0, length)


def fewest_prefill_tokens(groups: Sequence[Sequence[Sequence[int]]]) -> int:
    """Tokens a run of ``groups`` (each a report's prompts) must evaluate at the least: their shared
    root once, then each group's prefix tree after it (what BatchDecoder.run evaluates)."""
    root = shared_root_length(groups)
    return root + sum(tree_tokens(prefix_tree(group, start=root)) for group in groups)


#: Parsed sampler chains kept for reuse, least recently used dropped first. A task grammar is shared by
#: every report, but an extractive field's grammar holds the report's own spans, so each report brings
#: new ones: kept unbounded they would grow with the run.
SAMPLER_CACHE = 256

#: Batched contexts are sized in steps of this many cache cells (a multiple of llama.cpp's padding).
CELL_STEP = 1024


def _round_up(value: int, step: int) -> int:
    return max(step, -(-value // step) * step)


def new_context(llm, *, cells: int, n_batch: int, sequences: int, threads: int, unified: bool = True):
    """A llama.cpp context over ``llm``'s model with ``cells`` KV cache cells for ``sequences``
    sequences (one cache for all, or one stream each), with the settings of llama-cpp-python's own
    context (attention kernel, cache types) so numbers match its decoding."""
    params = llama_cpp.llama_context_params.from_buffer_copy(llm.context_params)
    params.n_ctx, params.n_batch, params.n_ubatch = cells, n_batch, 512
    params.n_seq_max, params.kv_unified, params.no_perf = sequences, unified, True
    params.n_threads = params.n_threads_batch = threads
    ctx = llama_cpp.llama_init_from_model(llm._model.model, params)
    if not ctx:
        raise RuntimeError("llama.cpp could not create a batched context")
    return ctx


def decode(ctx, batch, entries: Sequence[tuple[int, int, int, bool]]) -> None:
    """One llama_decode of (token, position, sequence id, wants logits) entries."""
    for i, (token, pos, seq_id, logits) in enumerate(entries):
        batch.token[i], batch.pos[i], batch.n_seq_id[i] = token, pos, 1
        batch.seq_id[i][0], batch.logits[i] = seq_id, logits
    batch.n_tokens = len(entries)
    status = llama_cpp.llama_decode(ctx, batch)
    if status != 0:
        raise RuntimeError(f"llama_decode failed with status {status}")


def _owner(node: Node) -> int:
    """The prompt whose sequence evaluates ``node``: one that ends there, else its first child's."""
    return node.ending[0] if node.ending else _owner(node.children[0])


class _Sequence:
    """A prompt being decoded: its llama.cpp sequence id, sampler and output so far."""

    def __init__(self, group: int, index: int, request: Request, seq_id: int, sampler, n_ctx: int):
        self.group, self.index, self.request, self.seq_id, self.sampler = group, index, request, seq_id, sampler
        self.pos = len(request.tokens)
        self.limit = min(request.max_tokens, n_ctx - self.pos)
        self.out: list[int] = []
        self.logprobs: list[float] = []
        self.ends: list[int] = []
        self.text = b""
        self.done = False


@dataclass
class _Group:
    """An admitted group: its prompts' sequences, the cells it reserved, the tree levels still to evaluate."""

    index: int
    requests: list[Request]
    seq_ids: list[int]
    reserved: int
    levels: list[list[Node]]
    cost: GroupCost = field(default_factory=GroupCost)
    results: dict[int, Completion] = field(default_factory=dict)
    open: int = 0


def _levels(roots: list[Node]) -> list[list[Node]]:
    levels, level = [], roots
    while level:
        levels.append(level)
        level = [child for node in level for child in node.children]
    return levels


@dataclass
class _Run:
    """What one ``BatchDecoder.run`` holds between its steps: the groups waiting, admitted and decoding,
    the sequences and cache cells still free, and each group's outcome."""

    groups: Sequence[Sequence[Request]]
    #: per group, its prefix tree after ``planned_root`` tokens and the cells it reserves, or its error
    plans: list
    planned_root: int
    #: tokens of the shared root in the cache (0 once a refused step cleared it)
    root: int
    free_cells: int
    free_seqs: list[int]
    #: the run's own cost (context, shared root), until the first admitted group carries it
    cost: GroupCost | None
    outcome: list
    waiting: deque
    active: dict[int, _Group] = field(default_factory=dict)
    decoding: list[_Sequence] = field(default_factory=list)


class BatchDecoder:
    """A llama.cpp context with many sequences over an already loaded model, and the LoRA adapters
    applied to it (the one place radlite applies adapters at run time).

    ``n_ctx`` is the per-prompt limit (prompt + answer); ``kv_cells`` the most tokens all sequences
    together may hold; ``n_seq`` how many decode at once; ``share_root``: evaluate what every prompt of
    a run starts with once (False: each group evaluates its whole prompts; benchmarks/tasks_bench.py
    compares the two). The context is created on the first run and sized to the runs' work (see
    ``_reserve``).
    """

    def __init__(self, llm, *, n_ctx: int, threads: int, n_seq: int = 32, kv_cells: int | None = None,
                 share_root: bool = True):
        self.llm, self.n_ctx, self.n_seq, self.threads = llm, n_ctx, n_seq, threads
        self.share_root = share_root
        self.max_cells = kv_cells or 4 * n_ctx
        self.kv_cells = 0  # the cache cells of the current context (0: none yet)
        self.n_batch = n_ctx + n_seq  # one whole prompt node and a token for every sequence
        self.ctx = None
        self.memory = None
        self._adapters: tuple[list, list[float]] = ([], [])
        self.vocab = llm._model.vocab
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(self.vocab)
        # one candidate, to ask a grammar about a single token
        self._one = llama_cpp.llama_token_data()
        self._candidates = llama_cpp.llama_token_data_array(ctypes.pointer(self._one), 1, -1, False)
        self.batch = llama_cpp.llama_batch_init(self.n_batch, 0, 1)
        self._samplers: OrderedDict[tuple, object] = OrderedDict()

    def _reserve(self, cells: int) -> None:
        """A context holding at least ``cells`` cache cells (at most ``max_cells``).

        Why: llama.cpp allocates and clears the whole KV cache when a context is created (13 ms per
        1,000 cells of the embedded model in a fresh process, benchmarks/kv_cache_bench.py; ~65 ms in a
        cold pipeline run), so a cache sized for the largest possible batch (4 x n_ctx) cost a cold run
        up to a second per model while a batch of 8 reports uses about 5,000 cells. Capacity only grows
        (at least doubling), so a process recreates its context a few times at most; cell placement,
        and so llama.cpp's rounding, does not depend on the size."""
        needed = min(self.max_cells, _round_up(cells, CELL_STEP))
        if self.ctx and needed <= self.kv_cells:
            return
        want = min(self.max_cells, max(needed, 2 * self.kv_cells))
        self._free_context()
        # one more sequence than decode at once: it holds the run's shared root (shared_root_length)
        self.ctx = new_context(self.llm, cells=want, n_batch=self.n_batch, sequences=self.n_seq + 1,
                               threads=self.threads)
        self.kv_cells = want
        self.memory = llama_cpp.llama_get_memory(self.ctx)
        self._apply_adapters()

    def _free_context(self) -> None:
        if self.ctx:
            llama_cpp.llama_free(self.ctx)
            self.ctx, self.memory, self.kv_cells = None, None, 0

    def close(self) -> None:
        if self.batch is not None:
            self._free_context()
            llama_cpp.llama_batch_free(self.batch)
            self.batch = None
            for sampler in self._samplers.values():
                llama_cpp.llama_sampler_free(sampler)
            self._samplers.clear()

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown may have unloaded llama_cpp
            pass

    def set_adapters(self, handles: list, scales: list[float]) -> None:
        """Apply exactly these LoRA adapters (now, and to any context created later)."""
        self._adapters = (list(handles), list(scales))
        if self.ctx:
            self._apply_adapters()

    def _apply_adapters(self) -> None:
        """The adapters onto the context; the cache is cleared (it was computed with other weights)."""
        handles, scales = self._adapters
        array = (llama_cpp.llama_adapter_lora_p_ctypes * max(1, len(handles)))(*handles)
        floats = (ctypes.c_float * max(1, len(handles)))(*scales)
        if llama_cpp.llama_set_adapters_lora(self.ctx, array, len(handles), floats):
            raise RuntimeError("llama.cpp could not apply the adapters to the batched context")
        llama_cpp.llama_memory_clear(self.memory, True)

    def _sampler(self, request: Request):
        """A fresh sampler chain for ``request`` (the module docstring says which), cloned from one built
        per grammar, temperature and seed: a grammar is parsed once, and every clone draws from the seed."""
        key = (request.grammar, request.temperature, request.seed if request.temperature > 0 else None)
        if key in self._samplers:
            self._samplers.move_to_end(key)
        else:
            self._samplers[key] = self._chain(request)
            if len(self._samplers) > SAMPLER_CACHE:  # per-report grammars (report spans) come and go
                llama_cpp.llama_sampler_free(self._samplers.popitem(last=False)[1])
        return llama_cpp.llama_sampler_clone(self._samplers[key])

    def _chain(self, request: Request):
        """The sampler chain llama-cpp-python's create_completion builds for the request's grammar and
        temperature (site-packages/llama_cpp/llama.py, ``Llama._init_sampler``), without its no-op steps."""
        chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
        if request.grammar is not None:
            rule = llama_cpp.llama_sampler_init_grammar(self.vocab, request.grammar.encode(), b"root")
            if not rule:
                llama_cpp.llama_sampler_free(chain)
                raise ValueError("llama.cpp could not parse the grammar")
            llama_cpp.llama_sampler_chain_add(chain, rule)
        if request.temperature == 0:
            steps = [llama_cpp.llama_sampler_init_greedy()]
        else:
            steps = [llama_cpp.llama_sampler_init_top_k(40), llama_cpp.llama_sampler_init_top_p(0.95, 1),
                     llama_cpp.llama_sampler_init_min_p(0.05, 1),
                     llama_cpp.llama_sampler_init_temp(request.temperature),
                     llama_cpp.llama_sampler_init_dist(request.seed)]
        for step in steps:
            llama_cpp.llama_sampler_chain_add(chain, step)
        return chain

    def _check(self, requests: list[Request]) -> None:
        """Raise for a group llama.cpp cannot hold, before any of its tokens is evaluated."""
        for request in requests:
            if not request.tokens:
                raise ValueError("empty prompt")
            if len(request.tokens) >= self.n_ctx:
                raise ValueError(f"Requested tokens ({len(request.tokens)}) exceed context window of {self.n_ctx}")
            if request.temperature < 0:
                raise ValueError(f"temperature {request.temperature} is below 0")

    def _plan(self, requests: Sequence[Request], root: int) -> tuple[list[Node], int] | Exception:
        """A group's prefix tree after the run's root and the cache cells it reserves (tree + answer
        budgets), or the error of a group the batched context can never hold."""
        try:
            self._check(list(requests))
            roots = prefix_tree([r.tokens for r in requests], start=root)
            need = tree_tokens(roots) + sum(min(r.max_tokens, self.n_ctx - len(r.tokens)) for r in requests)
            if len(requests) > self.n_seq or need > self.max_cells - root:  # the root keeps its cells
                raise ValueError(f"group of {len(requests)} prompts needing {need} cache cells exceeds the "
                                 f"batched context ({self.n_seq} sequences, {self.max_cells - root} cells)")
        except Exception as exc:  # noqa: BLE001 - the group's error, not the batch's
            return exc
        return roots, need

    def run(self, groups: Sequence[Sequence[Request]]) -> list[tuple[list[Completion] | Exception, GroupCost]]:
        """Complete every request; per group, its completions (in order) or the exception that
        stopped it, and its cost. One group's failure never touches another's answers.

        Each round admits what fits, then one decode step evaluates the next prefix-tree level of the
        admitted groups with a token of every decoding sequence, then finished sequences retire."""
        run = self._begin(groups)
        while run.waiting or run.active:
            self._admit(run)
            try:
                run.decoding += self._decode_step(run.active, run.decoding)
            except Exception as exc:  # noqa: BLE001 - llama.cpp refused the batch: its groups fail, others go on
                self._fail_active(run, exc)
                continue
            self._retire(run)
        return run.outcome

    def _begin(self, groups: Sequence[Sequence[Request]]) -> _Run:
        """Plan every group, size the context for them all and evaluate the run's shared root. The cache
        starts empty, so where cells go (and so llama.cpp's rounding) depends on these groups only."""
        root = shared_root_length([[r.tokens for r in group] for group in groups]) if self.share_root else 0
        plans = [self._plan(group, root) for group in groups]
        start = time.perf_counter()  # cells for every group at once (those it can hold), plus the root
        self._reserve(root + sum(plan[1] for plan in plans if not isinstance(plan, Exception)))
        setup = time.perf_counter() - start  # llama.cpp's work too: a new context clears its cells
        llama_cpp.llama_memory_clear(self.memory, True)
        evaluated, cost = self._prefill_root(groups, root)
        cost.seconds += setup
        return _Run(groups, plans, planned_root=root, root=evaluated, free_cells=self.kv_cells - evaluated,
                    free_seqs=self._all_sequences(), cost=cost, outcome=[None] * len(groups),
                    waiting=deque(range(len(groups))))

    def _all_sequences(self) -> list[int]:
        """Every decoding sequence id, free (popped lowest first)."""
        return list(range(self.n_seq - 1, -1, -1))

    def _prefill_root(self, groups: Sequence[Sequence[Request]], root: int) -> tuple[int, GroupCost]:
        """Evaluate the ``root`` tokens all the run's prompts share (shared_root_length) once, into the
        extra sequence ``n_seq``; returns their length (0: none, or llama.cpp refused them) and cost."""
        if not root:
            return 0, GroupCost()
        first = next(group[0].tokens for group in groups if group)
        start = time.perf_counter()
        try:
            self._decode([(token, pos, self.n_seq, False) for pos, token in enumerate(first[:root])])
        except Exception:  # noqa: BLE001 - then each group evaluates its whole prompts, as without a root
            llama_cpp.llama_memory_clear(self.memory, True)
            return 0, GroupCost(0, time.perf_counter() - start)
        return root, GroupCost(root, time.perf_counter() - start)

    def _admit(self, run: _Run) -> None:
        """Move waiting groups, in order, into free sequences and cache cells while they last. A group
        the context can never hold gets its error, an empty one no completions; neither waits."""
        while run.waiting:
            index = run.waiting[0]
            requests = list(run.groups[index])
            plan = run.plans[index] if run.root == run.planned_root else self._plan(requests, run.root)
            if isinstance(plan, Exception) or not requests:
                run.waiting.popleft()
                run.outcome[index] = (plan if isinstance(plan, Exception) else [], GroupCost())
                continue
            roots, need = plan
            if need > self.kv_cells and not run.active:
                # sized for the run's root + every group, so only after a cleared cache (root 0, cache
                # empty) can a group outgrow it: grow now, nothing is lost
                self._reserve(need)
                run.free_cells = self.kv_cells
            if len(requests) > len(run.free_seqs) or need > run.free_cells:
                return
            run.waiting.popleft()
            run.free_cells -= need
            group = _Group(index, requests, [run.free_seqs.pop() for _ in requests], need, _levels(roots),
                           open=len(requests))
            for seq_id in group.seq_ids:  # the run's shared root, into each of the group's sequences
                llama_cpp.llama_memory_seq_cp(self.memory, self.n_seq, seq_id, -1, -1)
            if run.cost is not None:  # the first group admitted carries the run's own cost
                group.cost, run.cost = run.cost, None
            run.active[index] = group

    def _prefill_tree(self, active: dict[int, _Group], entries: list,
                      owners: list[int]) -> list[tuple[_Group, Node, int]]:
        """Add the next prefix-tree level of each admitted group to the step's batch entries (a level that
        does not fit beside the others waits for a later step); returns each node added, with the index
        of its last entry (whose logits start the answers of the prompts ending there)."""
        prefilled = []
        for group in active.values():
            if not group.levels:
                continue
            level = group.levels[0]
            size = sum(len(n.tokens) for n in level)
            if entries and len(entries) + size > self.n_batch:
                continue
            group.levels.pop(0)
            for node in level:
                seq_id = group.seq_ids[_owner(node)]
                for offset, token in enumerate(node.tokens):
                    last = offset == len(node.tokens) - 1
                    entries.append((token, node.start + offset, seq_id, last and bool(node.ending)))
                    owners.append(group.index)
                prefilled.append((group, node, len(entries) - 1))
            group.cost.prefill_tokens += size
        return prefilled

    def _decode_step(self, active: dict[int, _Group], decoding: list[_Sequence]) -> list[_Sequence]:
        """One llama_decode: a token for every decoding sequence, plus a tree level of each admitted group
        (``_prefill_tree``); then every sequence samples its next token. Returns the sequences that
        started decoding. The step's time is shared by its entries, so each group pays for its own."""
        entries: list[tuple[int, int, int, bool]] = [(s.out[-1], s.pos - 1, s.seq_id, True) for s in decoding]
        owners: list[int] = [s.group for s in decoding]  # the group of each batch entry
        prefilled = self._prefill_tree(active, entries, owners)
        if not entries:
            return []
        start = time.perf_counter()
        self._decode(entries)
        for index, seq in enumerate(decoding):
            self._advance(seq, index)
        started = [seq for group, node, last_index in prefilled for seq in self._start(group, node, last_index)]
        # the step's time (llama_decode, then sampling each sequence), shared by its entries
        share = (time.perf_counter() - start) / len(entries)
        for group_index in owners:
            active[group_index].cost.seconds += share
        return started

    def _start(self, group: _Group, node: Node, last_index: int) -> list[_Sequence]:
        """After ``node`` was evaluated: its cache forked into each child's sequence, and a sequence
        started (its first token sampled from the node's last logits) for each prompt ending there."""
        owner_seq = group.seq_ids[_owner(node)]
        for child in node.children:
            child_seq = group.seq_ids[_owner(child)]
            if child_seq != owner_seq:
                llama_cpp.llama_memory_seq_cp(self.memory, owner_seq, child_seq, -1, -1)
        started = []
        for prompt in node.ending:
            seq_id, request = group.seq_ids[prompt], group.requests[prompt]
            if seq_id != owner_seq:
                llama_cpp.llama_memory_seq_cp(self.memory, owner_seq, seq_id, -1, -1)
            seq = _Sequence(group.index, prompt, request, seq_id, self._sampler(request), self.n_ctx)
            self._advance(seq, last_index)
            started.append(seq)
        return started

    def _retire(self, run: _Run) -> None:
        """Finished sequences give their completions and free their sequence ids; a group whose last
        sequence finished gets its outcome and frees the cells it reserved."""
        for seq in [s for s in run.decoding if s.done]:
            group = run.active[seq.group]
            llama_cpp.llama_memory_seq_rm(self.memory, seq.seq_id, -1, -1)
            llama_cpp.llama_sampler_free(seq.sampler)
            run.free_seqs.append(seq.seq_id)
            group.results[seq.index] = Completion(_text(seq), len(seq.request.tokens), len(seq.out), tuple(seq.out),
                                                  tuple(seq.logprobs), tuple(seq.ends))
            group.open -= 1
            if group.open == 0:
                del run.active[group.index]
                run.free_cells += group.reserved
                run.outcome[group.index] = ([group.results[i] for i in range(len(group.requests))], group.cost)
        run.decoding = [s for s in run.decoding if not s.done]

    def _fail_active(self, run: _Run, exc: Exception) -> None:
        """llama.cpp refused a step: the admitted groups fail with its error, the cache is cleared (the
        shared root with it, so the groups still waiting evaluate their whole prompts) and the run goes on."""
        for group in run.active.values():
            run.outcome[group.index] = (exc, group.cost)
        for seq in run.decoding:
            llama_cpp.llama_sampler_free(seq.sampler)
        run.active.clear()
        run.decoding = []
        run.free_seqs, run.free_cells, run.root = self._all_sequences(), self.kv_cells, 0
        llama_cpp.llama_memory_clear(self.memory, True)

    def _decode(self, entries: list[tuple[int, int, int, bool]]) -> None:
        decode(self.ctx, self.batch, entries)

    def _greedy(self, seq: _Sequence, logits_index: int) -> int:
        """The greedy token under the sequence's grammar. The grammar is first asked about the best
        token alone (as llama.cpp's own common sampler does): when it allows it, that is the answer
        without masking the whole vocabulary, which otherwise costs milliseconds per token."""
        if seq.request.grammar is not None:
            logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(self.ctx, logits_index),
                                           shape=(self.n_vocab,))
            best = int(logits.argmax())
            self._one.id, self._one.logit, self._one.p = best, float(logits[best]), 0.0
            self._candidates.data, self._candidates.size = ctypes.pointer(self._one), 1
            self._candidates.selected, self._candidates.sorted = -1, False
            llama_cpp.llama_sampler_apply(llama_cpp.llama_sampler_chain_get(seq.sampler, 0),
                                          ctypes.byref(self._candidates))
            if self._one.logit != -math.inf:
                llama_cpp.llama_sampler_accept(seq.sampler, best)
                return best
        return llama_cpp.llama_sampler_sample(seq.sampler, self.ctx, logits_index)

    def _logprob(self, logits_index: int, token: int) -> float:
        """``token``'s log-probability under the full softmax of the logits it was sampled from. Read only:
        the samplers copy the logits into their own candidates, so decoding is unchanged."""
        logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(self.ctx, logits_index), shape=(self.n_vocab,))
        top = float(logits.max())
        return float(logits[token]) - top - math.log(float(np.exp(logits - top).sum()))

    def _advance(self, seq: _Sequence, logits_index: int) -> None:
        """Sample the sequence's next token from the batch's logits and check its stops."""
        if seq.limit <= 0:
            seq.done = True
            return
        if seq.request.temperature == 0:
            token = self._greedy(seq, logits_index)
        else:
            token = llama_cpp.llama_sampler_sample(seq.sampler, self.ctx, logits_index)
        if llama_cpp.llama_vocab_is_eog(self.vocab, token):
            seq.done = True
            return
        seq.out.append(token)
        seq.logprobs.append(self._logprob(logits_index, token))
        seq.text += self.llm.detokenize([token])
        seq.ends.append(len(seq.text))
        seq.pos += 1
        text = seq.text.decode("utf-8", errors="ignore")
        if len(seq.out) >= seq.limit or any(stop in text for stop in seq.request.stop):
            seq.done = True


def _text(seq: _Sequence) -> str:
    """The completion's text, cut at the first stop string (which is not part of the answer)."""
    text = seq.text.decode("utf-8", errors="ignore")
    cuts = [text.find(stop) for stop in seq.request.stop if stop in text]
    return text[:min(cuts)] if cuts else text

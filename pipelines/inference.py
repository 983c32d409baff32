"""The model step of the graph: Beam's RunInference with a llama.cpp ModelHandler of our own.

Beam has no handler for llama.cpp. Ours takes batches of prepared records (lists of RecordWork,
formed as the records are read) and hands each to the record processor, whose models decode all the
batch's reports together. The "model" Beam loads and shares per process is the processor; the
llama.cpp models behind it are loaded on first use, once per process (by their kind, radlite.kinds).

Records are batched as they are read, not by RunInference's own BatchElements: that emits a
partly filled batch from ``finish_bundle``, and Beam's Dask runner drops whatever a DoFn emits
there (it collects a partition's outputs before calling ``finish_bundle``), which lost records
silently. So the handler tells RunInference to skip its batching: each element is a batch already.

A report whose inference fails becomes valid=false rows with the error inside the batch (the
processor catches it per report), so the step has one output and the graph stays one linear
chain: RunInference's dead-letter output (``with_exception_handling``) would be a second, tagged
output, and a tagged output makes the Dask runner compute the step once per consumer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from apache_beam.ml.inference.base import ModelHandler

from pipelines.process import RecordProcessor, RecordWork

#: Reports per RunInference batch: enough sequences to keep llama.cpp's batched decoding busy
#: (a report has up to nine task prompts) while a batch stays a few seconds of work.
REPORTS_PER_BATCH = 8


class RecordBatchHandler(ModelHandler[RecordWork, RecordWork, RecordProcessor]):
    """RunInference handler: each element is a batch of records, whose model calls are answered
    together; RunInference emits the batch's records one by one."""

    def __init__(self, processor: RecordProcessor):
        super().__init__()
        self.processor = processor

    def should_skip_batching(self) -> bool:
        return True  # the elements are batches already (see the module's docstring)

    def load_model(self) -> RecordProcessor:
        return self.processor

    def run_inference(self, batch: Sequence[RecordWork], model: RecordProcessor,
                      inference_args: dict | None = None) -> Iterable[RecordWork]:
        model.answer(list(batch))
        return batch

    def get_metrics_namespace(self) -> str:
        return "radlite"

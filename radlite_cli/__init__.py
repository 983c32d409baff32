"""The ``radlite`` command: the one module that knows every application (pipelines, training) and the library."""

import logging


class _DropBeamImportNoise(logging.Filter):
    """Beam warns at import that optional Google Cloud clients are missing; cron users need silence.
    Installed here, before anything imports Beam."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "apitools not found" not in record.getMessage()


logging.getLogger().addFilter(_DropBeamImportNoise())

"""The heavy optional dependencies (extras ``train`` and ``eval``), imported here on first use only.

Importing the training package stays cheap (the pipeline's CLI imports it), and a missing extra
gives one clear message instead of an ImportError deep in a stack.
"""

from __future__ import annotations

import importlib
from types import ModuleType

_EXTRA = {"torch": "train", "transformers": "train", "peft": "train", "safetensors": "train",
          "matplotlib": "eval", "scipy": "eval", "statsmodels": "eval",
          "sklearn": "eval"}


def require(module: str) -> ModuleType:
    """``import module`` on demand; names the extra to install when it is missing."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        extra = _EXTRA.get(module.split(".")[0], "dev")
        raise ImportError(f"{module} is needed here: pip install 'radlite[{extra}]'") from exc

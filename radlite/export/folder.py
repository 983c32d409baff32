"""An export folder that appears whole or not at all: written in a temporary sibling, then renamed."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager

#: The file every radlite export folder holds; a folder without it is never replaced.
EXPORT_MANIFEST = "export.json"


def check_target(target: str) -> None:
    """A target may be new, or an earlier radlite export (replaced); anything else is refused."""
    if os.path.lexists(target) and not (os.path.isdir(target) and not os.path.islink(target)
                                        and os.path.exists(os.path.join(target, EXPORT_MANIFEST))):
        raise FileExistsError(f"{target} exists and is not a radlite export folder; name a new folder")


@contextmanager
def atomic_folder(target: str, manifest: Callable[[], str]) -> Iterator[str]:
    """Yields a temporary folder beside ``target``; when the block ends without error the manifest's text
    (``manifest()``, called then, so the block can fill it in) is written into it and it is renamed to
    ``target`` (an earlier export there is replaced). On an error the temporary folder is removed and
    ``target`` is untouched."""
    check_target(target)
    parent = os.path.dirname(os.path.abspath(target))
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(dir=parent, prefix=f".{os.path.basename(target)}.partial-")
    try:
        yield staging
        with open(os.path.join(staging, EXPORT_MANIFEST), "w") as fh:
            fh.write(manifest())
        old = None
        if os.path.exists(target):
            old = tempfile.mkdtemp(dir=parent, prefix=f".{os.path.basename(target)}.old-")
            os.rmdir(old)
            os.rename(target, old)
        os.rename(staging, target)
        if old:
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise

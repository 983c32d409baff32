"""The rules' fingerprint (their model_id's hash) covers every module the rules import, found by walking
their imports: a change to a text module the rules read changes it; a copy of the same sources does not."""

import os
import shutil
import subprocess
import sys

from conftest import ROOT

from radlite.hashing import imported_sources
from radlite.rules.fingerprint import rule_modules, rule_tables_sha256

_FINGERPRINT = "from radlite.rules.fingerprint import rule_tables_sha256; print(rule_tables_sha256())"


def _fingerprint_of_copy(tmp_path, edit=None) -> str:
    """The fingerprint computed in a fresh process from a copy of the library, ``edit``ed first."""
    shutil.copytree(os.path.join(ROOT, "radlite"), tmp_path / "radlite",
                    ignore=shutil.ignore_patterns("__pycache__"))
    if edit:
        edit(tmp_path / "radlite")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", _FINGERPRINT], capture_output=True, text=True, env=env,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_walk_reaches_every_text_module_the_rules_read():
    reached = imported_sources(rule_modules())
    assert {"radlite.text.sections", "radlite.text.assertion", "radlite.text.sentences", "radlite.text.sites",
            "radlite.text.spans", "radlite.text.tnm", "radlite.chexpert", "radlite.rules.answers",
            "radlite.rads_formulas.lung_rads"} <= set(reached)
    assert not any(m.startswith(("radlite.kinds", "radlite.inference", "radlite.store")) for m in reached)


def test_a_copy_of_the_same_sources_has_the_same_fingerprint(tmp_path):
    assert _fingerprint_of_copy(tmp_path) == rule_tables_sha256()


def test_changing_a_text_module_changes_the_fingerprint(tmp_path):
    def edit_sections(package):
        path = package / "text" / "sections.py"
        path.write_text(path.read_text().replace('"impression"', '"impressions"', 1))

    assert _fingerprint_of_copy(tmp_path, edit_sections) != rule_tables_sha256()

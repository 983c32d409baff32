"""`radlite doctor`: passes on the model routing (embedded-model, whose entries it smoke-decodes), and says in
one line what is wrong with a bad file."""

import yaml
from conftest import run_cli_process

from radlite.hashing import file_sha256


def test_doctor_passes_on_the_model_routing_and_shows_the_build():
    result = run_cli_process("doctor", "--routing", "embedded-model")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    build = next(line for line in lines if "llama.cpp build" in line)
    assert build.startswith("ok") and "system info:" in build and "AMX_INT8 = 1" not in build
    smoke = [line for line in lines if "smoke decode" in line]
    assert smoke and all(line.startswith("ok") for line in smoke)
    assert result.stderr.strip() == ""


def _routing_with(path, sha256=None) -> dict:
    entry = {"path": str(path), "n_ctx": 2048, "threads": 1}
    if sha256:
        entry["sha256"] = sha256
    return {"name": "broken", "models": {"m": entry}, "tasks": {"radiology_ner": "m"}}


def test_doctor_fails_in_one_line_on_a_corrupt_model_file(tmp_path):
    corrupt = tmp_path / "model.gguf"
    corrupt.write_bytes(b"GGUF" + bytes(4096))
    declared = tmp_path / "declared.yaml"
    declared.write_text(yaml.safe_dump(_routing_with(corrupt, sha256="0" * 64)))
    undeclared = tmp_path / "undeclared.yaml"
    undeclared.write_text(yaml.safe_dump(_routing_with(corrupt)))

    mismatch = run_cli_process("doctor", "--routing", declared)
    assert mismatch.returncode == 1
    assert mismatch.stderr.count("\n") == 1 and mismatch.stderr.startswith("error: 1 check(s) failed; file model.gguf")
    assert file_sha256(str(corrupt)) in mismatch.stderr

    unloadable = run_cli_process("doctor", "--routing", undeclared)
    assert unloadable.returncode == 1
    assert unloadable.stderr.count("\n") == 1 and "smoke decode m" in unloadable.stderr, unloadable.stderr

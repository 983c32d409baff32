"""The wheel, built from the tracked files, ships no weights trained on CC BY-NC-ND text (the IU X-ray
adapter lives in adapters/, installed apart) and carries the Apache-2.0 licence."""

import os
import shutil
import subprocess
import sys
import zipfile

import pytest
from conftest import ROOT

NC_ADAPTER = os.path.join(ROOT, "adapters", "iu-xray-nc", "embedded-lora-cpu-demo.gguf")


def _check(*args):
    return subprocess.run([sys.executable, "scripts/check_wheel_weights.py", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> str:
    """The wheel `python -m build` makes from the repository's tracked files (a clean clone's)."""
    source, out = tmp_path_factory.mktemp("clone"), tmp_path_factory.mktemp("dist")
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, tracked.decode().split("\0")):
        if os.path.isfile(os.path.join(ROOT, name)):
            os.makedirs(os.path.dirname(source / name), exist_ok=True)
            shutil.copy2(os.path.join(ROOT, name), source / name)
    built = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out),
                            str(source)], capture_output=True, text=True)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    (path,) = out.glob("*.whl")
    return str(path)


def test_the_wheel_holds_no_weights_trained_on_nc_nd_text(wheel):
    result = _check(wheel)
    assert result.returncode == 0, result.stdout + result.stderr
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    # the permissive fallback is shipped, the adapter trained on IU X-ray text is not
    assert [n for n in names if n.endswith(".gguf")] == ["radlite/routing/embedded-lora-synthetic.gguf"]
    assert "License-Expression: Apache-2.0" in metadata
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)


def test_a_copy_of_an_adapter_kept_apart_is_found_under_any_name(tmp_path):
    wheel = tmp_path / "pkg-0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.write(NC_ADAPTER, "pkg/renamed.gguf")
        archive.writestr("pkg/__init__.py", "")
    found = _check(wheel)
    assert found.returncode == 1 and "pkg/renamed.gguf: a copy of adapters/iu-xray-nc/embedded-lora-cpu-demo.gguf" \
        in found.stdout
    assert _check(wheel, "--apart", tmp_path / "none").returncode == 2

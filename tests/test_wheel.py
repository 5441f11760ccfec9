"""The wheel a user installs carries what digitsum reads at run time and works outside the checkout.

Builds the sdist and the wheel with `python -m build` (no isolation, no network, warnings as
errors), checks the files in them, installs it into a
fresh venv under tmp_path that borrows this venv's packages (torch, PySide6) through a .pth file,
then runs the installed commands from tmp_path, with no checkout above it: ``digitsum predict``
on the bundled samples with no --model, ``digitsum synth`` with no --mnist, and
``digitsum-gui --install-desktop-entry``. Also builds the sdist (with the tests in it) and
checks that it collects its own tests. About 40 s on two cores.
"""

from __future__ import annotations

import csv
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "digitsum_resources"
RESOURCE_FILES = [
    "models/digitsum-resnet50.safetensors",
    "models/digitsum-resnet50.int8.onnx",
    "models/MODEL_CARD.md",
    "digit-bank.npz",
    "samples/labels.csv",
    "icons/digitsum.svg",
    "digitsum.desktop",
]
SAMPLES = sorted(p.name for p in (ROOT / "resources" / "samples").glob("*.png"))
MAX_WHEEL_BYTES = 80_000_000


def run(cmd, cwd, env=None, timeout=300) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [str(c) for c in cmd], check=False, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, f"{cmd}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def dists(tmp_path_factory) -> tuple[Path, Path]:
    """The sdist, and the wheel built from it, as `python -m build` makes them, with every warning
    an error (setuptools announces in warnings what it will refuse to build next year). Built
    from a copy of the project: setuptools' build/ in the checkout can hold files deleted since
    (they would ride along), and other runs may be building there."""
    src = tmp_path_factory.mktemp("src")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("pyproject.toml", "README.md", "LICENSE", "MANIFEST.in"):
        shutil.copy2(ROOT / name, src / name)
    for name in ("core", "digitsum_gui", "resources", "tests"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    out = tmp_path_factory.mktemp("dist")
    env = dict(os.environ, PYTHONWARNINGS="error")  # reaches the build backend's own process
    run([sys.executable, "-m", "build", "--no-isolation", "--outdir", out, src], cwd=src, env=env)
    (sdist,) = out.glob("digitsum-*.tar.gz")
    (wheel,) = out.glob("digitsum-*.whl")
    return sdist, wheel


@pytest.fixture(scope="module")
def wheel(dists) -> Path:
    return dists[1]


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A venv outside the checkout with the wheel installed; its dependencies come from this venv."""
    home = tmp_path_factory.mktemp("venv") / "v"
    run([sys.executable, "-m", "venv", "--without-pip", home], cwd=home.parent)
    python = home / "bin" / "python"
    purelib = run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], cwd=home).stdout.strip()
    # plain folders, not site dirs: this venv's .pth files (the editable install's finder) stay out
    ours = dict.fromkeys([*site.getsitepackages(), sysconfig.get_path("purelib"), sysconfig.get_path("platlib")])
    Path(purelib, "digitsum-test-deps.pth").write_text("\n".join(ours) + "\n", encoding="utf-8")
    run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q", wheel], cwd=home)
    return home


def clean_env(**extra) -> dict:
    """No PYTHONPATH: nothing from the checkout may reach the installed commands."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(OMP_NUM_THREADS="1", QT_QPA_PLATFORM="offscreen", **extra)
    return env


def test_wheel_carries_the_model_bank_samples_and_icon(wheel):
    assert wheel.stat().st_size < MAX_WHEEL_BYTES, f"{wheel.stat().st_size / 1e6:.1f} MB"
    with zipfile.ZipFile(wheel) as zf:
        sizes = {info.filename: info.file_size for info in zf.infolist()}
    for name in [*RESOURCE_FILES, *(f"samples/{s}" for s in SAMPLES)]:
        assert sizes.get(f"{PACKAGE}/{name}") == (ROOT / "resources" / name).stat().st_size, name
    assert len(SAMPLES) == 24
    # every module of the checkout, sub-packages included: a folder missing from pyproject's
    # packages list would install a digitsum that fails at its first import of it
    modules = {p.relative_to(ROOT).as_posix() for name in ("core", "digitsum_gui") for p in (ROOT / name).rglob("*.py")}
    assert modules - set(sizes) == set()
    # the top-level import names the wheel claims in site-packages: "core" is generic (see
    # docs/ARCHITECTURE.md, "The import name core"), so nothing else may join it
    assert {n.split("/")[0] for n in sizes} == {"core", "digitsum_gui", PACKAGE, "digitsum-0.1.0.dist-info"}


def test_wheel_and_sdist_carry_the_licence_and_the_data_notice(dists):
    sdist, wheel = dists
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        fields = zf.read(metadata).decode()
    assert {"digitsum-0.1.0.dist-info/licenses/LICENSE", f"{PACKAGE}/DATA_NOTICE.md"} <= names
    assert "License-Expression: MIT" in fields and "License-File: LICENSE" in fields
    with tarfile.open(sdist) as tf:
        members = {m.split("/", 1)[1] for m in tf.getnames() if "/" in m}
    assert {"LICENSE", "resources/DATA_NOTICE.md", "tests/conftest.py", "tests/helpers/clitools.py"} <= members


def test_the_sdist_collects_its_own_tests(dists, tmp_path):
    """Unpacked anywhere, the sdist's tests are all there, helpers and data included."""
    with tarfile.open(dists[0]) as tf:
        tf.extractall(tmp_path, filter="data")
    (root,) = tmp_path.iterdir()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, PYTHONPATH=str(root)),  # its own core, not this checkout's
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "error" not in proc.stdout.splitlines()[-1]


def test_installed_wheel_predicts_and_composes_outside_the_checkout(venv, tmp_path):
    env, bin_dir = clean_env(), venv / "bin"
    where = run([bin_dir / "python", "-c", "import core; print(core.RESOURCES)"], cwd=tmp_path, env=env)
    resources = Path(where.stdout.strip())
    assert resources.is_relative_to(venv), resources  # the wheel's copy, not the checkout's

    run([bin_dir / "digitsum", "predict", resources / "samples", "--output", "p.csv"], cwd=tmp_path, env=env)
    with open(tmp_path / "p.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["file"] for r in rows] == SAMPLES
    assert all(r["predicted_sum"] and not r["error"] for r in rows)

    run([bin_dir / "digitsum", "synth", "composed", "--count", "3"], cwd=tmp_path, env=env)
    assert len(list((tmp_path / "composed").glob("*.png"))) == 3
    assert (tmp_path / "composed" / "labels.csv").read_text(encoding="utf-8").count("\n") == 4


def test_installed_gui_writes_its_desktop_entry(venv, tmp_path):
    env = clean_env(XDG_DATA_HOME=str(tmp_path / "data"))
    run([venv / "bin" / "digitsum-gui", "--install-desktop-entry"], cwd=tmp_path, env=env)
    entry = (tmp_path / "data" / "applications" / "digitsum.desktop").read_text(encoding="utf-8")
    assert f"Exec={venv / 'bin' / 'digitsum-gui'} %f" in entry.splitlines()
    assert (tmp_path / "data" / "icons" / "hicolor" / "scalable" / "apps" / "digitsum.svg").is_file()

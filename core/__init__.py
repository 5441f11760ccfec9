"""digitsum core: read the sum of four handwritten digits in 40x168 images, without Qt."""

import atexit as _atexit
from contextlib import ExitStack as _ExitStack
from importlib.resources import as_file as _as_file
from importlib.resources import files as _files

__version__ = "0.1.0"


def _resource_files():
    # Installed (a wheel or pip install -e): the package digitsum_resources, which is the
    # repository's resources/ folder (pyproject.toml maps it). A checkout run without installing
    # it (PYTHONPATH=checkout, as benchmarks/gpu_*.sh do on machines with their own torch) has
    # the same folder on the path as the top-level package `resources`.
    try:
        return _files("digitsum_resources")
    except ModuleNotFoundError:
        pass
    try:
        found = _files("resources")
    except ModuleNotFoundError:
        found = None
    if found is None or not found.joinpath("digitsum.desktop").is_file():  # someone else's `resources`
        raise ModuleNotFoundError("digitsum's resources are not installed: pip install digitsum (or -e .)")
    return found


# The default model, its int8 ranges, the digit bank, the samples and the icon, found alike in
# a wheel and an editable install. Callers need a real folder (safetensors, numpy and Qt open
# files by name): as_file hands back the folder itself wherever the package lies on disk, as
# pip installs it, and only a zipped install would get a copy for the life of the process.
_files_in_use = _ExitStack()
_atexit.register(_files_in_use.close)
RESOURCES = _files_in_use.enter_context(_as_file(_resource_files()))

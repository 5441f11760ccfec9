"""core.runtime: which precision ``--precision auto`` means on this machine."""

from __future__ import annotations

import torch

from core.cpu import cpu_has_native_bf16
from core.runtime import auto_precision


def test_auto_precision_is_bf16_only_where_it_is_native():
    assert auto_precision(torch.device("cpu")) == ("bf16" if cpu_has_native_bf16() else "fp32")
    if torch.cuda.is_available():
        assert auto_precision(torch.device("cuda")) == "bf16"

"""What this machine's CPU computes natively, read without torch (the Retrain form asks at start-up)."""

from __future__ import annotations

# CPU flags of native bf16 arithmetic (Linux /proc/cpuinfo names). Without them torch emulates
# bf16 and a ResNet-50 step runs at half the fp32 speed (measured: 14 against 30 images/s on an
# avx512 Xeon without avx512_bf16); with them, about twice the fp32 speed (#22: 77.7 against
# 36.8 images/s for a bare step, 66.7 against 40.7 for `digitsum train`'s own).
NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")
BF16_CPU_SPEEDUP = 1.6  # `digitsum train` on such a CPU, bf16 against fp32 (#22: 66.7 / 40.7 images/s)


def cpu_has_native_bf16(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether this CPU computes in bf16 natively (False where that cannot be read, e.g. off Linux)."""
    try:
        with open(cpuinfo, encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return any(flag in line.split() for flag in NATIVE_BF16_FLAGS)
    except OSError:
        pass
    return False

"""The peak FLOP/s a training run is measured against (the denominator of MFU).

- On a GPU: the dense peak of the device's dtype from the hardware catalog
  (:mod:`scalinglab.core.hardware`), found from ``torch.cuda.get_device_name()``. A device the
  catalog does not know has no peak, and MFU is then reported as unknown (``None``).
- On a CPU there is no datasheet figure worth trusting (turbo clocks, shared cores, AVX-512
  licences), so the peak is *measured*: the best FLOP/s of a large square matmul in the run's own
  dtype and thread count, once per process. MFU on a CPU therefore says how close the training
  step comes to the machine's own matmul speed.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from functools import cache

#: Side of the square matrices timed for the CPU peak: 2048³ multiply-adds (17 GFLOP) reach the
#: BLAS plateau of a large product (docs/measure.md). Smaller products that stay in
#: cache can run faster (on the 2-core Xeon of benchmarks/results/train.md, 512² up to ~2x on a
#: loaded machine), so this is the large-matmul reference, not a hardware ceiling; the benchmark
#: prints both.
CPU_PEAK_SIZES = (2048,)


@dataclass(frozen=True)
class Peak:
    """A peak FLOP/s figure and where it came from."""

    flops_per_s: float | None
    source: str


# (pattern on the CUDA device name, catalog name); first match wins, so specific names come first.
_GPU_NAMES = (
    (r"H100.*PCIE", "H100-PCIe"),
    (r"H100.*NVL", None),  # an NVL pair is neither the SXM nor the PCIe part
    (r"H100|H800", "H100-SXM"),
    (r"GH200|H200", "H200"),
    (r"GB200", "GB200"),
    (r"B200", "B200"),
    (r"A100.*PCIE.*80|A100 80GB PCIE", "A100-80GB-PCIe"),
    (r"A100.*40GB|A100-SXM4-40GB|A100-PCIE-40GB", "A100-40GB"),
    (r"A100", "A100-80GB"),
    (r"V100.*PCIE", "V100-PCIe"),
    (r"V100", "V100"),
    (r"MI300X", "MI300X"),
    (r"MI250X", "MI250X"),
)


def catalog_name(device_name: str) -> str | None:
    """Hardware-catalog name for a CUDA device name such as ``"NVIDIA H100 80GB HBM3"``."""
    upper = device_name.upper()
    for pattern, name in _GPU_NAMES:
        if re.search(pattern, upper):
            return name
    return None


def gpu_peak(device_name: str, dtype: str) -> Peak:
    """Dense peak of ``dtype`` (``"bf16"``, ``"tf32"``, ``"fp32"``) for a named CUDA device."""
    from scalinglab.core.hardware import get_accelerator
    from scalinglab.errors import ScalingLabError

    name = catalog_name(device_name)
    if name is None:
        return Peak(None, f"{device_name!r} is not in the hardware catalog: peak unknown")
    try:
        acc = get_accelerator(name)
        return Peak(acc.peak(dtype), f"hardware catalog {acc.name} dense {dtype} ({acc.sources.get('peak', '')})")
    except ScalingLabError as exc:
        return Peak(None, f"{device_name}: {exc}")


@cache
def cpu_matmul_peak(dtype: str = "fp32", threads: int | None = None, sizes: tuple = CPU_PEAK_SIZES,
                    seconds: float = 0.6) -> float:
    """Best FLOP/s of square matmuls (``sizes``) on this CPU in ``dtype``, measured once per process.

    Parameters
    ----------
    dtype : {"fp32", "bf16"}
    threads : int, optional
        Thread count in effect (part of the cache key; the caller sets it).
    sizes : tuple of int
        Matrix sides to try.
    seconds : float
        Roughly how long to keep timing in all; the best single multiply counts.
    """
    import torch

    torch_dtype = torch.bfloat16 if dtype == "bf16" else torch.float32
    gen = torch.Generator().manual_seed(0)
    best = 0.0
    for size in sizes:
        a = torch.randn(size, size, generator=gen).to(torch_dtype)
        b = torch.randn(size, size, generator=gen).to(torch_dtype)
        torch.mm(a, b)  # warm-up: thread pool, packing buffers
        start, reps = time.perf_counter(), 0
        while reps < 3 or (time.perf_counter() - start < seconds / len(sizes) and reps < 200):
            t0 = time.perf_counter()
            torch.mm(a, b)
            best = max(best, 2.0 * size**3 / (time.perf_counter() - t0))
            reps += 1
    return best


def device_peak(device_type: str, dtype: str, threads: int | None = None) -> Peak:
    """The peak a run on ``device_type`` (``"cpu"`` or ``"cuda"``) in ``dtype`` is compared with."""
    if device_type == "cuda":
        import torch

        name = torch.cuda.get_device_name()
        # fp32 training on CUDA runs its matmuls in TF32 (the trainer enables it), so that is the peak.
        return gpu_peak(name, "tf32" if dtype == "fp32" else dtype)
    flops = cpu_matmul_peak(dtype, threads)
    shown = ", ".join(f"{n}x{n}" for n in CPU_PEAK_SIZES)
    return Peak(flops, f"measured: best {shown} {dtype} matmul on this CPU, {threads} threads")

"""Accelerator catalog: dense peak FLOP/s per dtype, memory, bandwidth and a dated default price.

Every figure carries its source (docs/hardware.md; tags [P] primary, [S] secondary, [R]
recalled). Peaks are **dense**: vendor sheets print 2:4-sparsity figures with a footnote ("H100 =
1,979 TFLOPS BF16" is the sparse number; dense is 989.4), and planning with them halves every
estimate. A dtype a device has no hardware for (V100 bf16, A100 fp8, TPU fp32) is an error, not a
silent fallback.

Prices are approximate defaults, dated and labelled (docs/hardware.md): markets move, so every cost
scalinglab prints says which price it used; pass your own with ``price_per_gpu_hour`` / ``--price``.

Your own devices (or your own prices for ours) go in a TOML file, loaded with
:func:`load_catalog` or by pointing the environment variable ``SCALINGLAB_HARDWARE`` at it::

    [accelerator.L40S]                 # a new device ...
    aliases = ["l40s-48gb"]
    peak_tflops = { bf16 = 362, fp16 = 362, fp8 = 733 }   # dense TFLOP/s
    memory_gb = 48                     # 1 GB = 1e9 bytes
    bandwidth_gbs = 864                # GB/s
    price_per_hour = 1.10              # USD per device-hour
    price_date = "2026-01"
    price_source = "our invoice"

    [accelerator.H100-SXM]             # ... or an existing one: given fields replace ours
    price_per_hour = 1.85
    price_source = "our reserved contract"
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from scalinglab.core.numbers import parse_number
from scalinglab.errors import ScalingLabError

#: Dtype keys of :attr:`Accelerator.peak_flops`.
DTYPES = ("fp32", "tf32", "bf16", "fp16", "fp8")
_DTYPE_ALIASES = {
    "float32": "fp32", "f32": "fp32", "float": "fp32",
    "bfloat16": "bf16",
    "float16": "fp16", "half": "fp16", "f16": "fp16",
    "float8": "fp8", "e4m3": "fp8", "e5m2": "fp8",
}
#: Environment variable naming a TOML file of extra accelerators (merged over the built-ins).
ENV_VAR = "SCALINGLAB_HARDWARE"

TERA = 1e12
GIGA = 1e9


def normalise_dtype(dtype: str) -> str:
    """``"bfloat16"`` -> ``"bf16"`` etc.; unknown dtypes raise :class:`ScalingLabError`."""
    key = str(dtype).strip().lower()
    key = _DTYPE_ALIASES.get(key, key)
    if key not in DTYPES:
        raise ScalingLabError(f"unknown dtype {dtype!r}; choose one of: {', '.join(DTYPES)}")
    return key


def _positive(value, name: str) -> float:
    return parse_number(value, name=name)


class FrozenMap(Mapping):
    """A read-only mapping: what :class:`Accelerator` holds its per-dtype figures and sources in.

    A frozen dataclass does not freeze the dicts inside it; the catalog's accelerators are shared
    by the whole process, so ``acc.peak_flops["bf16"] = 1`` must fail rather than change every
    later plan. Unlike :class:`types.MappingProxyType` this pickles (an Accelerator goes into Ray
    tasks) and deep-copies; it compares equal to a dict with the same items.
    """

    __slots__ = ("_data",)

    def __init__(self, data=()):
        self._data = dict(data)

    def __getitem__(self, key):
        return self._data[key]

    def __iter__(self):
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return repr(self._data)

    def __reduce__(self):
        return (type(self), (self._data,))

    def copy(self) -> dict:
        """A plain, mutable ``dict`` with the same items (as ``dict.copy`` gives)."""
        return dict(self._data)


def _key(name: str) -> str:
    """Lookup key: case-insensitive, ignoring '-', '_' and spaces (``h100_sxm`` = ``H100-SXM``)."""
    return "".join(ch for ch in str(name).lower() if ch not in "-_ ")


@dataclass(frozen=True)
class Accelerator:
    """One accelerator (a GPU, a TPU chip, an AMD package).

    Parameters
    ----------
    name : str
        Canonical name, e.g. ``"H100-SXM"``.
    peak_flops : mapping of str to float
        Dense peak FLOP/s per dtype (keys among :data:`DTYPES`); absent = no hardware support.
        Stored as a read-only :class:`FrozenMap`: change figures with :meth:`with_overrides`.
    memory_bytes : float
        Device memory in bytes.
    bandwidth_bytes_per_s : float
        Memory bandwidth in bytes/s.
    sources : mapping of str to str
        Where each figure comes from (``"peak"``, ``"memory"``, ``"bandwidth"``), with tags;
        read-only like ``peak_flops``.
    aliases : tuple of str
        Other names it answers to (case-insensitive).
    price_per_hour : float, optional
        Approximate default price in USD per device-hour; ``None`` when no dated source exists.
    price_date, price_source, price_kind : str
        When and where that price was seen, and whether it is on-demand, reserved or marketplace.
    notes : str
        Caveats (per-package vs per-die, uncertain figures).
    """

    name: str
    peak_flops: Mapping[str, float] = field(hash=False)
    memory_bytes: float
    bandwidth_bytes_per_s: float
    sources: Mapping[str, str] = field(default_factory=dict, hash=False)
    aliases: tuple[str, ...] = ()
    price_per_hour: float | None = None
    price_date: str = ""
    price_source: str = ""
    price_kind: str = ""
    notes: str = ""

    def __post_init__(self):
        peaks = {normalise_dtype(k): float(v) for k, v in dict(self.peak_flops).items()}
        if not peaks:
            raise ScalingLabError(f"accelerator {self.name!r}: needs at least one peak FLOP/s figure")
        for dtype, value in peaks.items():
            _positive(value, f"accelerator {self.name!r} peak {dtype}")
        _positive(self.memory_bytes, f"accelerator {self.name!r} memory")
        _positive(self.bandwidth_bytes_per_s, f"accelerator {self.name!r} bandwidth")
        if self.price_per_hour is not None:
            _positive(self.price_per_hour, f"accelerator {self.name!r} price_per_hour")
        # Own read-only copies: a caller's dict is never shared, and nobody can edit a catalog
        # entry in place (the catalog is process-wide). FrozenMap, not MappingProxyType: an
        # Accelerator must pickle, e.g. into a Ray task.
        object.__setattr__(self, "peak_flops", FrozenMap(peaks))
        object.__setattr__(self, "sources", FrozenMap(self.sources))
        object.__setattr__(self, "aliases", tuple(self.aliases))

    def peak(self, dtype: str = "bf16") -> float:
        """Dense peak FLOP/s for ``dtype``; a dtype without hardware support is an error."""
        key = normalise_dtype(dtype)
        if key not in self.peak_flops:
            have = ", ".join(self.peak_flops)
            # Worded for the Python API, where this is raised (train_plan(dtype=...), ...); the
            # CLI's --dtype/--peak-tflops are named too, as the same error reaches `scalinglab plan`.
            raise ScalingLabError(
                f"{self.name} has no {key} peak (it supports: {have}); choose another dtype, or add "
                f"your own figure with .with_overrides(peak_tflops=..., dtype={key!r}) "
                f"(command line: --dtype or --peak-tflops)"
            )
        return self.peak_flops[key]

    @property
    def half_precision(self) -> str:
        """The 16-bit matmul format to plan with: ``bf16``, or ``fp16`` where bf16 is absent (V100)."""
        return next(d for d in ("bf16", "fp16", "fp32", "tf32", "fp8") if d in self.peak_flops)

    @property
    def memory_gb(self) -> float:
        return self.memory_bytes / GIGA

    @property
    def bandwidth_gbs(self) -> float:
        return self.bandwidth_bytes_per_s / GIGA

    def with_overrides(
        self,
        *,
        peak_tflops: float | None = None,
        dtype: str = "bf16",
        memory_gb: float | None = None,
        bandwidth_gbs: float | None = None,
        price_per_hour: float | None = None,
    ) -> Accelerator:
        """A copy with user figures (the CLI's ``--peak-tflops/--memory-gb/--bandwidth-gbs``)."""
        peaks, sources = dict(self.peak_flops), dict(self.sources)
        if peak_tflops is not None:
            peaks[normalise_dtype(dtype)] = _positive(peak_tflops, "peak_tflops") * TERA
            sources["peak"] = f"user override ({normalise_dtype(dtype)} {peak_tflops:g} TFLOP/s)"
        changes = {"peak_flops": peaks, "sources": sources}
        if memory_gb is not None:
            changes["memory_bytes"] = _positive(memory_gb, "memory_gb") * GIGA
            sources["memory"] = "user override"
        if bandwidth_gbs is not None:
            changes["bandwidth_bytes_per_s"] = _positive(bandwidth_gbs, "bandwidth_gbs") * GIGA
            sources["bandwidth"] = "user override"
        if price_per_hour is not None:
            changes.update(
                price_per_hour=_positive(price_per_hour, "price_per_hour"),
                price_date="",
                price_source="user-supplied",
                price_kind="",
            )
        return replace(self, **changes)

    def as_dict(self) -> dict:
        """JSON-ready description (TFLOP/s, GB, GB/s)."""
        return {
            "name": self.name,
            "aliases": list(self.aliases),
            "peak_tflops": {k: v / TERA for k, v in self.peak_flops.items()},
            "memory_gb": self.memory_gb,
            "bandwidth_gbs": self.bandwidth_gbs,
            "price_per_hour": self.price_per_hour,
            "price_date": self.price_date,
            "price_source": self.price_source,
            "price_kind": self.price_kind,
            "sources": dict(self.sources),
            "notes": self.notes,
        }


def _tflops(**peaks: float) -> dict[str, float]:
    return {k: v * TERA for k, v in peaks.items()}


# ----- the built-in catalog (docs/hardware.md: dense peaks, prices) --------------------------
_NV_DS = "NVIDIA datasheet figures as quoted by third parties [S]"
_HPCTECH = "NVIDIA H100 spec table via HPCTech/glennklockwood, dense = half the sparse figure [S]"

_BUILTIN = (
    Accelerator(
        name="V100",
        aliases=("V100-SXM2", "V100-SXM2-32GB", "V100-32GB"),
        peak_flops=_tflops(fp32=15.7, fp16=125.0),
        memory_bytes=32 * GIGA,
        bandwidth_bytes_per_s=900 * GIGA,
        sources={"peak": _NV_DS + "; fp16 = tensor-core mixed precision; no bf16, no tf32",
                 "memory": "16/32 GB HBM2 parts exist; 32 GB listed [S]", "bandwidth": _NV_DS},
        notes="SXM2 part. No bf16/tf32/fp8 hardware: plan V100 runs with --dtype fp16.",
    ),
    Accelerator(
        name="V100-PCIe",
        peak_flops=_tflops(fp32=14.0, fp16=112.0),
        memory_bytes=32 * GIGA,
        bandwidth_bytes_per_s=900 * GIGA,
        sources={"peak": "io-tech.fi, techrival [S]", "memory": "[S]", "bandwidth": "[S]"},
        notes="No bf16/tf32/fp8 hardware.",
    ),
    Accelerator(
        name="A100-40GB",
        aliases=("A100-SXM-40GB", "A100-40GB-SXM"),
        peak_flops=_tflops(fp32=19.5, tf32=156.0, bf16=312.0, fp16=312.0),
        memory_bytes=40 * GIGA,
        bandwidth_bytes_per_s=1555 * GIGA,
        sources={"peak": "A100 datasheet via glennklockwood.com and PC2 wiki [S]; 312 TF is the "
                 "peak Megatron, nanoGPT and PaLM Table 3 use", "memory": "[S]", "bandwidth": "[S]"},
        price_per_hour=4.10,
        price_date="2026",
        price_source="AWS p4d.24xlarge on-demand $32.77/h ÷ 8, usage.ai blog [S]",
        price_kind="on-demand",
        notes="SXM. fp32 = non-tensor 19.5 TF; tf32 tensor cores only when PyTorch enables them.",
    ),
    Accelerator(
        name="A100-80GB",
        aliases=("A100", "A100-SXM-80GB", "A100-80GB-SXM", "A100-SXM"),
        peak_flops=_tflops(fp32=19.5, tf32=156.0, bf16=312.0, fp16=312.0),
        memory_bytes=80 * GIGA,
        bandwidth_bytes_per_s=2039 * GIGA,
        sources={"peak": "A100 datasheet via glennklockwood.com and PC2 wiki [S]",
                 "memory": "80 GB HBM2e [S]", "bandwidth": "2,039 GB/s [S]"},
        price_per_hour=1.844,
        price_date="late 2024",
        price_source="AWS EC2 Capacity Blocks 'A100', mirror of the pricing page [S]",
        price_kind="reserved (capacity block)",
        notes="SXM. 'A100' means this part.",
    ),
    Accelerator(
        name="A100-80GB-PCIe",
        aliases=("A100-PCIe",),
        peak_flops=_tflops(fp32=19.5, tf32=156.0, bf16=312.0, fp16=312.0),
        memory_bytes=80 * GIGA,
        bandwidth_bytes_per_s=1935 * GIGA,
        sources={"peak": "thundercompute.com table [S]", "memory": "[S]", "bandwidth": "[S]"},
    ),
    Accelerator(
        name="H100-SXM",
        aliases=("H100", "H100-SXM5", "H100-80GB", "H100-SXM-80GB", "H800"),
        peak_flops=_tflops(fp32=66.9, tf32=494.7, bf16=989.4, fp16=989.4, fp8=1978.9),
        memory_bytes=80 * GIGA,
        bandwidth_bytes_per_s=3350 * GIGA,
        sources={"peak": _HPCTECH + "; Llama 3 Table 4 implies a 989 TF bf16 peak [P]",
                 "memory": "80 GB HBM3, Llama 3 paper [P]", "bandwidth": "3.35 TB/s [S]"},
        price_per_hour=2.49,
        price_date="Q1 2026",
        price_source="tier-2 clouds (CoreWeave, Lambda, Crusoe) on-demand $2.49-2.85, "
        "digiterialabs blog [S]",
        price_kind="on-demand",
        notes="'H100' means this part. H800 (DeepSeek-V3) has the same compute peaks.",
    ),
    Accelerator(
        name="H100-PCIe",
        peak_flops=_tflops(fp32=51.0, tf32=378.0, bf16=756.0, fp16=756.0, fp8=1513.0),
        memory_bytes=80 * GIGA,
        bandwidth_bytes_per_s=2000 * GIGA,
        sources={"peak": _HPCTECH, "memory": "80 GB HBM2e [S]", "bandwidth": "2.0 TB/s [S]"},
        price_per_hour=1.99,
        price_date="2026",
        price_source="RunPod/Hyperstack/Civo listings $1.99-2.39, gpu.blog [S]",
        price_kind="marketplace",
    ),
    Accelerator(
        name="H200",
        aliases=("H200-SXM",),
        peak_flops=_tflops(fp32=67.0, tf32=494.7, bf16=989.4, fp16=989.4, fp8=1978.9),
        memory_bytes=141 * GIGA,
        bandwidth_bytes_per_s=4800 * GIGA,
        sources={"peak": "same GH100 compute as H100 SXM [S]", "memory": "141 GB HBM3e [S]",
                 "bandwidth": "4.8 TB/s [S]"},
        price_per_hour=5.408,
        price_date="late 2024",
        price_source="AWS EC2 Capacity Blocks, mirror of the pricing page [S]",
        price_kind="reserved (capacity block)",
    ),
    Accelerator(
        name="B200",
        aliases=("B200-HGX",),
        peak_flops=_tflops(fp32=80.0, tf32=1100.0, bf16=2250.0, fp16=2250.0, fp8=4500.0),
        memory_bytes=180 * GIGA,
        bandwidth_bytes_per_s=8000 * GIGA,
        sources={"peak": "glennklockwood citing the NVIDIA Blackwell whitepaper, HGX 1000 W [S]",
                 "memory": "180 GB (sources say 180/186/192) [S]", "bandwidth": "8 TB/s (or 7.7) [S]"},
        notes="Memory and bandwidth vary by source [S].",
    ),
    Accelerator(
        name="GB200",
        aliases=("GB200-GPU",),
        peak_flops=_tflops(fp32=90.0, tf32=1250.0, bf16=2500.0, fp16=2500.0, fp8=5000.0),
        memory_bytes=186 * GIGA,
        bandwidth_bytes_per_s=8000 * GIGA,
        sources={"peak": "glennklockwood, per GPU at 1200 W [S]", "memory": "186-192 GB by source [S]",
                 "bandwidth": "about 8 TB/s [S]"},
        notes="Per GPU of a GB200 superchip; memory varies by source.",
    ),
    Accelerator(
        name="MI250X",
        peak_flops=_tflops(fp32=95.7, bf16=383.0, fp16=383.0),
        memory_bytes=128 * GIGA,
        bandwidth_bytes_per_s=3200 * GIGA,
        sources={"peak": "llm-analysis gpu_configs/mi250x-128gb.json (383 TF) [P, code]; fp32 = "
                 "matrix 95.7 (vector 47.9) [S]", "memory": "[S]",
                 "bandwidth": "llm-analysis 3200 GB/s [P, code]"},
        notes="One package = 2 GCDs; software sees each GCD as a GPU (see MI250X-GCD).",
    ),
    Accelerator(
        name="MI250X-GCD",
        peak_flops=_tflops(fp32=47.85, bf16=191.5, fp16=191.5),
        memory_bytes=64 * GIGA,
        bandwidth_bytes_per_s=1600 * GIGA,
        sources={"peak": "half an MI250X package [R]", "memory": "[R]", "bandwidth": "[R]"},
        notes="One of the two dies of an MI250X, as ROCm reports it; per-GCD split is [R].",
    ),
    Accelerator(
        name="MI300X",
        peak_flops=_tflops(fp32=163.4, tf32=653.7, bf16=1307.4, fp16=1307.4, fp8=2614.9),
        memory_bytes=192 * GIGA,
        bandwidth_bytes_per_s=5300 * GIGA,
        sources={"peak": "third-party tables of the AMD datasheet [S]; fp32 = matrix (vector 81.7)",
                 "memory": "192 GB HBM3 [S]", "bandwidth": "5.3 TB/s [S]"},
    ),
    Accelerator(
        name="TPUv3",
        aliases=("TPU-v3",),
        peak_flops=_tflops(bf16=123.0),
        memory_bytes=32 * 2**30,
        bandwidth_bytes_per_s=900 * GIGA,
        sources={"peak": "123 TF per chip [R]",
                 "memory": "32 GiB per chip (16 per core) [R]", "bandwidth": "900 GB/s [R]"},
        notes="Per chip (2 cores). Figures recalled, not re-read.",
    ),
    Accelerator(
        name="TPUv4",
        aliases=("TPU-v4",),
        peak_flops=_tflops(bf16=275.0),
        memory_bytes=32 * 2**30,
        bandwidth_bytes_per_s=1200 * GIGA,
        sources={"peak": "cloud.google.com/tpu/docs/v4 [P]; PaLM uses 275 TF",
                 "memory": "32 GiB HBM2 [P]", "bandwidth": "1,200 GB/s [P]"},
        notes="Per chip. TPU prices unverified: pass --price.",
    ),
    Accelerator(
        name="TPUv5e",
        aliases=("TPU-v5e", "TPUv5-lite"),
        peak_flops=_tflops(bf16=197.0),
        memory_bytes=16 * GIGA,
        bandwidth_bytes_per_s=819 * GIGA,
        sources={"peak": "cloud.google.com/tpu/docs/v5e [P] (int8 393 TOPS)",
                 "memory": "16 GB HBM2 [P]", "bandwidth": "819 GB/s [P]"},
        notes="Per chip.",
    ),
    Accelerator(
        name="TPUv5p",
        aliases=("TPU-v5p",),
        peak_flops=_tflops(bf16=459.0, fp8=459.0),
        memory_bytes=95 * GIGA,
        bandwidth_bytes_per_s=2765 * GIGA,
        sources={"peak": "cloud.google.com/tpu/docs/v5p [P]; fp8 listed at 459, no speed-up",
                 "memory": "95 GB HBM2e [P]", "bandwidth": "2,765 GB/s [P]"},
        notes="Per chip.",
    ),
    Accelerator(
        name="TPUv6e",
        aliases=("TPU-v6e", "Trillium"),
        peak_flops=_tflops(bf16=918.0),
        memory_bytes=32 * GIGA,
        bandwidth_bytes_per_s=1638 * GIGA,
        sources={"peak": "docs.cloud.google.com/tpu/docs/v6e [P] (int8 1,836 TOPS)",
                 "memory": "32 GB [P]", "bandwidth": "1,638 GB/s [P]"},
        notes="Per chip.",
    ),
)


class Catalog(Mapping):
    """Accelerators by canonical name, looked up case-insensitively by name or alias."""

    def __init__(self, accelerators):
        self._by_name: dict[str, Accelerator] = {}
        self._index: dict[str, str] = {}
        for acc in accelerators:
            self._add(acc)

    def _add(self, acc: Accelerator) -> None:
        previous = self._index.get(_key(acc.name))
        if previous is not None:  # the same device again: the newer entry replaces the older one
            self._remove(previous)
        self._by_name[acc.name] = acc
        for label in (acc.name, *acc.aliases):
            owner = self._index.get(_key(label))
            if owner is not None and owner != acc.name:
                raise ScalingLabError(f"accelerator name {label!r} is used by both {owner} and {acc.name}")
            self._index[_key(label)] = acc.name

    def _remove(self, name: str) -> None:
        del self._by_name[name]
        self._index = {k: v for k, v in self._index.items() if v != name}

    def __getitem__(self, name: str) -> Accelerator:
        canonical = self._index.get(_key(name))
        if canonical is None:
            raise KeyError(name)
        return self._by_name[canonical]

    def __iter__(self):
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)

    def __contains__(self, name) -> bool:
        return _key(name) in self._index

    def get_accelerator(self, name: str) -> Accelerator:
        """The accelerator called ``name`` (or an alias); unknown names list the known ones."""
        try:
            return self[name]
        except KeyError:
            raise ScalingLabError(
                f"unknown accelerator {name!r}; known: {', '.join(self._by_name)} "
                f"(aliases: A100 = A100-80GB, H100 = H100-SXM; add your own with a TOML catalog)"
            ) from None

    def merged(self, entries: Mapping[str, Mapping]) -> Catalog:
        """A new catalog with TOML-style ``entries`` (name -> fields) added or overriding ours."""
        out = Catalog(self._by_name.values())
        for name, fields in entries.items():
            if not isinstance(fields, Mapping):
                raise ScalingLabError(f"hardware catalog: [accelerator.{name}] must be a table")
            base = out[name] if name in out else None
            out._add(_from_toml(name, fields, base))
        return out


_TOML_FIELDS = {
    "aliases", "peak_tflops", "memory_gb", "bandwidth_gbs", "price_per_hour", "price_date",
    "price_source", "price_kind", "notes", "sources",
}


def _from_toml(name: str, fields: Mapping, base: Accelerator | None) -> Accelerator:
    unknown = sorted(set(fields) - _TOML_FIELDS)
    if unknown:
        raise ScalingLabError(
            f"hardware catalog: [accelerator.{name}] has unknown field(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(_TOML_FIELDS))}"
        )
    if base is None:
        missing = [k for k in ("peak_tflops", "memory_gb", "bandwidth_gbs") if k not in fields]
        if missing:
            raise ScalingLabError(f"hardware catalog: new accelerator {name!r} needs {', '.join(missing)}")
    where = f"accelerator {name!r}"
    peaks = dict(base.peak_flops) if base else {}
    if "peak_tflops" in fields:
        table = fields["peak_tflops"]
        if not isinstance(table, Mapping) or not table:
            raise ScalingLabError(f"hardware catalog: {where} peak_tflops must be a table like {{ bf16 = 989 }}")
        peaks = {normalise_dtype(k): _positive(v, f"{where} peak_tflops.{k}") * TERA for k, v in table.items()}
    sources = dict(base.sources) if base else {}
    for figure, key in (("peak", "peak_tflops"), ("memory", "memory_gb"), ("bandwidth", "bandwidth_gbs")):
        if key in fields:
            sources[figure] = "user catalog"
    sources.update(dict(fields.get("sources", {})))
    if "price_per_hour" in fields:  # a new price comes with its own date/source, never the old ones
        price = _positive(fields["price_per_hour"], f"{where} price_per_hour")
        price_info = {"price_date": "", "price_source": "user catalog", "price_kind": ""}
    else:
        price = base.price_per_hour if base else None
        price_info = {k: getattr(base, k) if base else "" for k in ("price_date", "price_source", "price_kind")}
    price_info.update({k: str(fields[k]) for k in price_info if k in fields})
    return Accelerator(
        name=base.name if base else name,
        aliases=tuple(fields.get("aliases", base.aliases if base else ())),
        peak_flops=peaks,
        memory_bytes=_positive(fields["memory_gb"], f"{where} memory_gb") * GIGA
        if "memory_gb" in fields
        else base.memory_bytes,
        bandwidth_bytes_per_s=_positive(fields["bandwidth_gbs"], f"{where} bandwidth_gbs") * GIGA
        if "bandwidth_gbs" in fields
        else base.bandwidth_bytes_per_s,
        sources=sources,
        price_per_hour=price,
        notes=str(fields.get("notes", base.notes if base else "")),
        **price_info,
    )


BUILTIN = Catalog(_BUILTIN)


def _read_toml(path) -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            raise ScalingLabError(
                "reading a hardware catalog needs Python 3.11+ (tomllib) or the 'tomli' package"
            ) from None
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ScalingLabError(f"hardware catalog {str(path)!r} not found") from None
    except OSError as exc:
        raise ScalingLabError(f"hardware catalog {str(path)!r}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScalingLabError(f"hardware catalog {str(path)!r} is not valid TOML: {exc}") from None
    entries = data.get("accelerator")
    if not isinstance(entries, dict) or not entries:
        raise ScalingLabError(
            f"hardware catalog {str(path)!r} has no [accelerator.NAME] tables"
        )
    return entries


def load_catalog(path, base: Catalog | None = None) -> Catalog:
    """The built-in catalog (or ``base``) with the accelerators of the TOML file ``path`` merged in.

    An entry whose name or alias matches an existing accelerator overrides only the fields it gives
    (e.g. your own ``price_per_hour``); a new name needs ``peak_tflops``, ``memory_gb`` and
    ``bandwidth_gbs``. See the module docstring for the format.
    """
    return (BUILTIN if base is None else base).merged(_read_toml(path))


def default_catalog(path=None) -> Catalog:
    """Built-ins, then ``$SCALINGLAB_HARDWARE`` if set, then ``path`` if given."""
    catalog = BUILTIN
    env = os.environ.get(ENV_VAR)
    if env:
        catalog = load_catalog(env, catalog)
    if path:
        catalog = load_catalog(path, catalog)
    return catalog


def get_accelerator(name: str | Accelerator, catalog: Catalog | None = None) -> Accelerator:
    """Look an accelerator up by name or alias, case-insensitively (``"a100"`` = A100-80GB).

    ``catalog`` defaults to :func:`default_catalog` (built-ins plus ``$SCALINGLAB_HARDWARE``). An
    :class:`Accelerator` passes through unchanged.
    """
    if isinstance(name, Accelerator):
        return name
    return (default_catalog() if catalog is None else catalog).get_accelerator(name)

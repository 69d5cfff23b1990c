"""Accelerator catalog: dense peak FLOP/s per dtype, memory, bandwidth and a dated default price.

The built-in devices are data, not code: ``hardware_catalog.toml`` beside this module, every figure
with its source (tags [P] primary, [S] secondary, [R] recalled; docs/hardware.md), read once by the
same reader as users' catalogs. Peaks are **dense**: vendor sheets print 2:4-sparsity figures ("H100
= 1,979 TFLOPS BF16" is sparse; dense is 989.4), and planning with them halves every estimate. A
dtype a device has no hardware for (V100 bf16, A100 fp8, TPU fp32) is an error, not a fallback.
Prices are approximate defaults, dated and labelled: markets move, so every cost scalinglab prints
says which price it used; pass your own with ``price_per_gpu_hour`` / ``--price``.

Your own devices (or your own prices for ours) go in a TOML file of the same format, loaded with
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

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from importlib import resources

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the 'tomli' backport, a dependency there
    import tomli as tomllib

from scalinglab.core.numbers import positive_float
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

    ``name`` is canonical (``"H100-SXM"``); ``aliases`` are other names it answers to
    (case-insensitive). ``peak_flops``: dense peak FLOP/s per dtype (keys among :data:`DTYPES`;
    absent = no hardware support), held read-only (a :class:`FrozenMap`; change figures with
    :meth:`with_overrides`). ``memory_bytes`` and ``bandwidth_bytes_per_s`` in bytes and bytes/s.
    ``sources``: where each figure (``"peak"``, ``"memory"``, ``"bandwidth"``) comes from, with tags,
    also read-only. ``price_per_hour``: approximate default USD per device-hour, ``None`` without a
    dated source; ``price_date``, ``price_source``, ``price_kind`` say when and where it was seen and
    whether it is on-demand, reserved or marketplace. ``notes``: caveats (per-package vs per-die).
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
            positive_float(value, f"accelerator {self.name!r} peak {dtype}")
        positive_float(self.memory_bytes, f"accelerator {self.name!r} memory")
        positive_float(self.bandwidth_bytes_per_s, f"accelerator {self.name!r} bandwidth")
        if self.price_per_hour is not None:
            positive_float(self.price_per_hour, f"accelerator {self.name!r} price_per_hour")
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
                f"(command line: --dtype or --peak-tflops)")
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

    def with_overrides(self, *, peak_tflops: float | None = None, dtype: str = "bf16",
                       memory_gb: float | None = None, bandwidth_gbs: float | None = None,
                       price_per_hour: float | None = None) -> Accelerator:
        """A copy with user figures (the CLI's ``--peak-tflops/--memory-gb/--bandwidth-gbs``)."""
        peaks, sources = dict(self.peak_flops), dict(self.sources)
        if peak_tflops is not None:
            peaks[normalise_dtype(dtype)] = positive_float(peak_tflops, "peak_tflops") * TERA
            sources["peak"] = f"user override ({normalise_dtype(dtype)} {peak_tflops:g} TFLOP/s)"
        changes = {"peak_flops": peaks, "sources": sources}
        if memory_gb is not None:
            changes["memory_bytes"] = positive_float(memory_gb, "memory_gb") * GIGA
            sources["memory"] = "user override"
        if bandwidth_gbs is not None:
            changes["bandwidth_bytes_per_s"] = positive_float(bandwidth_gbs, "bandwidth_gbs") * GIGA
            sources["bandwidth"] = "user override"
        if price_per_hour is not None:
            changes.update(price_per_hour=positive_float(price_per_hour, "price_per_hour"),
                           price_date="", price_source="user-supplied", price_kind="")
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
                f"(aliases: A100 = A100-80GB, H100 = H100-SXM; add your own with a TOML catalog)") from None

    def merged(self, entries: Mapping[str, Mapping], label: str = "user catalog") -> Catalog:
        """A new catalog with TOML-style ``entries`` (name -> fields) added or overriding ours.

        ``label`` is the source recorded for a figure or price an entry gives without its own.
        """
        out = Catalog(self._by_name.values())
        for name, fields in entries.items():
            if not isinstance(fields, Mapping):
                raise ScalingLabError(f"hardware catalog: [accelerator.{name}] must be a table")
            base = out[name] if name in out else None
            out._add(_from_toml(name, fields, base, label))
        return out


_TOML_FIELDS = {
    "aliases", "peak_tflops", "memory_gb", "bandwidth_gbs", "price_per_hour", "price_date",
    "price_source", "price_kind", "notes", "sources",
}


def _from_toml(name: str, fields: Mapping, base: Accelerator | None, label: str) -> Accelerator:
    unknown = sorted(set(fields) - _TOML_FIELDS)
    if unknown:
        raise ScalingLabError(
            f"hardware catalog: [accelerator.{name}] has unknown field(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(_TOML_FIELDS))}")
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
        peaks = {normalise_dtype(k): positive_float(v, f"{where} peak_tflops.{k}") * TERA for k, v in table.items()}
    sources = dict(base.sources) if base else {}
    for figure, key in (("peak", "peak_tflops"), ("memory", "memory_gb"), ("bandwidth", "bandwidth_gbs")):
        if key in fields:
            sources[figure] = label
    sources.update(dict(fields.get("sources", {})))
    if "price_per_hour" in fields:  # a new price comes with its own date/source, never the old ones
        price = positive_float(fields["price_per_hour"], f"{where} price_per_hour")
        price_info = {"price_date": "", "price_source": label, "price_kind": ""}
    else:
        price = base.price_per_hour if base else None
        price_info = {k: getattr(base, k) if base else "" for k in ("price_date", "price_source", "price_kind")}
    price_info.update({k: str(fields[k]) for k in price_info if k in fields})
    return Accelerator(
        name=base.name if base else name,
        aliases=tuple(fields.get("aliases", base.aliases if base else ())),
        peak_flops=peaks,
        memory_bytes=positive_float(fields["memory_gb"], f"{where} memory_gb") * GIGA
        if "memory_gb" in fields else base.memory_bytes,
        bandwidth_bytes_per_s=positive_float(fields["bandwidth_gbs"], f"{where} bandwidth_gbs") * GIGA
        if "bandwidth_gbs" in fields else base.bandwidth_bytes_per_s,
        sources=sources,
        price_per_hour=price,
        notes=str(fields.get("notes", base.notes if base else "")),
        **price_info,
    )


def _read_toml(path) -> dict:
    """The ``[accelerator.NAME]`` tables of the TOML file ``path`` (a path or a package resource)."""
    try:
        with (path.open("rb") if hasattr(path, "open") else open(path, "rb")) as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ScalingLabError(f"hardware catalog {str(path)!r} not found") from None
    except OSError as exc:
        raise ScalingLabError(f"hardware catalog {str(path)!r}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScalingLabError(f"hardware catalog {str(path)!r} is not valid TOML: {exc}") from None
    entries = data.get("accelerator")
    if not isinstance(entries, dict) or not entries:
        raise ScalingLabError(f"hardware catalog {str(path)!r} has no [accelerator.NAME] tables")
    return entries


#: The built-in catalog's data file, shipped inside this package.
CATALOG_FILE = "hardware_catalog.toml"
_SOURCED = ("peak", "memory", "bandwidth")


@functools.cache
def builtin_catalog() -> Catalog:
    """The built-in accelerators, read once from :data:`CATALOG_FILE` by the users' TOML reader."""
    entries = _read_toml(resources.files(__package__).joinpath(CATALOG_FILE))
    for name, fields in entries.items():
        missing = [k for k in _SOURCED if k not in fields.get("sources", {})]
        if "price_per_hour" in fields and not fields.get("price_source"):
            missing.append("price_source")
        if missing:  # every built-in figure says where it comes from
            raise ScalingLabError(f"{CATALOG_FILE}: [accelerator.{name}] lacks sources: {', '.join(missing)}")
    return Catalog(()).merged(entries, label=CATALOG_FILE)


def __getattr__(name: str):
    # ``BUILTIN`` is read on first use, not at import: the catalog file is parsed only by code
    # that looks an accelerator up.
    if name == "BUILTIN":
        return builtin_catalog()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_catalog(path, base: Catalog | None = None) -> Catalog:
    """The built-in catalog (or ``base``) with the accelerators of the TOML file ``path`` merged in.

    An entry whose name or alias matches an existing accelerator overrides only the fields it gives
    (e.g. your own ``price_per_hour``); a new name needs ``peak_tflops``, ``memory_gb`` and
    ``bandwidth_gbs``. See the module docstring for the format.
    """
    return (builtin_catalog() if base is None else base).merged(_read_toml(path))


def default_catalog(path=None) -> Catalog:
    """Built-ins, then ``$SCALINGLAB_HARDWARE`` if set, then ``path`` if given."""
    catalog = builtin_catalog()
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

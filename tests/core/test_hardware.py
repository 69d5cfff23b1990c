"""The accelerator catalog: dense peaks per dtype, aliases, user catalogs (docs/hardware.md)."""

from importlib import resources

import pytest

try:  # the standard library from Python 3.11; the project's tomli dependency before it
    import tomllib
except ModuleNotFoundError:
    import tomli as tomllib

from scalinglab.core.hardware import (
    BUILTIN,
    CATALOG_FILE,
    DTYPES,
    ENV_VAR,
    builtin_catalog,
    default_catalog,
    get_accelerator,
    load_catalog,
)
from scalinglab.errors import ScalingLabError

REQUIRED = ["V100", "A100-40GB", "A100-80GB", "H100-SXM", "H100-PCIe", "H200", "B200", "MI250X",
            "MI300X", "TPUv4", "TPUv5e", "TPUv5p", "TPUv6e"]


@pytest.mark.parametrize("name", REQUIRED)
def test_required_devices_have_sourced_figures(name):
    acc = get_accelerator(name)
    assert acc.name == name
    assert set(acc.peak_flops) <= set(DTYPES)
    for figure in ("peak", "memory", "bandwidth"):
        assert acc.sources.get(figure), f"{name}: no source for {figure}"
    if acc.price_per_hour is not None:  # a default price always says when and where it was seen
        assert acc.price_date and acc.price_source and acc.price_kind


@pytest.mark.parametrize(
    ("name", "dtype", "tflops"),
    [
        # Dense peaks, never the 2:4-sparse figures (docs/hardware.md).
        ("H100", "bf16", 989.4), ("H100", "fp8", 1978.9), ("H100", "tf32", 494.7),
        ("H100-PCIe", "bf16", 756), ("H100-PCIe", "fp8", 1513),
        ("A100", "bf16", 312), ("A100", "tf32", 156), ("A100", "fp32", 19.5),
        ("V100", "fp16", 125), ("V100", "fp32", 15.7),
        ("H200", "bf16", 989.4), ("B200", "bf16", 2250), ("B200", "fp8", 4500),
        ("MI250X", "bf16", 383), ("MI300X", "bf16", 1307.4), ("MI300X", "fp8", 2614.9),
        ("TPUv4", "bf16", 275), ("TPUv5e", "bf16", 197), ("TPUv5p", "bf16", 459), ("TPUv6e", "bf16", 918),
    ],
)
def test_dense_peaks(name, dtype, tflops):
    assert get_accelerator(name).peak(dtype) == pytest.approx(tflops * 1e12, rel=1e-12)


@pytest.mark.parametrize(
    ("name", "memory_gb", "bandwidth_gbs"),
    [("A100-80GB", 80, 2039), ("A100-40GB", 40, 1555), ("H100", 80, 3350), ("H200", 141, 4800),
     ("MI300X", 192, 5300), ("TPUv5p", 95, 2765), ("TPUv6e", 32, 1638)],
)
def test_memory_and_bandwidth(name, memory_gb, bandwidth_gbs):
    acc = get_accelerator(name)
    assert acc.memory_gb == pytest.approx(memory_gb)
    assert acc.bandwidth_gbs == pytest.approx(bandwidth_gbs)


def test_llama3_mfu_peak_h7():
    # H7: Llama 3 Table 4, 430 / 400 / 380 TFLOPs per GPU ↔ 43% / 41% / 38% MFU at the H100 peak
    # (abs 1 pp) — only the dense bf16 peak reproduces them.
    peak = get_accelerator("H100").peak("bf16")
    for achieved, mfu in ((430e12, 43), (400e12, 41), (380e12, 38)):
        assert 100 * achieved / peak == pytest.approx(mfu, abs=1)


def test_missing_dtype_is_an_error():
    with pytest.raises(ScalingLabError, match="V100 has no bf16"):
        get_accelerator("V100").peak("bf16")
    with pytest.raises(ScalingLabError, match="no fp8"):
        get_accelerator("A100").peak("fp8")
    with pytest.raises(ScalingLabError, match="unknown dtype"):
        get_accelerator("A100").peak("fp12")
    assert get_accelerator("A100").peak("bfloat16") == 312e12


@pytest.mark.parametrize(
    ("alias", "name"),
    [("A100", "A100-80GB"), ("a100", "A100-80GB"), ("H100", "H100-SXM"), ("h100_sxm", "H100-SXM"),
     ("H100 SXM5", "H100-SXM"), ("tpu-v4", "TPUv4"), ("mi300x", "MI300X")],
)
def test_aliases_case_insensitive(alias, name):
    assert get_accelerator(alias).name == name


def test_unknown_accelerator_lists_known():
    with pytest.raises(ScalingLabError, match="H100-SXM") as info:
        get_accelerator("H1000")
    assert "H1000" in str(info.value)


CUSTOM = """
[accelerator.L40S]
aliases = ["l40s-48gb"]
peak_tflops = { bf16 = 362, fp16 = 362, fp8 = 733 }
memory_gb = 48
bandwidth_gbs = 864
price_per_hour = 1.10
price_date = "2026-01"
price_source = "our invoice"

[accelerator.h100]
price_per_hour = 1.85
"""


def test_load_catalog_adds_and_overrides(tmp_path):
    path = tmp_path / "hw.toml"
    path.write_text(CUSTOM)
    catalog = load_catalog(path)
    l40s = catalog.get_accelerator("L40S-48GB")
    assert l40s.peak("fp8") == 733e12
    assert l40s.memory_bytes == 48e9 and l40s.bandwidth_bytes_per_s == 864e9
    assert (l40s.price_per_hour, l40s.price_source) == (1.10, "our invoice")
    h100 = catalog.get_accelerator("H100-SXM")
    assert h100.price_per_hour == 1.85 and h100.price_source == "user catalog"
    assert h100.peak("bf16") == 989.4e12  # untouched figures stay
    assert BUILTIN.get_accelerator("H100").price_per_hour != 1.85  # the built-ins are not mutated


def test_environment_catalog(tmp_path, monkeypatch):
    path = tmp_path / "hw.toml"
    path.write_text(CUSTOM)
    monkeypatch.setenv(ENV_VAR, str(path))
    assert get_accelerator("l40s").name == "L40S"
    assert "L40S" in default_catalog()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[accelerator.X]\npeak_tflops = { bf16 = 1 }\nmemory_gb = 1\n", "needs bandwidth_gbs"),
        ("[accelerator.X]\npeak_tflops = { bf16 = -1 }\nmemory_gb = 1\nbandwidth_gbs = 1\n", "positive"),
        ("[accelerator.X]\npeak_tflops = { bf17 = 1 }\nmemory_gb = 1\nbandwidth_gbs = 1\n", "unknown dtype"),
        ("[accelerator.H100]\nspeed = 3\n", "unknown field"),
        ("[accelerator.X\n", "not valid TOML"),
        ("[gpus]\n", "no \\[accelerator"),
    ],
)
def test_bad_catalogs(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ScalingLabError, match=message):
        load_catalog(path)


def test_missing_catalog_file(tmp_path):
    with pytest.raises(ScalingLabError, match="not found"):
        load_catalog(tmp_path / "none.toml")


def test_overrides():
    acc = get_accelerator("A100").with_overrides(peak_tflops=250, dtype="bf16", memory_gb=96, bandwidth_gbs=3000)
    assert acc.peak("bf16") == 250e12 and acc.memory_bytes == 96e9 and acc.bandwidth_bytes_per_s == 3e12
    assert acc.sources["peak"].startswith("user override")
    v100 = get_accelerator("V100").with_overrides(peak_tflops=100, dtype="bf16")  # a user figure fills the gap
    assert v100.peak("bf16") == 100e12
    with pytest.raises(ScalingLabError):
        get_accelerator("A100").with_overrides(memory_gb=0)


def test_accelerator_pickles_and_hashes():
    import pickle

    acc = get_accelerator("H100")
    assert pickle.loads(pickle.dumps(acc)) == acc
    assert hash(acc) == hash(pickle.loads(pickle.dumps(acc)))


def test_builtin_catalog_file_round_trips():
    # The built-in devices are the package data file read by the users' TOML reader: every entry
    # in the file comes back as an accelerator with its sourced figures, in the file's order.
    text = resources.files("scalinglab.core").joinpath(CATALOG_FILE).read_text(encoding="utf-8")
    entries = tomllib.loads(text)["accelerator"]
    catalog = builtin_catalog()
    assert builtin_catalog() is catalog is BUILTIN  # read once
    assert list(catalog) == list(entries) and len(catalog) == 18
    for name, fields in entries.items():
        acc = catalog[name]
        assert set(fields["sources"]) >= {"peak", "memory", "bandwidth"}
        assert dict(acc.sources) == fields["sources"]  # each figure keeps its own source string
        assert {k: v / 1e12 for k, v in acc.peak_flops.items()} == pytest.approx(fields["peak_tflops"])
        assert acc.memory_gb == pytest.approx(fields["memory_gb"])
        assert acc.bandwidth_gbs == pytest.approx(fields["bandwidth_gbs"])
        assert acc.aliases == tuple(fields.get("aliases", ()))
        if "price_per_hour" in fields:
            assert (acc.price_per_hour, acc.price_source) == (fields["price_per_hour"], fields["price_source"])
    h100 = catalog["H100-SXM"]
    assert h100.peak("bf16") == 989.4e12 and h100.peak("fp8") == 1978.9e12
    assert h100.sources["peak"].endswith("Llama 3 Table 4 implies a 989 TF bf16 peak [P]")
    assert catalog["TPUv3"].memory_bytes == 32 * 2**30  # 32 GiB, written in GB in the file

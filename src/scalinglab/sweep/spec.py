"""A sweep described by settings: read a TOML file, merge command-line options, build the design.

A sweep file is flat TOML whose keys are the ``scalinglab sweep`` options with underscores::

    kind = "isoflop"                 # or "ladder"
    budgets = [1e11, 3e11, 1e12]     # FLOPs, full count (convention below)
    sizes_per_budget = 5
    corpus = "python-stdlib"
    executor = "local"               # or "ray" (with address = "...")
    out = "runs/my-sweep"
    target_compute = 1e15

Unknown keys are an error (a typo must not silently fall back to a default).
"""

from __future__ import annotations

import warnings
from pathlib import Path

from scalinglab.core.numbers import number_list, positive_float, whole_number
from scalinglab.errors import ScalingLabError
from scalinglab.sweep.design import isoflop_design, ladder_design
from scalinglab.sweep.hyperparams import HyperparameterRule

#: Every setting a sweep accepts, with its default.
DEFAULTS = {
    "kind": "isoflop",
    "budgets": None,
    "sizes_per_budget": 5,
    "span_decades": 1.0,
    "prior_law": None,  # priors.default_prior(tokenizer): 80 bytes or 20 BPE tokens per parameter
    "sizes": None,
    "multiples": [5, 10, 20, 40],
    "corpus": None,
    "tokenizer": "byte",
    "ctx": 128,
    "seed": 0,
    "device": "auto",
    "dtype": "fp32",
    "eval_tokens": 32_768,
    "val_fraction": 0.01,
    "convention": "chinchilla",
    "max_lr": 5e-3,
    "min_steps": 300,
    "executor": "local",
    "address": None,
    "workers": None,
    "threads": None,
    "out": None,
    "target_compute": None,
    "holdout": 1,
}


#: Settings that only one kind of sweep reads; the other kind would silently ignore them.
KIND_SETTINGS = {"budgets": "isoflop", "sizes_per_budget": "isoflop", "span_decades": "isoflop",
                 "prior_law": "isoflop", "sizes": "ladder", "multiples": "ladder"}


def check_kind_settings(kind: str, given: dict, label=None) -> None:
    """Refuse a setting in ``given`` that only the other kind of sweep reads.

    ``given`` must hold only what the person set (one layer before :func:`merge_settings` adds
    the defaults; ``None`` means unset), so a default such as ``multiples`` is never blamed.

    Parameters
    ----------
    kind : str
        The sweep's kind after merging; an unknown kind is left to :func:`build_design` to name.
    given : dict
        One settings layer: a sweep file's keys or the command-line options.
    label : callable, optional
        ``label(key)`` names the setting in the message (e.g. its command-line flag).

    Raises
    ------
    ScalingLabError
        Naming the first such setting and the kind it applies to.
    """
    if kind not in ("isoflop", "ladder"):
        return
    for key, value in given.items():
        owner = KIND_SETTINGS.get(key)
        if value is not None and owner not in (None, kind):
            name = label(key) if label else key
            raise ScalingLabError(f"{name} applies only to {owner} sweeps, and this sweep's kind is "
                                  f"{kind}: drop it, or set the kind to {owner}")


def load_settings(path) -> dict:
    """Read a sweep TOML file into a settings dict (only the keys it sets).

    Raises
    ------
    ScalingLabError
        If the file is missing, not valid TOML, or sets an unknown key.
    """
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib
        except ModuleNotFoundError as exc:
            raise ScalingLabError("reading a sweep file on Python 3.10 needs `pip install tomli`") from exc
    path = Path(path)
    if not path.is_file():
        raise ScalingLabError(f"sweep file {path}: no such file")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ScalingLabError(f"sweep file {path}: not valid TOML ({exc})") from exc
    if "sweep" in data and isinstance(data["sweep"], dict) and len(data) == 1:
        data = data["sweep"]  # a [sweep] table is accepted too
    unknown = sorted(set(data) - set(DEFAULTS))
    if unknown:
        raise ScalingLabError(f"sweep file {path}: unknown setting(s) {', '.join(unknown)}; "
                              f"known: {', '.join(DEFAULTS)}")
    return data


def merge_settings(*layers: dict) -> dict:
    """Defaults, then each layer in turn (later wins; ``None`` values do not override)."""
    out = dict(DEFAULTS)
    for layer in layers:
        for key, value in layer.items():
            if key not in DEFAULTS:
                raise ScalingLabError(f"unknown sweep setting {key!r}")
            if value is not None:
                out[key] = value
    return out


def build_design(settings: dict, check_corpus: bool = True):
    """The :class:`~scalinglab.sweep.design.SweepDesign` that ``settings`` describe.

    Raises
    ------
    ScalingLabError
        For a missing budget list, an unknown kind, corpus, convention or law, or budgets too small.
    """
    s = settings
    rule = HyperparameterRule(max_lr=positive_float(s["max_lr"], "max_lr"),
                              min_steps=whole_number(s["min_steps"], "min_steps"))
    # The designs read ctx, seed, eval_tokens, val_fraction and the counts themselves, each
    # mistake as one line naming the setting.
    common = dict(corpus=s["corpus"], tokenizer=s["tokenizer"], ctx=s["ctx"],
                  convention=s["convention"], rule=rule, seed=s["seed"], device=s["device"],
                  dtype=s["dtype"], eval_tokens=s["eval_tokens"],
                  val_fraction=s["val_fraction"], check_corpus=check_corpus)
    if s["kind"] == "isoflop":
        if not s["budgets"]:
            raise ScalingLabError("an IsoFLOP sweep needs budgets: --budgets 1e11,3e11,1e12")
        return isoflop_design(number_list(s["budgets"], "budgets"),
                              sizes_per_budget=s["sizes_per_budget"],
                              span_decades=s["span_decades"], prior_law=s["prior_law"],
                              **common)
    if s["kind"] == "ladder":
        if not s["sizes"]:
            raise ScalingLabError("a ladder sweep needs sizes: sizes = [3e4, 1e5, 3e5]")
        with warnings.catch_warnings():
            # Sizes merged onto one shape are also in design.notes, which the sweep prints.
            warnings.simplefilter("ignore", UserWarning)
            return ladder_design(number_list(s["sizes"], "sizes"), number_list(s["multiples"], "multiples"),
                                 **common)
    raise ScalingLabError(f"kind {s['kind']!r}: expected 'isoflop' or 'ladder'")

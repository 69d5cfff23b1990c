"""Training budgets: FLOPs -> PF-days, GPU-hours, wall-clock days and dollars, and back.

The forward question (:func:`train_plan`): how long and how much for N parameters on D tokens.
The inverse ones: how much compute fits in a wall-clock window or a dollar budget
(:func:`max_compute_for`), and how many tokens a given model can see in it (:func:`max_tokens_for`).

Time is ``model FLOPs / (peak FLOP/s × MFU)``. The default **MFU is 0.40**, not 1: across 23
public training runs the whole-run MFU implied by 6ND is 14–51%, median ≈35% (docs/planner.md,
"Default MFU"), and planning at the vendor peak underestimates GPU-hours 2–3×. At 0.40, 6ND
reproduces the reported GPU-hours of 21 of those 23 runs within ×0.5–×1.3. MFU here is *model* FLOPs utilisation:
recomputation is not counted as useful work (PaLM App. B; Korthikanti et al. 2022 App. A), so do
not feed it an HFU.
"""

from __future__ import annotations

from dataclasses import dataclass

from scalinglab.core.architecture import TransformerShape, check_convention
from scalinglab.core.hardware import Accelerator, get_accelerator, normalise_dtype
from scalinglab.core.numbers import parse_number
from scalinglab.core.units import (
    FLOP_PER_PARAM_TOKEN,
    SECONDS_PER_DAY,
    SECONDS_PER_HOUR,
    flops_to_gpu_hours,
    flops_to_pf_days,
)
from scalinglab.errors import ScalingLabError

#: Default model-FLOPs utilisation (docs/planner.md, "Default MFU": median implied MFU of 23
#: public runs ≈35%, range 14–51%; steady-state MFU of well-tuned large runs 38–56%).
DEFAULT_MFU = 0.40
MFU_NOTE = (
    "MFU 0.40 by default: public runs reach 14-51% whole-run (median ~35%, docs/planner.md); "
    "planning at peak (MFU 1) underestimates time and cost 2-3x"
)


#: How far (relative) ``flops`` may differ from ``params`` × ``tokens`` under the convention before
#: :func:`train_plan` calls them contradictory: rounding a typed "1.4T" is fine, another model is not.
CONSISTENCY_TOLERANCE = 0.01
#: ``params`` given beside a ``shape`` must be within this factor of the shape's count (as the CLI's
#: ``--params`` beside ``--layers/--d-model``).
SHAPE_TOLERANCE = 0.9


@dataclass(frozen=True)
class TrainPlan:
    """The answer of :func:`train_plan`; every figure in its unit (FLOPs, hours, days, USD)."""

    params: float | None
    tokens: float | None
    flops: float
    pf_days: float
    gpu_hours: float
    wall_clock_days: float
    cost_usd: float | None
    mfu: float
    gpu: str
    gpus: int
    dtype: str
    peak: float
    convention: str
    price_per_gpu_hour: float | None
    price_source: str

    def as_dict(self) -> dict:
        """JSON keys of the CLI contract (``params``, ``tokens``, ``flops``, ``gpu_hours`` ...)."""
        return {
            "params": self.params,
            "tokens": self.tokens,
            "flops": self.flops,
            "pf_days": self.pf_days,
            "gpu_hours": self.gpu_hours,
            "wall_clock_days": self.wall_clock_days,
            "cost_usd": self.cost_usd,
            "mfu": self.mfu,
            "gpu": self.gpu,
            "gpus": self.gpus,
            "dtype": self.dtype,
            "peak_flops_per_s": self.peak,
            "convention": self.convention,
            "price_per_gpu_hour": self.price_per_gpu_hour,
            "price_source": self.price_source,
        }


def _mfu(value) -> float:
    mfu = parse_number(value, name="mfu")
    if mfu > 1:
        raise ScalingLabError(f"mfu: must be a fraction in (0, 1], got {value!r}")
    return mfu


def _price(accelerator: Accelerator, price_per_gpu_hour) -> tuple[float | None, str]:
    """The USD/GPU-hour to use and where it comes from: the user's (0 is fine: owned hardware
    costs nothing per hour) or the catalog's dated default (``None`` when it has none)."""
    if price_per_gpu_hour is not None:
        return parse_number(price_per_gpu_hour, name="price_per_gpu_hour", allow_zero=True), "user-supplied"
    if accelerator.price_per_hour is None:
        return None, f"no default price for {accelerator.name}; pass a price per GPU-hour"
    label = f"approximate default: {accelerator.price_source}"
    if accelerator.price_date:
        label += f", {accelerator.price_date}"
    if accelerator.price_kind:
        label += f", {accelerator.price_kind}"
    return accelerator.price_per_hour, label


def training_flops(
    params=None, tokens=None, *, convention: str = "6N", shape: TransformerShape | None = None
) -> float:
    """Training FLOPs for ``tokens`` tokens: 6·N·D, or ``shape``'s FLOPs per token × D.

    Conventions other than ``"6N"`` need the shape (attention and vocabulary terms depend on it);
    see :data:`scalinglab.core.architecture.FLOP_CONVENTIONS`.
    """
    check_convention(convention)
    tokens = parse_number(tokens, name="tokens")
    if shape is not None:
        return shape.flops_per_token(convention) * tokens
    if convention != "6N":
        raise ScalingLabError(
            f"convention {convention!r} needs the model shape (shape=TransformerShape(...); on the "
            f"command line --layers and --d-model); with only a parameter count use '6N'"
        )
    return FLOP_PER_PARAM_TOKEN * parse_number(params, name="params") * tokens


def train_plan(
    params=None,
    tokens=None,
    gpu: str | Accelerator = "H100",
    gpus: int = 1,
    mfu: float = DEFAULT_MFU,
    dtype: str = "bf16",
    price_per_gpu_hour: float | None = None,
    flops: float | None = None,
    convention: str = "6N",
    shape: TransformerShape | None = None,
) -> TrainPlan:
    """Time and cost of training ``params`` parameters on ``tokens`` tokens.

    Parameters
    ----------
    params, tokens : float
        Model parameters and training tokens (``params`` defaults to ``shape.total_params``).
    gpu : str or Accelerator
        Catalog name or alias (``"A100"`` = A100-80GB, ``"H100"`` = H100-SXM), or an
        :class:`~scalinglab.core.hardware.Accelerator`.
    gpus : int
        Devices training in parallel; only wall-clock time depends on it.
    mfu : float
        Model-FLOPs utilisation in (0, 1]; default 0.40 (see the module docstring).
    dtype : str
        Which dense peak to use: ``bf16`` (default), ``fp16``, ``fp8``, ``tf32``, ``fp32``.
    price_per_gpu_hour : float, optional
        USD per device-hour, 0 included (hardware you own: then ``cost_usd`` is 0); defaults to
        the catalog's dated approximate price (``None`` if it has none, and then ``cost_usd`` is
        ``None``).
    flops : float, optional
        Training FLOPs, given directly (then ``params``/``tokens`` are optional and only reported;
        given one of them, the other is derived: C/(6N) under ``"6N"``, or C over the shape's
        FLOPs per token).
        With both ``params`` and ``tokens`` as well, the three must agree under ``convention``
        (within :data:`CONSISTENCY_TOLERANCE`); contradicting inputs raise a ScalingLabError.
    convention : str
        FLOP convention for ``params``/``tokens`` (``"6N"`` unless ``shape`` is given).
    shape : TransformerShape, optional
        The model, for conventions beyond 6N. ``params``, if given too, must be within 10% of
        ``shape.total_params`` (the shape's count drives the FLOPs).

    Returns
    -------
    TrainPlan

    Raises
    ------
    ScalingLabError
        For bad values, a ``dtype`` the device has no peak for, or inputs that contradict each
        other (``flops`` against ``params`` × ``tokens``, ``params`` against ``shape``).
    """
    accelerator = get_accelerator(gpu)
    gpus = parse_number(gpus, name="gpus", integer=True)
    mfu = _mfu(mfu)
    dtype = normalise_dtype(dtype)
    peak = accelerator.peak(dtype)
    params = None if params is None else parse_number(params, name="params")
    if shape is not None:
        if params is None:
            params = shape.total_params
        elif not SHAPE_TOLERANCE <= params / shape.total_params <= 1 / SHAPE_TOLERANCE:
            # The shape's own count drives the FLOPs; a different params would report another model.
            raise ScalingLabError(
                f"params={params:.4g} disagrees with shape (n_layer {shape.n_layer}, d_model "
                f"{shape.d_model}), which holds {shape.total_params:.4g} parameters; fix one or drop params")
    tokens = None if tokens is None else parse_number(tokens, name="tokens")
    flops_given = flops is not None
    if flops_given:
        flops = parse_number(flops, name="flops")
        if params is not None and tokens is not None:
            implied = training_flops(params, tokens, convention=convention, shape=shape)
            if abs(flops - implied) > CONSISTENCY_TOLERANCE * implied:
                # Two answers for one quantity: the plan would cost one and report the other.
                raise ScalingLabError(
                    f"flops={flops:.4g} contradicts params={params:.4g} and tokens={tokens:.4g}, "
                    f"which make {implied:.4g} FLOPs ({convention}); give params and tokens, or flops "
                    f"(with at most one of them), not three that disagree")
        params, tokens = _complete(flops, params, tokens, convention, shape)
    elif tokens is None or params is None:
        raise ScalingLabError("give params= and tokens=, or the training compute flops=")
    else:
        flops = training_flops(params, tokens, convention=convention, shape=shape)
    gpu_hours = flops_to_gpu_hours(flops, peak, mfu)
    price, price_source = _price(accelerator, price_per_gpu_hour)
    return TrainPlan(
        params=params,
        tokens=tokens,
        flops=float(flops),
        pf_days=flops_to_pf_days(flops),
        gpu_hours=gpu_hours,
        wall_clock_days=gpu_hours / gpus / 24.0,
        cost_usd=None if price is None else gpu_hours * price,
        mfu=mfu,
        gpu=accelerator.name,
        gpus=gpus,
        dtype=dtype,
        peak=peak,
        convention="given" if flops_given else convention,
        price_per_gpu_hour=price,
        price_source=price_source,
    )


def _complete(flops: float, params, tokens, convention: str, shape):
    """Derive the missing one of ``params``/``tokens`` from ``flops`` where the convention allows
    it (as the CLI does): tokens = C / FLOPs-per-token of the shape, or C / (6N) under ``"6N"``."""
    if tokens is None and shape is not None:
        tokens = flops / shape.flops_per_token(convention)
    elif convention.upper() == "6N" and shape is None:
        if tokens is None and params is not None:
            tokens = flops / (FLOP_PER_PARAM_TOKEN * params)
        elif params is None and tokens is not None:
            params = flops / (FLOP_PER_PARAM_TOKEN * tokens)
    return params, tokens


def max_compute_for(
    gpu: str | Accelerator = "H100",
    gpus: int = 1,
    *,
    days: float | None = None,
    gpu_days: float | None = None,
    usd: float | None = None,
    mfu: float = DEFAULT_MFU,
    dtype: str = "bf16",
    price_per_gpu_hour: float | None = None,
) -> float:
    """Model FLOPs that fit in a budget: ``days`` of wall-clock on ``gpus`` devices, ``gpu_days``
    of device time, or ``usd`` dollars at the catalog's (or the given) price. Give exactly one.

    FLOPs = device-seconds × peak(dtype) × MFU.
    """
    given = [name for name, v in (("days", days), ("gpu_days", gpu_days), ("usd", usd)) if v is not None]
    if len(given) != 1:
        raise ScalingLabError("give exactly one budget: days (wall-clock), gpu_days or usd")
    accelerator = get_accelerator(gpu)
    gpus = parse_number(gpus, name="gpus", integer=True)
    peak = accelerator.peak(dtype) * _mfu(mfu)
    if days is not None:
        device_seconds = parse_number(days, name="days") * SECONDS_PER_DAY * gpus
    elif gpu_days is not None:
        device_seconds = parse_number(gpu_days, name="gpu_days") * SECONDS_PER_DAY
    else:
        price, _ = _price(accelerator, price_per_gpu_hour)
        if price is None:
            raise ScalingLabError(
                f"no default price for {accelerator.name}; pass price_per_gpu_hour to budget in dollars"
            )
        if price == 0:
            # Free device-hours make any dollar budget buy unlimited compute: no answer to give.
            raise ScalingLabError("price_per_gpu_hour is 0, so a dollar budget buys unlimited compute; "
                                  "budget in days or gpu_days instead")
        device_seconds = parse_number(usd, name="usd") / price * SECONDS_PER_HOUR
    return device_seconds * peak


def max_tokens_for(
    params=None,
    *,
    days: float | None = None,
    gpu_days: float | None = None,
    usd: float | None = None,
    gpu: str | Accelerator = "H100",
    gpus: int = 1,
    mfu: float = DEFAULT_MFU,
    dtype: str = "bf16",
    price_per_gpu_hour: float | None = None,
    convention: str = "6N",
    shape: TransformerShape | None = None,
) -> float:
    """Training tokens a model of ``params`` parameters (or ``shape``) can see within a budget
    (see :func:`max_compute_for`): compute / FLOPs per token."""
    compute = max_compute_for(
        gpu, gpus, days=days, gpu_days=gpu_days, usd=usd, mfu=mfu, dtype=dtype,
        price_per_gpu_hour=price_per_gpu_hour,
    )
    return compute / training_flops(params, 1.0, convention=convention, shape=shape)


def implied_mfu(flops: float, gpu_hours: float, peak_flops_per_s: float) -> float:
    """Whole-run MFU implied by reported device-hours: flops / (hours × 3600 × peak)."""
    return parse_number(flops, name="flops") / (
        parse_number(gpu_hours, name="gpu_hours") * SECONDS_PER_HOUR * parse_number(peak_flops_per_s, name="peak")
    )


def mfu_from_throughput(flops_per_token: float, tokens_per_s: float, devices: int, peak_flops_per_s: float) -> float:
    """MFU from measured throughput (PaLM App. B): flops/token × tokens/s / (devices × peak)."""
    return (
        parse_number(flops_per_token, name="flops_per_token")
        * parse_number(tokens_per_s, name="tokens_per_s")
        / (parse_number(devices, name="devices", integer=True) * parse_number(peak_flops_per_s, name="peak"))
    )

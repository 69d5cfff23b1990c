"""Seed-compatible budget classes: ``ComputeBudgetCalculator`` and ``ComputeEconomy``.

The names, methods and signatures are those of the documents scalinglab grew from
(the first users' documents), so their usage code runs unchanged but for the import. The numbers are
not theirs; each method is a thin wrapper over :mod:`scalinglab.plan.budget` and the hardware
catalog, and differs from the seed where the seed was wrong:

- **Dense peaks, by dtype.** The seed priced "H100" at 1,000 TFLOP/s labelled FP8; that is the
  H100 SXM *bf16* dense peak (989.4), and FP8 dense is 1,979. Here the peak comes from the catalog
  (``bf16``, or ``fp16`` on devices without bf16 such as the V100).
- **MFU 0.40, not 1.** The seed divided by the peak, i.e. assumed 100% utilisation, which
  underestimates GPU-hours 2–3× (docs/planner.md); ``mfu`` is a keyword you may change.
- **Cost counts GPU-hours once.** The seed's ``plan_training`` multiplied the *total* GPU-hours by
  ``num_gpus`` again (a 2,048× overcharge for its own example). ``cost_estimate`` takes total
  GPU-hours (as ``gpu_hours`` returns them), so ``num_gpus`` does not enter the cost; it is kept in
  the signature for compatibility.
- **Prices** are the catalog's dated approximate defaults (or ``price_per_gpu_hour=``), not the
  seed's undated $2.5/$4/$8.
- **Inputs are checked** as in the rest of scalinglab: numbers or human strings (``"70B"``,
  ``"1.4T"``); negatives, NaN, booleans and garbage raise :class:`~scalinglab.errors.ScalingLabError`
  instead of returning a negative FLOP count.
"""

from __future__ import annotations

from scalinglab.core.hardware import get_accelerator
from scalinglab.core.numbers import parse_number
from scalinglab.core.units import FLOP_PER_PARAM_TOKEN, flops_to_pf_days
from scalinglab.errors import ScalingLabError
from scalinglab.plan.budget import DEFAULT_MFU, _mfu, train_plan


def _dtype_for(gpu_type: str, dtype: str | None) -> str:
    """The seed priced every device at its 16-bit tensor peak: bf16, or fp16 where bf16 is absent."""
    return get_accelerator(gpu_type).half_precision if dtype is None else dtype


class ComputeBudgetCalculator:
    """Training and inference compute, GPU-hours, cost and a whole plan (seed API, correct numbers).

    Parameters
    ----------
    mfu : float
        Model-FLOPs utilisation used for GPU-hours (default 0.40, see :mod:`scalinglab.plan.budget`).
    """

    def __init__(self, mfu: float = DEFAULT_MFU):
        self.flops_per_token_per_param = FLOP_PER_PARAM_TOKEN  # forward + backward (Kaplan 2020 §2.1)
        self.mfu = _mfu(mfu)  # checked now, not at the first gpu_hours() call

    def training_compute(self, num_params, num_tokens) -> float:
        """Training FLOPs, 6·N·D (``num_params`` and ``num_tokens`` as numbers or ``"70B"``)."""
        n = parse_number(num_params, name="num_params")
        d = parse_number(num_tokens, name="num_tokens")
        return float(self.flops_per_token_per_param * n * d)

    def inference_compute(self, num_params, num_output_tokens) -> float:
        """Forward FLOPs to generate ``num_output_tokens`` tokens, 2·N per token (attention ignored,
        as Sardana et al.; see :mod:`scalinglab.plan.inference` for the attention term)."""
        n = parse_number(num_params, name="num_params")
        tokens = parse_number(num_output_tokens, name="num_output_tokens", allow_zero=True)
        return float(2 * n * tokens)

    def gpu_hours(self, total_flops, gpu_type: str = "A100", *, mfu: float | None = None, dtype: str | None = None) -> float:
        """Total device-hours for ``total_flops`` at the dense 16-bit peak and ``mfu`` (default
        ``self.mfu``). ``gpu_type`` is any catalog name (``"A100"`` = A100-80GB)."""
        return train_plan(
            flops=parse_number(total_flops, name="total_flops"), gpu=gpu_type, mfu=self.mfu if mfu is None else mfu,
            dtype=_dtype_for(gpu_type, dtype),
        ).gpu_hours

    def cost_estimate(self, gpu_hours, gpu_type: str = "A100", num_gpus: int = 1, *, price_per_gpu_hour: float | None = None) -> float:
        """USD for ``gpu_hours`` total device-hours at the catalog's approximate price (or the given
        one). ``num_gpus`` is accepted for compatibility only: the hours are already summed over
        devices, so multiplying by it again (as the seed did) would overcharge."""
        hours = parse_number(gpu_hours, name="gpu_hours", allow_zero=True)
        parse_number(num_gpus, name="num_gpus", integer=True)  # unused, but a bad value is still a mistake
        if price_per_gpu_hour is None:
            accelerator = get_accelerator(gpu_type)
            if accelerator.price_per_hour is None:
                raise ScalingLabError(
                    f"no default price for {accelerator.name}; pass price_per_gpu_hour="
                )
            price_per_gpu_hour = accelerator.price_per_hour
        return hours * parse_number(price_per_gpu_hour, name="price_per_gpu_hour", allow_zero=True)

    def plan_training(self, num_params, num_tokens, gpu_type: str = "A100", num_gpus: int = 2048, *, price_per_gpu_hour: float | None = None) -> dict:
        """The seed's plan dict (``total_flops``, ``gpu_hours``, ``wall_clock_days``, ``total_cost``)
        plus the assumptions behind it (``mfu``, ``gpu``, ``dtype``, ``price_per_gpu_hour``,
        ``price_source``)."""
        plan = train_plan(  # parsed here so that errors name this method's arguments
            params=parse_number(num_params, name="num_params"),
            tokens=parse_number(num_tokens, name="num_tokens"),
            gpu=gpu_type, gpus=parse_number(num_gpus, name="num_gpus", integer=True), mfu=self.mfu,
            dtype=_dtype_for(gpu_type, None), price_per_gpu_hour=price_per_gpu_hour,
        )
        if plan.cost_usd is None:
            raise ScalingLabError(f"no default price for {plan.gpu}; pass price_per_gpu_hour=")
        return {
            "total_flops": plan.flops,
            "gpu_hours": plan.gpu_hours,
            "wall_clock_days": plan.wall_clock_days,
            "total_cost": plan.cost_usd,
            "mfu": plan.mfu,
            "gpu": plan.gpu,
            "dtype": plan.dtype,
            "price_per_gpu_hour": plan.price_per_gpu_hour,
            "price_source": plan.price_source,
        }


class ComputeEconomy:
    """The "Physics of Scale" notebook's compute helper."""

    @staticmethod
    def calculate_c_pfdays(n, tokens) -> float:
        """Training compute 6·N·D in PF-days (1 PF-day = 8.64e19 FLOPs, Kaplan 2020 §1.3)."""
        return flops_to_pf_days(FLOP_PER_PARAM_TOKEN * parse_number(n, name="n") * parse_number(tokens, name="tokens"))

"""One measured training run: ``train(config) -> TrainResult``.

The loop is nanoGPT's (``train.py``): AdamW (fused where torch has it), linear warm-up then cosine
decay to ``min_lr_ratio * lr``, gradient accumulation over micro-batches, global-norm clipping,
bf16 autocast when asked (on CUDA and on CPU), optional ``torch.compile``. The validation loss is
measured on a fixed set of windows every ``eval_every`` steps and at the end, and logged against
tokens and FLOPs.

FLOPs are counted with :meth:`TransformerShape.flops_per_token`: ``flops`` is the
``"chinchilla"`` convention (Hoffmann et al. 2022 App. F, embeddings, attention and logits all
counted), which the sweep budgets with; every other convention's count is reported beside it as
``flops_<name>``. Achieved FLOP/s is ``flops`` over the time spent in training steps (evaluation
and checkpointing excluded), and MFU divides it by the device's peak (:mod:`.peak`).

Checkpoints go to ``out_dir/checkpoint.pt`` every ``checkpoint_every`` steps and at the end; a
run started on an ``out_dir`` that holds one resumes from it. Batches are a function of
``(seed, step)`` and the loss curve is saved in the checkpoint, so on CPU (with the same thread
count) a resumed run's losses are bitwise those of an uninterrupted one.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from scalinglab.errors import ScalingLabError
from scalinglab.train.config import TrainConfig
from scalinglab.train.data import TokenData, bits_per_byte, load_tokens
from scalinglab.train.model import GPT
from scalinglab.train.peak import device_peak

#: The FLOP convention of ``flops`` (the "full" count: Hoffmann et al. 2022 App. F).
FLOPS_CONVENTION = "chinchilla"

CHECKPOINT = "checkpoint.pt"
RESULT = "result.json"

#: Fields that may differ between a checkpoint and the run resuming it (they change how the run
#: executes or reports, not what it computes).
_RESUMABLE_CHANGES = {"device", "threads", "checkpoint_every", "compile"}


@dataclass
class TrainResult:
    """What one run measured. ``as_dict()`` is the JSON the CLI prints and the sweep stores.

    Attributes
    ----------
    loss, best_loss : float
        Final and best validation loss, nats per token.
    bits_per_byte : float or None
        Final validation loss in bits per UTF-8 byte (``None`` for pre-tokenised corpora).
    flops : float
        Training FLOPs by the ``"chinchilla"`` convention; ``flops_by_convention`` has the others.
    tokens_per_s, achieved_flops_per_s : float
        Over the time spent in training steps.
    peak_flops_per_s, mfu : float or None
        The device's peak (catalog on GPU, measured matmul on CPU) and achieved / peak.
    curve : list of dict
        ``{step, tokens, flops, loss, train_loss}`` at every evaluation (and at step 0, before
        training, when ``eval_every`` is set). ``loss`` is the validation loss at that step;
        ``train_loss`` is the **mean training loss over the optimizer steps since the previous
        evaluation** (not the loss at that step), absent where no step ran since (step 0). Both
        in nats per token.

    Notes
    -----
    ``repr(result)`` shows the key numbers only (size, tokens, losses, throughput, MFU); every
    field is still there, and ``as_dict()`` is unchanged.
    """

    config: dict
    params: int
    non_embedding_params: int
    tokens: int
    steps: int
    flops: float
    flops_by_convention: dict
    loss: float
    best_loss: float
    bits_per_byte: float | None
    unigram_entropy: float
    tokens_per_s: float
    achieved_flops_per_s: float
    peak_flops_per_s: float | None
    peak_source: str
    mfu: float | None
    wall_seconds: float
    train_seconds: float
    device: str
    device_name: str
    dtype: str
    threads: int
    resumed_from_step: int
    curve: list = field(default_factory=list)

    def as_dict(self) -> dict:
        """Flat JSON-ready dict: the CLI/sweep keys, ``flops_<convention>`` for every convention."""
        out = dataclasses.asdict(self)
        by_convention = out.pop("flops_by_convention")
        out["flops_convention"] = FLOPS_CONVENTION
        for name, value in by_convention.items():
            out[f"flops_{name}"] = value
        return out

    def __repr__(self) -> str:
        # The dataclass repr prints the whole config and curve, pages of it in a notebook.
        def opt(value, spec):
            return "n/a" if value is None else format(value, spec)

        return (f"TrainResult(params={self.params:,}, tokens={self.tokens:,}, steps={self.steps:,}, "
                f"loss={self.loss:.4f}, best_loss={self.best_loss:.4f}, "
                f"bits_per_byte={opt(self.bits_per_byte, '.4f')}, "
                f"tokens_per_s={self.tokens_per_s:,.0f}, mfu={opt(self.mfu, '.2%')}, "
                f"device={self.device!r}, wall_seconds={self.wall_seconds:.1f}, "
                f"curve={len(self.curve)} points)")


def prepare_out_dir(out_dir, name: str = "out_dir") -> Path | None:
    """Create the run's output folder (or accept an existing one) and check it is writable.

    Called before any tokenising or allocating, so a bad folder fails in a moment, not after the
    corpus is loaded. The CLI's ``train --out`` check is this function too.

    Parameters
    ----------
    out_dir : path or None
        The folder; ``None`` means the run writes nothing (returned as ``None``).
    name : str
        How the folder is named in error messages (``"--out"`` on the command line).

    Returns
    -------
    Path or None

    Raises
    ------
    ScalingLabError
        If ``out_dir`` is a file, cannot be created (e.g. it lies under a file, or on a read-only
        mount) or cannot be written into.
    """
    if out_dir is None:
        return None
    folder = Path(out_dir)
    if folder.exists() and not folder.is_dir():
        raise ScalingLabError(f"{name}: {str(out_dir)!r} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ScalingLabError(f"{name}: cannot create {str(out_dir)!r} ({exc.strerror or exc})") from None
    if not os.access(folder, os.W_OK):
        raise ScalingLabError(f"{name}: cannot write into {str(out_dir)!r}")
    return folder


#: Shares of the device's peak that :func:`estimate_seconds` assumes a run reaches. Generous on
#: purpose (small models reach far less), so the estimate errs short: a run refused as too long is
#: surely too long.
ESTIMATE_PEAK_SHARE = {"cpu": 0.5, "cuda": 0.4}


def estimate_seconds(config: TrainConfig, device: str,
                     vocab: int | None = None) -> tuple[float | None, float | None]:
    """Rough wall time of ``config``'s training steps before it starts, and the FLOP/s assumed.

    The run's ``"chinchilla"`` FLOPs over :data:`ESTIMATE_PEAK_SHARE` of the device's peak
    (:func:`~scalinglab.train.peak.device_peak`: half the measured matmul peak on a CPU, 0.4 of
    the catalog peak on a GPU). On a CPU this measures the peak with the run's thread count, which
    :func:`train` would do at the end anyway (the measurement is cached per process), so the
    estimate costs the run nothing.

    Parameters
    ----------
    config : TrainConfig
    device : {"cpu", "cuda"}
        The resolved device (:func:`resolve_device`).
    vocab : int, optional
        Vocabulary of the loaded corpus; defaults to the tokenizer's.

    Returns
    -------
    (seconds, flops_per_s) : tuple
        Both ``None`` when the device's peak is unknown (a GPU missing from the catalog).
    """
    with _run_threads(config):
        # The same (dtype, threads) key the trainer passes, so its own call is a cache hit.
        peak = device_peak(device, config.dtype, torch.get_num_threads())
    if not peak.flops_per_s:
        return None, None
    rate = ESTIMATE_PEAK_SHARE[device] * peak.flops_per_s
    flops = config.trained_tokens * config.shape(vocab).flops_per_token(FLOPS_CONVENTION)
    return flops / rate, rate


def _flop_conventions():
    from scalinglab.core import architecture

    return tuple(getattr(architecture, "FLOP_CONVENTIONS", (FLOPS_CONVENTION,)))


def resolve_device(name: str) -> str:
    """``"auto"`` -> ``"cuda"`` when a GPU is visible, else ``"cpu"``; ``"cuda"`` must exist."""
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ScalingLabError("device 'cuda': no CUDA GPU is visible to torch on this machine")
    return name


def learning_rate(step: int, config: TrainConfig) -> float:
    """Learning rate of optimizer step ``step`` (0-based): linear warm-up, cosine to the floor."""
    steps, warmup = config.steps, min(config.warmup_steps, config.steps)
    if step < warmup:
        return config.lr * (step + 1) / warmup
    floor = config.lr * config.min_lr_ratio
    span = max(1, steps - 1 - warmup)
    progress = min(1.0, (step - warmup) / span)
    return floor + 0.5 * (config.lr - floor) * (1.0 + math.cos(math.pi * progress))


def _optimizer(model: GPT, config: TrainConfig, device: str) -> torch.optim.Optimizer:
    groups = model.decay_groups(config.weight_decay)
    kwargs = {"lr": config.lr, "betas": (config.beta1, config.beta2)}
    try:
        # One fused kernel per step instead of a loop over tensors (torch >= 2.4 on CPU too).
        return torch.optim.AdamW(groups, fused=True, **kwargs)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.AdamW(groups, foreach=device == "cuda", **kwargs)


class _Evaluator:
    """Mean validation loss (nats/token) over a fixed set of windows."""

    def __init__(self, data: TokenData, config: TrainConfig, device: str, autocast):
        x, y = data.eval_windows(config.ctx, config.eval_tokens)
        self.n_tokens = int(y.size)
        self.n_bytes = data.bytes_of(y)
        self.x, self.y = torch.from_numpy(x), torch.from_numpy(y)
        self.batch = config.micro_batch
        self.device, self.autocast = device, autocast

    @torch.no_grad()
    def __call__(self, model) -> float:
        model.eval()
        total = 0.0
        for i in range(0, len(self.x), self.batch):
            x = self.x[i : i + self.batch].to(self.device)
            y = self.y[i : i + self.batch].to(self.device)
            with self.autocast():
                logits, _ = model(x)
            total += F.cross_entropy(logits.float().view(-1, logits.size(-1)), y.reshape(-1),
                                     reduction="sum").item()
        model.train()
        return total / self.n_tokens


def train(config: TrainConfig, out_dir=None, progress: Callable[[dict], None] | None = None) -> TrainResult:
    """Train one model and measure it.

    Parameters
    ----------
    config : TrainConfig
        The run.
    out_dir : path, optional
        Folder for ``checkpoint.pt`` and ``result.json``, created if needed (checked before the
        corpus is loaded, see :func:`prepare_out_dir`). If it holds a checkpoint of the same run,
        training resumes from it.
    progress : callable, optional
        Called after every optimizer step with ``{step, steps, tokens, lr, train_loss, ...}``
        and after every evaluation with ``val_loss`` added.

    Returns
    -------
    TrainResult
    """
    if not isinstance(config, TrainConfig):
        raise ScalingLabError(f"train() needs a TrainConfig, got {type(config).__name__}")
    with _run_threads(config):
        return _train(config, out_dir, progress)


@contextmanager
def _run_threads(config: TrainConfig):
    """The run's torch thread count for the duration, then the caller's again (leave the caller's
    process as we found it)."""
    previous_threads = torch.get_num_threads()
    try:
        if config.threads is not None:
            torch.set_num_threads(config.threads)
        yield
    finally:
        torch.set_num_threads(previous_threads)


def _train(config: TrainConfig, out_dir, progress) -> TrainResult:
    wall_start = time.perf_counter()
    out = prepare_out_dir(out_dir)  # before the corpus is loaded: a bad folder fails at once
    device = resolve_device(config.device)
    threads = torch.get_num_threads()
    if device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True  # fp32 runs use TF32 tensor cores
        torch.backends.cudnn.allow_tf32 = True

    data = load_tokens(config.corpus, config.tokenizer, config.val_fraction)
    data.check_context(config.ctx)
    shape = config.shape(data.vocab)

    torch.manual_seed(config.seed)
    model = GPT(shape).to(device)
    optimizer = _optimizer(model, config, device)
    use_bf16 = config.dtype == "bf16"

    def autocast():
        return torch.autocast(device_type=device, dtype=torch.bfloat16) if use_bf16 else nullcontext()

    evaluate = _Evaluator(data, config, device, autocast)

    # ---- resume -------------------------------------------------------------------------------
    start_step, curve, train_seconds, loss_sum, loss_count = 0, [], 0.0, 0.0, 0
    if out is not None:
        ckpt_path = out / CHECKPOINT
        if ckpt_path.is_file():
            ckpt = torch.load(ckpt_path, map_location=device, weights_only=False)
            _check_same_run(ckpt["config"], config, ckpt_path)
            model.load_state_dict(ckpt["model"])
            optimizer.load_state_dict(ckpt["optimizer"])
            start_step, curve = ckpt["step"], ckpt["curve"]
            train_seconds, loss_sum, loss_count = ckpt["train_seconds"], ckpt["loss_sum"], ckpt["loss_count"]

    step_model = torch.compile(model) if config.compile else model
    conventions = _flop_conventions()
    flops_per_token = {name: shape.flops_per_token(name) for name in conventions}
    full_per_token = flops_per_token[FLOPS_CONVENTION]
    tokens_per_step = config.tokens_per_step

    def log_eval(step: int) -> None:
        nonlocal loss_sum, loss_count
        val = evaluate(model)
        point = {"step": step, "tokens": step * tokens_per_step, "flops": step * tokens_per_step * full_per_token,
                 "loss": val}
        if loss_count:
            point["train_loss"] = loss_sum / loss_count
        loss_sum, loss_count = 0.0, 0
        curve.append(point)
        if progress is not None:
            progress({"step": step, "steps": config.steps, "tokens": point["tokens"], "val_loss": val,
                      "train_loss": point.get("train_loss")})

    def save(step: int) -> None:
        if out is None:
            return
        state = {
            "config": config.to_dict(), "step": step, "curve": curve, "train_seconds": train_seconds,
            "loss_sum": loss_sum, "loss_count": loss_count,
            "model": model.state_dict(), "optimizer": optimizer.state_dict(),
        }
        tmp = out / f"{CHECKPOINT}.tmp-{os.getpid()}"
        torch.save(state, tmp)
        os.replace(tmp, out / CHECKPOINT)

    if start_step == 0 and not curve and config.eval_every:
        log_eval(0)  # the untrained model's loss, ~ln(vocab), anchors the curve

    model.train()
    accum = config.grad_accum
    micro = config.micro_batch
    params = [p for g in optimizer.param_groups for p in g["params"]]
    for step in range(start_step, config.steps):
        t0 = time.perf_counter()
        lr = learning_rate(step, config)
        for group in optimizer.param_groups:
            group["lr"] = lr
        step_loss = torch.zeros((), device=device)
        for k in range(accum):
            x, y = data.batch(config.seed, step, k, micro, config.ctx)
            x, y = torch.from_numpy(x).to(device, non_blocking=True), torch.from_numpy(y).to(device, non_blocking=True)
            with autocast():
                _, loss = step_model(x, y)
            (loss / accum).backward()
            step_loss += loss.detach()
        if config.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(params, config.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        train_loss = (step_loss / accum).item()  # also waits for the GPU, so the timing is honest
        train_seconds += time.perf_counter() - t0
        if not math.isfinite(train_loss):
            raise ScalingLabError(
                f"training diverged at step {step + 1}: loss is {train_loss}; lower lr (now {config.lr:g})"
            )
        loss_sum += train_loss
        loss_count += 1
        done = step + 1
        if progress is not None:
            progress({"step": done, "steps": config.steps, "tokens": done * tokens_per_step, "lr": lr,
                      "train_loss": train_loss})
        if done == config.steps or (config.eval_every and done % config.eval_every == 0):
            log_eval(done)
        if done < config.steps and config.checkpoint_every and done % config.checkpoint_every == 0:
            save(done)
    if not curve or curve[-1]["step"] != config.steps:
        log_eval(config.steps)  # a resumed finished run still measures its final loss
    save(config.steps)

    tokens = config.trained_tokens
    flops = tokens * full_per_token
    peak = device_peak(device, config.dtype, threads)
    achieved = flops / train_seconds if train_seconds > 0 else 0.0
    final = curve[-1]["loss"]
    result = TrainResult(
        config=config.to_dict(),
        params=shape.total_params,
        non_embedding_params=shape.non_embedding_params,
        tokens=tokens,
        steps=config.steps,
        flops=flops,
        flops_by_convention={name: tokens * value for name, value in flops_per_token.items()},
        loss=final,
        best_loss=min(point["loss"] for point in curve),
        bits_per_byte=bits_per_byte(final, evaluate.n_tokens, evaluate.n_bytes),
        unigram_entropy=data.unigram_entropy(),
        tokens_per_s=tokens / train_seconds if train_seconds > 0 else 0.0,
        achieved_flops_per_s=achieved,
        peak_flops_per_s=peak.flops_per_s,
        peak_source=peak.source,
        mfu=achieved / peak.flops_per_s if peak.flops_per_s else None,
        wall_seconds=time.perf_counter() - wall_start,
        train_seconds=train_seconds,
        device=device,
        device_name=torch.cuda.get_device_name() if device == "cuda" else _cpu_name(),
        dtype=config.dtype,
        threads=threads,
        resumed_from_step=start_step,
        curve=curve,
    )
    if out is not None:
        tmp = out / f"{RESULT}.tmp-{os.getpid()}"
        tmp.write_text(json.dumps(result.as_dict(), indent=2))
        os.replace(tmp, out / RESULT)
    return result


def _check_same_run(saved: dict, config: TrainConfig, path: Path) -> None:
    mine = config.to_dict()
    differ = sorted(k for k in set(saved) | set(mine)
                    if k not in _RESUMABLE_CHANGES and saved.get(k) != mine.get(k))
    if differ:
        shown = ", ".join(f"{k} {saved.get(k)!r} -> {mine.get(k)!r}" for k in differ[:3])
        raise ScalingLabError(f"{path} is a checkpoint of a different run ({shown}); use another out_dir")


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or "cpu"

"""Runs from TensorBoard event files: a log directory (one sub-directory per run) or one file.

Scalar series give the loss (and tokens/FLOPs if logged); run constants come from scalars or the
hparams plugin (``SummaryWriter.add_hparams``). The rules that turn them into a run row are those
of :mod:`scalinglab.io.tracked`.
"""

from __future__ import annotations

from pathlib import Path

from scalinglab.errors import ScalingLabError
from scalinglab.io.runtable import RunTable
from scalinglab.io.tracked import LOSS_KEYS, RawRun, assemble, pick_key

EVENT_GLOB = "events.out.tfevents*"


def read_tensorboard(path, *, loss_key=None, params_key="params", tokens_key="tokens",
                     flops_key="flops", tokens_series=None, flops_series=None,
                     tokens_per_step=None, on_invalid="raise") -> RunTable:
    """Read runs from TensorBoard event files.

    Parameters
    ----------
    path : str or Path
        A log directory (every directory holding event files is one run, named by its path
        relative to ``path``) or a single event file.
    loss_key : str, optional
        Scalar tag of the loss (nats/token); default: the first of :data:`LOSS_KEYS` logged.
    params_key, tokens_key, flops_key : str
        Run constants: parameter count, total training tokens, training FLOPs. Read from the
        hparams plugin (``SummaryWriter.add_hparams``, which writes into a sub-directory of the
        run; that sub-directory is merged into the run) or, failing that, from a scalar of that
        name (its last value).
    tokens_series, flops_series : str, optional
        Scalar tags with tokens/FLOPs seen at each step; default: the first of
        :data:`TOKENS_SERIES_KEYS` / :data:`FLOPS_SERIES_KEYS` logged, if any.
    tokens_per_step : float, optional
        Tokens per optimizer step, when no tokens series is logged.

    Notes
    -----
    TensorBoard stores scalars as float32, so values come back rounded to ~7 significant digits.
    """
    # tensorboard is an optional dependency, imported only when a log dir is read
    from tensorboard.backend.event_processing import event_accumulator as ea
    from tensorboard.backend.event_processing import event_file_loader

    root = Path(path)
    if not root.exists():
        raise ScalingLabError(f"{root}: no such TensorBoard log directory or event file")
    files = [root] if root.is_file() else sorted(root.rglob(EVENT_GLOB))
    if not files:
        raise ScalingLabError(f"{root}: no TensorBoard event files ({EVENT_GLOB}) found")
    for file in files:  # the accumulator skips unreadable files silently; we do not
        if file.stat().st_size == 0:
            raise ScalingLabError(f"{file}: empty TensorBoard event file")
        if next(iter(event_file_loader.EventFileLoader(str(file)).Load()), None) is None:
            raise ScalingLabError(f"{file}: malformed TensorBoard event file (no readable event)")

    dirs = sorted({f.parent for f in files})
    parsed = {}
    for directory in dirs:
        target = str(root) if root.is_file() else str(directory)
        acc = ea.EventAccumulator(target, size_guidance={ea.SCALARS: 0, ea.TENSORS: 0})
        acc.Reload()
        series = {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}
        parsed[directory] = (series, _tb_hparams(acc))

    raw, orphans = {}, {}
    for directory, (series, hparams) in parsed.items():
        has_loss = pick_key(LOSS_KEYS, series, loss_key, "loss", str(directory), required=False)
        if has_loss:
            raw[directory] = (series, dict(hparams))
        else:
            orphans[directory] = (series, hparams)
    for directory, (_series, hparams) in orphans.items():
        parent = next((p for p in directory.parents if p in raw), None)
        if parent is None:
            if not hparams:
                # A directory of other scalars (e.g. a profiler): ignored only if runs exist.
                continue
            raise ScalingLabError(f"{directory}: hyper-parameters logged but no loss scalar "
                                  f"({loss_key or ', '.join(LOSS_KEYS)}) in this or a parent run")
        raw[parent][1].update(hparams)  # add_hparams writes a timestamped child directory
    if not raw:
        tags = sorted({t for s, _ in parsed.values() for t in s})
        raise ScalingLabError(f"{root}: no loss scalar ({loss_key or ', '.join(LOSS_KEYS)}) in "
                              f"any event file; scalars found: {', '.join(tags) or 'none'}")

    runs = []
    for directory, (series, constants) in sorted(raw.items()):
        # Constants logged as scalars (add_scalar("params", N)) count when hparams lack them.
        for key in (params_key, tokens_key, flops_key, "non_embedding_params"):
            if key not in constants and key in series and series[key]:
                constants[key] = sorted(series[key])[-1][1]
        run_id = root.name if root.is_file() else (directory.relative_to(root).as_posix()
                                                   if directory != root else root.name)
        where = str(files[0] if root.is_file() else directory)
        runs.append(RawRun(run_id=run_id, where=where, constants=constants, series=series))
    return assemble(runs, f"TensorBoard logs {root}", loss_key=loss_key, params_key=params_key,
                    tokens_key=tokens_key, flops_key=flops_key, tokens_series=tokens_series,
                    flops_series=flops_series, tokens_per_step=tokens_per_step,
                    on_invalid=on_invalid)


def _tb_hparams(acc) -> dict:
    """Hyper-parameters of the hparams plugin's ``session_start_info``, if any."""
    from tensorboard.plugins.hparams import plugin_data_pb2  # optional dependency, as above

    try:
        content = acc.PluginTagToContent("hparams")
    except KeyError:
        return {}
    out = {}
    for blob in content.values():
        data = plugin_data_pb2.HParamsPluginData.FromString(blob)
        if data.WhichOneof("data") != "session_start_info":
            continue
        for key, value in data.session_start_info.hparams.items():
            kind = value.WhichOneof("kind")
            out[key] = getattr(value, kind) if kind else None
    return out


# --------------------------------------------------------------------------------------------

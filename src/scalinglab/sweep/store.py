"""The run store: one folder per sweep that survives crashes and never reads a half-written file.

Format (a choice): plain files, JSON records plus Parquet tables, not SQLite or DuckDB. A record
per finished run can be written by one ``os.replace`` (atomic on POSIX), sealed with a SHA-256 of
its content so that a truncated or edited file is detected instead of read, and copied or rsynced
between machines; the Parquet tables are derived from the records and rebuilt atomically, so a
damaged table is never the only copy of a result.

Layout of a sweep folder ``DIR``::

    DIR/sweep.json                  the design: settings and every planned run (sealed)
    DIR/.lock                       flock held by the one process running the sweep
    DIR/records/<run_id>-<attempt>.json
                                    one finished run: config, result, conventions, eval curve
    DIR/failures/<run_id>.json      the last error of a run that failed (cleared when it finishes)
    DIR/runs/<run_id>/              the run's working folder: checkpoint, ``attempts.log``
    DIR/runs.parquet                the run table, one row per finished run (rebuilt from records)
    DIR/curves.parquet              every eval point: run_id, step, tokens, flops, loss

Run IDs are derived from the training config (:func:`run_id`), so re-running a sweep skips the
finished runs and restarts the unfinished ones from their checkpoints in ``runs/<run_id>/``. A
record's file name carries a random attempt token: if a run were ever recorded twice (a worker
that finished after its driver died), the second record is visible as a *duplicate* instead of
silently overwriting the first.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from scalinglab.errors import ScalingLabError
from scalinglab.io.sweep_folder import (
    CURVES_TABLE,
    DESIGN_FILE,
    DESIGN_FORMAT,
    FAILURES_DIR,
    LOCK_FILE,
    RECORD_FORMAT,
    RECORDS_DIR,
    RUNS_DIR,
    RUNS_TABLE,
    CorruptFileError,
    canonical_json,
    read_design,
    read_parquet,
    unseal,
)

#: Config fields that say *how* a run is executed, not *what* it computes; they do not enter the
#: run ID, so the same run on a machine with more cores (or checkpointing more often) is the same run.
EXECUTION_FIELDS = ("threads", "checkpoint_every")


# ----- hashing and atomic files ---------------------------------------------------------------
def run_id(config: dict) -> str:
    """The ID of a run: 16 hex digits of SHA-256 over its config without execution-only fields.

    Parameters
    ----------
    config : dict
        ``TrainConfig.to_dict()``.
    """
    what = {k: v for k, v in config.items() if k not in EXECUTION_FIELDS}
    digest = hashlib.sha256(canonical_json(what).encode()).hexdigest()[:16]
    return f"L{config['n_layer']}d{config['d_model']}-{digest}"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one, never part.

    The bytes go to a temporary file in the same folder, are flushed and fsynced, and then renamed
    over ``path`` (``os.replace`` is atomic on POSIX); the folder is fsynced so the rename survives
    a power cut.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def seal(payload: dict, kind: str) -> bytes:
    """Wrap ``payload`` with its format name and SHA-256, as the bytes of a JSON file (read back
    by :func:`scalinglab.io.sweep_folder.unseal`)."""
    body = canonical_json(payload)
    envelope = {"format": kind, "sha256": hashlib.sha256(body.encode()).hexdigest(),
                "payload": payload}
    return (json.dumps(envelope, sort_keys=True, indent=1, allow_nan=False) + "\n").encode()


# ----- the store ------------------------------------------------------------------------------
@dataclass
class StoreStatus:
    """What a sweep folder holds, counted against its design.

    ``unfinished`` counts planned runs with no valid record (``started`` of them have begun at
    least once, ``failed`` of them failed last time); ``duplicates`` counts extra records of runs
    already recorded; ``corrupt`` lists sealed files that failed their check (they are not read).
    """

    directory: str
    planned: int
    finished: int
    unfinished: int
    started: int
    failed: int
    duplicates: int
    corrupt: list[str] = field(default_factory=list)
    unplanned: int = 0
    flops_done: float = 0.0
    flops_planned: float = 0.0
    failures: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "directory": self.directory, "planned": self.planned, "finished": self.finished,
            "unfinished": self.unfinished, "started": self.started, "failed": self.failed,
            "duplicates": self.duplicates, "corrupt": len(self.corrupt),
            "corrupt_files": list(self.corrupt), "unplanned": self.unplanned,
            "flops_done": self.flops_done, "flops_planned": self.flops_planned,
            "failures": dict(self.failures),
        }


class RunStore:
    """A sweep folder (see the module docstring for its layout).

    Parameters
    ----------
    directory : path
        The sweep's folder; created on first write.
    """

    def __init__(self, directory):
        self.directory = Path(directory)

    # paths
    @property
    def design_path(self) -> Path:
        return self.directory / DESIGN_FILE

    @property
    def records_dir(self) -> Path:
        return self.directory / RECORDS_DIR

    @property
    def failures_dir(self) -> Path:
        return self.directory / FAILURES_DIR

    @property
    def table_path(self) -> Path:
        return self.directory / RUNS_TABLE

    @property
    def curves_path(self) -> Path:
        return self.directory / CURVES_TABLE

    def run_dir(self, rid: str) -> Path:
        return self.directory / RUNS_DIR / rid

    # ----- locking: one sweep per folder ------------------------------------------------------
    @contextmanager
    def lock(self):
        """Hold the folder's exclusive lock for the ``with`` block, or raise ScalingLabError if
        another sweep holds it::

            with store.lock():
                store.rebuild_tables()

        ``flock`` is released by the kernel when its holder dies, even by SIGKILL, so a crashed
        sweep never leaves a stale lock behind; leaving the block releases it.
        """
        import fcntl  # POSIX only: imported where the lock is taken

        self._check_not_a_file()
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            handle = open(self.directory / LOCK_FILE, "a+")
        except OSError as exc:  # a file in the way, a read-only or missing mount: a user mistake
            raise ScalingLabError(f"{self.directory}: cannot use it as the sweep folder "
                                  f"({exc.strerror or exc})") from None
        with handle:  # closing the file releases the flock
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                handle.seek(0)
                holder = handle.read().strip() or "unknown"
                raise ScalingLabError(
                    f"{self.directory} is in use by another running sweep (pid {holder}); "
                    "wait for it or choose another folder (--out)"
                ) from exc
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
            self._remove_temporaries()
            yield self

    def _check_not_a_file(self) -> None:
        if self.directory.exists() and not self.directory.is_dir():
            raise ScalingLabError(f"{self.directory} is a file, not a sweep folder; choose another folder (--out)")

    def _remove_temporaries(self) -> None:
        """Delete temporary files a killed writer left behind (only the lock holder writes here)."""
        for folder in (self.directory, self.records_dir, self.failures_dir):
            if folder.is_dir():
                for tmp in folder.glob(".*.tmp-*"):
                    tmp.unlink(missing_ok=True)

    # ----- the design -------------------------------------------------------------------------
    def read_design(self) -> dict | None:
        """The sealed design in ``sweep.json``, or None when the folder has none yet."""
        return read_design(self.directory)

    def check_design(self, design: dict) -> bool:
        """Whether the folder already holds ``design``; writes nothing (``--dry-run`` uses it).

        Returns
        -------
        bool
            True if the folder holds this design, False if it holds none (or does not exist).

        Raises
        ------
        ScalingLabError
            If the folder is a file, or holds a design with another ``design_id`` (or a corrupt
            ``sweep.json``): the refusals :meth:`lock` and :meth:`write_design` would give.
        """
        self._check_not_a_file()
        existing = self.read_design()
        if existing is None:
            return False
        if existing.get("design_id") != design.get("design_id"):
            raise ScalingLabError(
                f"{self.directory} already holds a different sweep (design "
                f"{existing.get('design_id')}, {len(existing.get('runs', []))} runs); "
                "two sweeps cannot share one folder: choose another folder (--out)"
            )
        return True

    def write_design(self, design: dict) -> None:
        """Store ``design`` (a :meth:`SweepDesign.as_dict`), refusing to mix two sweeps in one folder.

        Raises
        ------
        ScalingLabError
            If the folder already holds a design with another ``design_id``.
        """
        if self.check_design(design):
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(self.design_path, seal(design, DESIGN_FORMAT))

    # ----- records ------------------------------------------------------------------------------
    def write_record(self, record: dict) -> Path:
        """Store one finished run atomically and clear its failure note; returns the file's path."""
        rid = record["run_id"]
        self.records_dir.mkdir(parents=True, exist_ok=True)
        record = dict(record)
        record.setdefault("recorded_at", time.time())
        path = self.records_dir / f"{rid}-{uuid.uuid4().hex[:8]}.json"
        atomic_write_bytes(path, seal(record, RECORD_FORMAT))
        failure = self.failures_dir / f"{rid}.json"
        if failure.exists():
            failure.unlink()
        return path

    def write_failure(self, rid: str, error: str, attempts: int | None = None) -> None:
        """Note that run ``rid`` failed with ``error`` (one line); a later success clears it."""
        self.failures_dir.mkdir(parents=True, exist_ok=True)
        payload = {"run_id": rid, "error": error, "attempts": attempts, "failed_at": time.time()}
        atomic_write_bytes(self.failures_dir / f"{rid}.json", seal(payload, RECORD_FORMAT))

    def scan(self) -> tuple[dict[str, dict], int, list[str]]:
        """Read every record: ``({run_id: first record}, duplicates, corrupt file names)``.

        A corrupt record is listed, never read; its run counts as unfinished and is trained again.
        Among several valid records of one run the earliest is kept and the rest are duplicates.
        """
        records: dict[str, dict] = {}
        duplicates = 0
        corrupt: list[str] = []
        if not self.records_dir.is_dir():
            return records, 0, corrupt
        for path in sorted(self.records_dir.glob("*.json")):
            try:
                record = unseal(path, RECORD_FORMAT)
            except CorruptFileError:
                corrupt.append(str(path.relative_to(self.directory)))
                continue
            rid = record["run_id"]
            if rid in records:
                duplicates += 1
                if record.get("recorded_at", 0) < records[rid].get("recorded_at", 0):
                    records[rid] = record
            else:
                records[rid] = record
        return records, duplicates, corrupt

    def quarantine(self, names: list[str]) -> None:
        """Move corrupt files (paths relative to the folder) into ``records/corrupt/``."""
        target = self.records_dir / "corrupt"
        for name in names:
            source = self.directory / name
            if source.exists():
                target.mkdir(parents=True, exist_ok=True)
                os.replace(source, target / source.name)

    def failures(self) -> dict[str, str]:
        """``{run_id: last error}`` for runs whose last attempt failed."""
        out = {}
        if self.failures_dir.is_dir():
            for path in sorted(self.failures_dir.glob("*.json")):
                try:
                    note = unseal(path, RECORD_FORMAT)
                except CorruptFileError:
                    continue
                out[note["run_id"]] = note["error"]
        return out

    def attempts(self, rid: str) -> int:
        """How many times run ``rid`` has been started (lines of its ``attempts.log``)."""
        log = self.run_dir(rid) / "attempts.log"
        if not log.exists():
            return 0
        return sum(1 for line in log.read_text().splitlines() if line.strip())

    # ----- status -----------------------------------------------------------------------------
    def status(self) -> StoreStatus:
        """Count finished, unfinished, failed, duplicate and corrupt runs against the design.

        Raises
        ------
        ScalingLabError
            If the folder holds no sweep.
        """
        if not self.directory.is_dir():
            raise ScalingLabError(f"{self.directory}: no such sweep folder")
        try:
            design = self.read_design()
        except CorruptFileError as exc:
            raise ScalingLabError(f"{exc}; the design cannot be trusted") from exc
        if design is None:
            raise ScalingLabError(f"{self.directory}: not a sweep folder (no sweep.json)")
        planned = {run["run_id"]: run for run in design["runs"]}
        records, duplicates, corrupt = self.scan()
        failures = self.failures()
        finished = [rid for rid in planned if rid in records]
        pending = [rid for rid in planned if rid not in records]
        started = [rid for rid in pending if self.attempts(rid) > 0]
        failed = {rid: failures[rid] for rid in pending if rid in failures}
        return StoreStatus(
            directory=str(self.directory),
            planned=len(planned),
            finished=len(finished),
            unfinished=len(pending),
            started=len(started),
            failed=len(failed),
            duplicates=duplicates,
            corrupt=corrupt,
            unplanned=sum(1 for rid in records if rid not in planned),
            flops_done=float(sum(planned[rid]["flops"] for rid in finished)),
            flops_planned=float(sum(run["flops"] for run in planned.values())),
            failures=failed,
        )

    # ----- tables -------------------------------------------------------------------------------
    def rebuild_tables(self) -> None:
        """Rewrite ``runs.parquet`` and ``curves.parquet`` from the valid records, atomically."""
        import pandas as pd

        records, _, _ = self.scan()
        rows = [record_row(rec) for rec in sorted(records.values(), key=_order)]
        curves = [
            {"run_id": rec["run_id"], **point}
            for rec in sorted(records.values(), key=_order)
            for point in rec.get("curve", [])
        ]
        self.directory.mkdir(parents=True, exist_ok=True)
        _write_parquet(pd.DataFrame(rows, columns=_columns(rows)), self.table_path)
        curve_cols = ["run_id", "step", "tokens", "flops", "loss"]
        curve_frame = pd.DataFrame(curves)
        if curve_frame.empty:
            curve_frame = pd.DataFrame(columns=curve_cols)
        _write_parquet(curve_frame, self.curves_path)

    def run_table(self):
        """The run table as a pandas DataFrame (one row per finished run).

        Raises
        ------
        ScalingLabError
            If ``runs.parquet`` is missing or damaged (a crash mid-write cannot cause this, since
            tables are replaced atomically; it means the file was altered). :meth:`rebuild_tables`
            recreates it from the records.
        """
        return read_parquet(self.table_path)

    def curves(self):
        """Every eval point of every finished run as a DataFrame (run_id, step, tokens, flops, loss)."""
        return read_parquet(self.curves_path)


def _order(record: dict):
    return (record.get("budget") or 0.0, record.get("params") or 0, record["run_id"])


def _columns(rows: list[dict]) -> list[str]:
    columns: list[str] = []
    for row in rows:
        for key in row:
            if key not in columns:
                columns.append(key)
    return columns or list(TABLE_HEAD)


#: The leading columns of ``runs.parquet``; they follow the schema of :mod:`scalinglab.io.runtable`.
TABLE_HEAD = ("run_id", "group", "budget", "params", "non_embedding_params", "tokens", "flops",
              "loss", "best_loss", "bits_per_byte", "wall_seconds", "tokens_per_s",
              "achieved_flops_per_s", "mfu", "steps", "attempts")


def record_row(record: dict) -> dict:
    """Flatten a record into one row of the run table.

    Columns: the :data:`TABLE_HEAD` quantities, then every FLOP convention (``flops_<name>``,
    training FLOPs of the run under that convention) and parameter convention (``params_<name>``),
    then every config field (``cfg_<field>``) and the config as JSON (``config``).
    """
    result = record.get("result", {})
    row = {
        "run_id": record["run_id"],
        "group": record.get("group"),
        "budget": record.get("budget"),
        "params": record["params"],
        "non_embedding_params": record["non_embedding_params"],
        "tokens": record["tokens"],
        "flops": record["flops"],
        "loss": result.get("loss"),
        "best_loss": result.get("best_loss"),
        "bits_per_byte": result.get("bits_per_byte"),
        "wall_seconds": result.get("wall_seconds"),
        "tokens_per_s": result.get("tokens_per_s"),
        "achieved_flops_per_s": result.get("achieved_flops_per_s"),
        "mfu": result.get("mfu"),
        "steps": record.get("steps"),
        "attempts": record.get("attempts"),
    }
    for name, value in sorted(record.get("flops_by_convention", {}).items()):
        row[f"flops_{name}"] = value
    for name, value in sorted(record.get("params_by_convention", {}).items()):
        row[f"params_{name}"] = value
    for name, value in record["config"].items():
        row[f"cfg_{name}"] = value
    row["config"] = canonical_json(record["config"])
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in row.items()}


def _write_parquet(frame, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), sink)
    atomic_write_bytes(path, sink.getvalue().to_pybytes())

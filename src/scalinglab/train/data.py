"""Tokenised training data: a cached train/validation split and the batches drawn from it.

``load_tokens(corpus, tokenizer, val_fraction)`` reads a corpus (:mod:`.corpora`), splits it and
tokenises it once; the ids are cached on disk (``$SCALINGLAB_CACHE`` or ``~/.cache/scalinglab``)
under a key made of the corpus fingerprint, the tokenizer and the split, and memory-mapped on
later runs. The split never overlaps: the validation text is the tail of the corpus stream (cut
at a line end), the training text everything before it, and a BPE is trained on the training
text only. A nanoGPT folder with ``train.bin`` and ``val.bin`` keeps its own split; a single
``.bin`` is split at its tail.

A text corpus is read into memory once, to be split and tokenised (fine up to a few GB of text);
beyond that, tokenise it yourself into nanoGPT ``.bin`` files, which are memory-mapped and never
loaded whole.

Training batches are random windows (nanoGPT's sampler) drawn from a generator seeded by
``(seed, step, micro-step)``, so a run resumed from a checkpoint sees exactly the batches an
uninterrupted run would.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scalinglab.errors import ScalingLabError
from scalinglab.train.corpora import Corpus, resolve_corpus
from scalinglab.train.tokenizers import BPETokenizer, ByteTokenizer, parse_tokenizer, token_dtype

#: Bump when the cached layout or the split rule changes (old caches are then ignored).
CACHE_FORMAT = 1


def cache_root() -> Path:
    """``$SCALINGLAB_CACHE``, else ``~/.cache/scalinglab``."""
    env = os.environ.get("SCALINGLAB_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "scalinglab"


@dataclass
class TokenData:
    """A train/validation split of token ids.

    Attributes
    ----------
    train, val : numpy.ndarray
        Token ids (uint16 or uint32; memory-mapped when read from the cache).
    vocab : int
        Vocabulary size; every id is below it.
    token_bytes : numpy.ndarray or None
        UTF-8 bytes per token id, for bits per byte; ``None`` for pre-tokenised corpora.
    meta : dict
        Corpus, tokenizer, split and counts, as cached in ``meta.json``.
    """

    train: np.ndarray
    val: np.ndarray
    vocab: int
    token_bytes: np.ndarray | None
    meta: dict

    def check_context(self, ctx: int) -> None:
        """Raise if either split is too short to hold one training window of ``ctx + 1`` tokens."""
        name = self.meta.get("corpus", "corpus")
        if len(self.train) < ctx + 1:
            raise ScalingLabError(
                f"corpus {name!r} is shorter than one context: {len(self.train):,} training tokens, "
                f"need at least ctx + 1 = {ctx + 1:,}"
            )
        if len(self.val) < ctx + 1:
            raise ScalingLabError(
                f"corpus {name!r}: the validation split holds {len(self.val):,} tokens, fewer than one "
                f"context of {ctx + 1:,}; raise val_fraction or lower ctx"
            )

    def batch(self, seed: int, step: int, micro_step: int, size: int, ctx: int):
        """``size`` random training windows: inputs and next-token targets, int64 ``(size, ctx)``."""
        rng = np.random.default_rng([seed, step, micro_step])
        offsets = rng.integers(0, len(self.train) - ctx, size=size)
        rows = self.train[offsets[:, None] + np.arange(ctx + 1)].astype(np.int64)
        return rows[:, :-1], rows[:, 1:]

    def eval_windows(self, ctx: int, eval_tokens: int):
        """Consecutive non-overlapping validation windows covering ``eval_tokens`` targets.

        Always at least one window and never more than the split holds. Returns inputs and
        targets, int64 ``(n, ctx)``.
        """
        available = (len(self.val) - 1) // ctx
        n = max(1, min(eval_tokens // ctx, available))
        rows = np.lib.stride_tricks.sliding_window_view(np.asarray(self.val[: n * ctx + 1]), ctx + 1)[::ctx]
        rows = rows[:n].astype(np.int64)
        return rows[:, :-1], rows[:, 1:]

    def bytes_of(self, targets: np.ndarray) -> int | None:
        """UTF-8 bytes the given target ids stand for (``None`` when unknown)."""
        if self.token_bytes is None:
            return None
        return int(self.token_bytes[targets].sum())

    def unigram_entropy(self) -> float:
        """Entropy (nats/token) of the training split's token frequencies: the loss of a model
        that knows only how often each token occurs."""
        counts = np.bincount(np.asarray(self.train), minlength=self.vocab).astype(np.float64)
        p = counts[counts > 0] / counts.sum()
        return float(-(p * np.log(p)).sum())


def load_tokens(corpus: str, tokenizer: str = "byte", val_fraction: float = 0.01,
                cache_dir: Path | None = None) -> TokenData:
    """Tokenise ``corpus`` with ``tokenizer`` (cached) and split off ``val_fraction`` of it.

    Parameters
    ----------
    corpus : str
        A named corpus or a path (see :mod:`scalinglab.train.corpora`).
    tokenizer : str
        ``"byte"``, ``"bpe:<vocab>"`` or, for ``.bin`` corpora, ``"tokens:<vocab>"``.
    val_fraction : float
        Share of the stream held out for validation (ignored by a ``train.bin``/``val.bin`` pair).
    cache_dir : Path, optional
        Cache root; defaults to :func:`cache_root`.
    """
    kind, vocab = parse_tokenizer(tokenizer)
    source = resolve_corpus(corpus)
    if source.kind == "tokens":
        if kind != "tokens":
            raise ScalingLabError(
                f"corpus {corpus!r} is pre-tokenised (.bin): use tokenizer 'tokens:<vocab>', e.g. tokens:50304"
            )
        return _load_bin(source, vocab, val_fraction)
    if kind == "tokens":
        raise ScalingLabError(f"tokenizer {tokenizer!r} is for pre-tokenised .bin corpora; {corpus!r} is text")
    root = cache_root() if cache_dir is None else Path(cache_dir)
    key = hashlib.sha1(
        json.dumps([CACHE_FORMAT, source.name, source.fingerprint, tokenizer, val_fraction]).encode()
    ).hexdigest()[:16]
    slug = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in Path(source.name).name)[:40]
    folder = root / "tokens" / f"{slug}-{tokenizer.replace(':', '')}-{key}"
    if not (folder / "meta.json").is_file():
        _build_cache(source, kind, vocab, tokenizer, val_fraction, folder)
    return _open_cache(folder, vocab)


def _split_text(text: str, val_fraction: float) -> tuple[str, str]:
    cut = int(len(text) * (1.0 - val_fraction))
    newline = text.find("\n", cut)
    if 0 <= newline < len(text) - 1:
        cut = newline + 1  # whole lines on each side
    return text[:cut], text[cut:]


def _chunks(text: str, size: int = 1 << 20):
    start = 0
    while start < len(text):
        end = min(len(text), start + size)
        yield text[start:end]
        start = end


def _build_cache(source: Corpus, kind: str, vocab: int, spec: str, val_fraction: float, folder: Path) -> None:
    text = source.text()
    train_text, val_text = _split_text(text, val_fraction)
    if kind == "byte":
        tok = ByteTokenizer()
    else:
        tok = BPETokenizer.train(_chunks(train_text), vocab)
    train_ids, val_ids = tok.encode(train_text), tok.encode(val_text)
    tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    dtype = token_dtype(vocab)
    train_ids.astype(dtype).tofile(tmp / "train.bin")
    val_ids.astype(dtype).tofile(tmp / "val.bin")
    np.save(tmp / "token_bytes.npy", tok.token_bytes)
    if kind == "bpe":
        tok.save(tmp / "tokenizer.json")
    meta = {
        "corpus": source.name,
        "fingerprint": source.fingerprint,
        "tokenizer": spec,
        "val_fraction": val_fraction,
        "dtype": np.dtype(dtype).name,
        "train_tokens": int(len(train_ids)),
        "val_tokens": int(len(val_ids)),
        "train_bytes": len(train_text.encode("utf-8")),
        "val_bytes": len(val_text.encode("utf-8")),
    }
    (tmp / "meta.json").write_text(json.dumps(meta, indent=2))
    try:
        os.replace(tmp, folder)  # atomic: a concurrent run either sees the whole cache or none
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)  # another process finished first; use theirs
        if not (folder / "meta.json").is_file():
            raise


def _memmap(path: Path, dtype) -> np.ndarray:
    if path.stat().st_size == 0:
        return np.zeros(0, dtype=dtype)
    return np.memmap(path, dtype=dtype, mode="r")


def _open_cache(folder: Path, vocab: int) -> TokenData:
    meta = json.loads((folder / "meta.json").read_text())
    dtype = np.dtype(meta["dtype"])
    return TokenData(
        train=_memmap(folder / "train.bin", dtype),
        val=_memmap(folder / "val.bin", dtype),
        vocab=vocab,
        token_bytes=np.load(folder / "token_bytes.npy"),
        meta=meta | {"cache": str(folder)},
    )


def _load_bin(source: Corpus, vocab: int, val_fraction: float) -> TokenData:
    dtype = token_dtype(vocab)
    files = source.token_files
    for path in files.values():
        if path.stat().st_size % np.dtype(dtype).itemsize:
            raise ScalingLabError(
                f"{path}: size is not a whole number of {np.dtype(dtype).name} tokens "
                f"(vocabulary {vocab} implies {np.dtype(dtype).name})"
            )
    if "all" in files:
        ids = _memmap(files["all"], dtype)
        cut = int(len(ids) * (1.0 - val_fraction))
        train, val = ids[:cut], ids[cut:]
    else:
        train, val = _memmap(files["train"], dtype), _memmap(files["val"], dtype)
    if len(train) == 0:
        raise ScalingLabError(f"corpus {source.name!r} is empty: it holds no tokens")
    for name, ids in (("train", train), ("val", val)):
        # Chunked so that a multi-GB memmap is never loaded at once.
        top = max((int(ids[i : i + (1 << 24)].max()) for i in range(0, len(ids), 1 << 24)), default=0)
        if top >= vocab:
            raise ScalingLabError(
                f"corpus {source.name!r}: {name} holds token id {top}, not below the vocabulary {vocab}"
            )
    meta = {
        "corpus": source.name,
        "fingerprint": source.fingerprint,
        "tokenizer": f"tokens:{vocab}",
        "val_fraction": val_fraction if "all" in files else None,
        "dtype": np.dtype(dtype).name,
        "train_tokens": int(len(train)),
        "val_tokens": int(len(val)),
    }
    return TokenData(train=train, val=val, vocab=vocab, token_bytes=None, meta=meta)


def bits_per_byte(loss_nats: float, tokens: int, n_bytes: int | None) -> float | None:
    """Convert a loss in nats per token to bits per UTF-8 byte over the same text."""
    if n_bytes is None or n_bytes <= 0:
        return None
    return loss_nats / math.log(2) * tokens / n_bytes

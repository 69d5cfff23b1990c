"""Tokenizers: bytes (vocabulary 256) and a byte-level BPE trained locally.

Both tokenizers know how many UTF-8 bytes each token id stands for (``token_bytes``), so the
validation loss can be reported in bits per byte, which compares across tokenizers:
``bits/byte = (nats/token) / ln 2 * tokens / bytes``.

The BPE is Hugging Face ``tokenizers``' byte-level BPE (the GPT-2 scheme: bytes mapped to
printable characters, then merges), trained on the training split only. Nothing is downloaded.
A pre-tokenised corpus (nanoGPT ``.bin``) uses ``"tokens:<vocab>"``: its ids are taken as they
are and their byte lengths are unknown, so bits per byte is not reported.
"""

from __future__ import annotations

import numpy as np

from scalinglab.errors import ScalingLabError


def token_dtype(vocab: int):
    """Smallest unsigned dtype for ids below ``vocab``: uint16 up to 65,536 (nanoGPT), else uint32."""
    return np.uint16 if vocab <= 65_536 else np.uint32


class ByteTokenizer:
    """UTF-8 bytes as tokens: ids 0..255, every token exactly one byte."""

    vocab = 256
    spec = "byte"

    def encode(self, text: str) -> np.ndarray:
        """Token ids of ``text`` (uint16)."""
        return np.frombuffer(text.encode("utf-8"), dtype=np.uint8).astype(np.uint16)

    def decode(self, ids) -> str:
        return bytes(np.asarray(ids, dtype=np.uint8).tolist()).decode("utf-8", errors="replace")

    @property
    def token_bytes(self) -> np.ndarray:
        """UTF-8 bytes per token id (all ones)."""
        return np.ones(self.vocab, dtype=np.int64)


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible map from the 256 byte values to printable characters (Radford et al.
    2019, ``encoder.py``), which byte-level BPE vocabularies are written in."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs), strict=True))


class BPETokenizer:
    """Byte-level BPE with a fixed vocabulary size, trained on local text.

    Parameters
    ----------
    vocab : int
        Vocabulary size (> 256). A small corpus may yield fewer merges; the model still has
        ``vocab`` embedding rows, so parameter counts follow the spec.
    """

    def __init__(self, vocab: int, tokenizer=None):
        if vocab <= 256:
            raise ScalingLabError(f"BPE vocabulary {vocab} must be above 256 (the byte alphabet)")
        self.vocab = vocab
        self.spec = f"bpe:{vocab}"
        self._tok = tokenizer

    @classmethod
    def train(cls, texts, vocab: int) -> BPETokenizer:
        """Learn ``vocab - 256`` merges (at most) from an iterable of strings."""
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=vocab,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            special_tokens=[],
            show_progress=False,
        )
        tok.train_from_iterator(texts, trainer=trainer)
        return cls(vocab, tok)

    @classmethod
    def load(cls, path, vocab: int) -> BPETokenizer:
        from tokenizers import Tokenizer

        return cls(vocab, Tokenizer.from_file(str(path)))

    def save(self, path) -> None:
        self._tok.save(str(path))

    def encode(self, text: str, chunk_chars: int = 1 << 20) -> np.ndarray:
        """Token ids of ``text``, encoded in parallel over ~1 MB chunks cut at line ends."""
        pieces, start = [], 0
        while start < len(text):
            end = min(len(text), start + chunk_chars)
            if end < len(text):
                newline = text.rfind("\n", start, end)
                end = newline + 1 if newline > start else end
            pieces.append(text[start:end])
            start = end
        encoded = self._tok.encode_batch(pieces) if pieces else []
        ids = [np.asarray(e.ids, dtype=np.int64) for e in encoded]
        out = np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)
        return out.astype(token_dtype(self.vocab))

    def decode(self, ids) -> str:
        return self._tok.decode([int(i) for i in ids])

    @property
    def token_bytes(self) -> np.ndarray:
        """UTF-8 bytes per token id (ids the training never created count 0 and never occur)."""
        byte_of = {c: b for b, c in _bytes_to_unicode().items()}
        lengths = np.zeros(self.vocab, dtype=np.int64)
        for token, idx in self._tok.get_vocab().items():
            if idx < self.vocab:
                lengths[idx] = sum(1 for ch in token if ch in byte_of)
        return lengths


def parse_tokenizer(spec: str) -> tuple[str, int]:
    """``("byte", 256)``, ``("bpe", vocab)`` or ``("tokens", vocab)`` from a tokenizer spec."""
    from scalinglab.train.config import tokenizer_vocab

    vocab = tokenizer_vocab(spec)
    return spec.split(":", 1)[0], vocab

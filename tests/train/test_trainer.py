"""The training loop on real text: it learns, it resumes exactly, it reports what it measured."""

import json
import math

import pytest

torch = pytest.importorskip("torch")

from scalinglab.cli import main  # noqa: E402
from scalinglab.core.architecture import FLOP_CONVENTIONS  # noqa: E402
from scalinglab.errors import ScalingLabError  # noqa: E402
from scalinglab.train.config import TrainConfig  # noqa: E402
from scalinglab.train.trainer import learning_rate, train  # noqa: E402

# A tiny byte-level model on the default corpus (python-stdlib), one thread, CPU.
TINY = dict(n_layer=2, d_model=64, n_head=4, ctx=64, batch_size=16, lr=3e-3, warmup_steps=20,
            eval_tokens=8192, device="cpu", threads=1, seed=0)


pytestmark = pytest.mark.usefixtures("module_cache")  # tokenised corpora go to a temporary cache


@pytest.fixture(scope="module")
def learned():
    config = TrainConfig(**TINY, tokens=300 * 16 * 64, eval_every=100)
    return config, train(config)


def test_loss_falls_well_below_unigram_entropy(learned):
    # A model that knew only byte frequencies would score the unigram entropy (~3.25 nats on the
    # stdlib); 300 steps of a 100k-parameter model must learn context: at least 25% below it.
    config, result = learned
    assert result.steps == 300
    assert result.curve[0]["step"] == 0 and result.curve[-1]["step"] == 300
    assert result.curve[0]["loss"] > result.unigram_entropy  # untrained: about ln 256
    assert result.loss < 0.75 * result.unigram_entropy
    # Byte tokens: bits per byte is the loss in bits.
    assert result.bits_per_byte == pytest.approx(result.loss / math.log(2), rel=1e-12)


def test_result_reports_every_key_and_consistent_flops(learned):
    config, result = learned
    out = result.as_dict()
    for key in ("params", "non_embedding_params", "tokens", "flops", "loss", "best_loss", "bits_per_byte",
                "tokens_per_s", "achieved_flops_per_s", "peak_flops_per_s", "mfu", "wall_seconds", "curve"):
        assert key in out, key
    json.dumps(out, allow_nan=False)
    shape = config.shape()
    assert out["params"] == shape.total_params and out["non_embedding_params"] == shape.non_embedding_params
    assert out["tokens"] == 300 * 16 * 64
    for name in FLOP_CONVENTIONS:
        assert out[f"flops_{name}"] == pytest.approx(out["tokens"] * shape.flops_per_token(name))
    assert out["flops"] == out["flops_chinchilla"]
    assert out["achieved_flops_per_s"] == pytest.approx(out["flops"] / result.train_seconds)
    assert out["mfu"] == pytest.approx(out["achieved_flops_per_s"] / out["peak_flops_per_s"])
    point = out["curve"][1]
    assert point["flops"] == pytest.approx(point["tokens"] * shape.flops_per_token("chinchilla"))
    assert "train_loss" in point


class Interrupt(Exception):
    pass


def test_resumed_run_matches_uninterrupted(tmp_path):
    config = TrainConfig(**TINY, tokens=40 * 16 * 64, eval_every=10, checkpoint_every=20, micro_batch_size=8)
    whole = train(config, out_dir=tmp_path / "whole")

    def stop_at_25(event):
        if event["step"] == 25:
            raise Interrupt

    with pytest.raises(Interrupt):
        train(config, out_dir=tmp_path / "cut", progress=stop_at_25)
    resumed = train(config, out_dir=tmp_path / "cut")
    assert resumed.resumed_from_step == 20
    assert resumed.curve == whole.curve  # bitwise: every val and train loss, step 0 to 40
    assert resumed.loss == whole.loss
    a = torch.load(tmp_path / "whole" / "checkpoint.pt", weights_only=False)["model"]
    b = torch.load(tmp_path / "cut" / "checkpoint.pt", weights_only=False)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert json.loads((tmp_path / "cut" / "result.json").read_text())["loss"] == whole.loss
    with pytest.raises(ScalingLabError, match="different run"):
        train(config.replace(seed=1), out_dir=tmp_path / "cut")


def test_learning_rate_schedule():
    # Linear warm-up to lr over warmup_steps, then cosine decay to min_lr_ratio * lr at the last step.
    config = TrainConfig(ctx=128, tokens=101 * 16 * 128, lr=1e-3, warmup_steps=10, min_lr_ratio=0.1)
    assert config.steps == 101
    assert learning_rate(0, config) == pytest.approx(1e-4)
    assert learning_rate(9, config) == pytest.approx(1e-3)
    assert learning_rate(10, config) == pytest.approx(1e-3)
    assert learning_rate(55, config) == pytest.approx(0.5 * (1e-3 + 1e-4))  # half-way: cos = 0
    assert learning_rate(100, config) == pytest.approx(1e-4)


def test_bf16_autocast_trains_on_cpu():
    result = train(TrainConfig(**(TINY | {"dtype": "bf16"}), tokens=20 * 16 * 64, eval_every=0))
    assert result.dtype == "bf16" and result.curve[-1]["step"] == 20
    assert result.loss < result.unigram_entropy + 1.0 and math.isfinite(result.loss)


def test_cli_train_json(capsys):
    code = main(["train", "--layers", "1", "--d-model", "32", "--ctx", "32", "--batch-size", "8",
                 "--tokens", "8k", "--eval-tokens", "1024", "--device", "cpu", "--threads", "1", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    # 8,000 // 256 = 31 steps; d_model 32 without --heads: the shape rule's 2 heads of 16
    assert out["tokens"] == 31 * 8 * 32 and out["config"]["n_head"] == 2
    assert out["loss"] > 0 and out["curve"][-1]["step"] == 31


def test_cli_corpus_lists_default(capsys):
    assert main(["corpus", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["default"] == "python-stdlib"
    assert any(row["name"] == "python-stdlib" and row["available"] for row in out["corpora"])


@pytest.mark.parametrize("args, message", [
    (["--corpus", "{tmp}/missing.txt"], "no such file or folder"),
    (["--corpus", "{tmp}/empty.txt"], "is empty"),
    (["--corpus", "{tmp}/short.txt"], "shorter than one context"),
    (["--layers", "2", "--d-model", "65", "--heads", "4"], "d_model 65 is not divisible by n_head 4"),
    (["--tokens", "100"], "below one batch"),
    (["--params", "2M", "--layers", "2"], "not both"),
])
def test_cli_bad_input_one_line_exit_2(tmp_path, capsys, args, message):
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "short.txt").write_text("too short for a context\n")
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if "--layers" not in args and "--params" not in args:
        args += ["--params", "50k"]
    if "--tokens" not in args:
        args += ["--tokens", "1M"]
    code = main(["train", *args, "--device", "cpu", "--json"])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and err.count("\n") == 1


@pytest.mark.slow
def test_compile_matches_eager_loss():
    base = TrainConfig(**TINY, tokens=10 * 16 * 64, eval_every=0)
    eager = train(base)
    compiled = train(base.replace(compile=True))
    assert compiled.loss == pytest.approx(eager.loss, rel=1e-3)


def test_bpe_run_reports_bits_per_byte_below_bits_per_token(tmp_path):
    # A BPE token stands for >= 1 byte (most for several), so bits/byte < bits/token = loss / ln 2.
    text = "".join(f"def function_{i}(x):\n    return x * {i} + {i % 5}\n\n" for i in range(3000))
    path = tmp_path / "code.txt"
    path.write_text(text)
    config = TrainConfig(**(TINY | {"n_layer": 1, "ctx": 32}), corpus=str(path), tokenizer="bpe:512",
                         tokens=30 * 16 * 32, eval_every=0, val_fraction=0.05)
    result = train(config)
    assert result.params == config.shape(512).total_params
    assert 0 < result.bits_per_byte < result.loss / math.log(2)

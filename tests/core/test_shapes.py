"""The one shape rule (scalinglab.core.shapes): the same size names the same model everywhere.

What is checked and against what:
- the head and aspect rules at their boundaries (head width 16 up to d_model 128, 32 up to 384,
  64 above; aspect 32 below d_model 512, 64 from there), and the floor (d_model 24: one head);
- shape_for_params reads a size as TOTAL parameters and lands within 2x of it; 85M at byte level
  recovers GPT-2 small's blocks (Radford et al. 2019: 12 layers x 768, 12 heads of 64) and
  GPT-2 small's 124M at its own vocabulary and context recovers them too;
- for sizes 20k-50M, ``scalinglab count`` (its default heads), ``train --params`` (the shape
  the CLI would build), a ladder sweep and ``scalinglab.shape_for_params`` agree on
  (n_layer, d_model, n_head) and on the total parameter count;
- bad sizes and widths fail with one clear line.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import scalinglab
from scalinglab.cli import main
from scalinglab.cli.training import build_config, params_shape
from scalinglab.core.shapes import (
    ASPECT_BAND,
    MAX_SIZE_MISS,
    WIDTHS,
    candidate_shapes,
    head_dim_for,
    n_head_for,
    preferred_aspect,
    shape_for_params,
)
from scalinglab.errors import ScalingLabError
from scalinglab.sweep.design import ladder_design

SIZES = [2e4, 5e4, 1e5, 3e5, 1e6, 3e6, 1e7, 2e7, 5e7]


@pytest.mark.parametrize("d_model, heads", [
    (8, 1), (12, 1), (16, 1), (24, 1), (48, 3), (96, 6), (128, 8),  # heads of 16 (24: one of 24)
    (160, 5), (256, 8), (384, 12),                                    # heads of 32
    (512, 8), (768, 12), (4096, 64),                                  # heads of 64 (GPT-2)
])
def test_heads_by_width(d_model, heads):
    assert n_head_for(d_model) == heads
    assert d_model // head_dim_for(d_model) == heads


def test_every_width_has_whole_heads():
    for d in WIDTHS:
        assert d % n_head_for(d) == 0


@pytest.mark.parametrize("bad, message", [
    (100, "d_model 100 is not divisible by the 6 heads of 16"),
    (0, "d_model: must be a positive integer, got 0"),
    (True, "d_model: must be a positive integer"),
])
def test_widths_the_rule_cannot_split_are_refused(bad, message):
    with pytest.raises(ScalingLabError, match=message) as info:
        n_head_for(bad)
    assert "\n" not in str(info.value)


def test_preferred_aspect_and_band():
    assert preferred_aspect(384) == 32.0 and preferred_aspect(512) == 64.0
    for c in candidate_shapes(256, 128):
        ratio = c["d_model"] / c["n_layer"] / preferred_aspect(c["d_model"])
        assert ratio <= ASPECT_BAND[1]
        assert ratio >= ASPECT_BAND[0] or c["n_layer"] == 1
        assert c["params"] == c["shape"].total_params


@pytest.mark.parametrize("size, expected", [
    (5e4, (1, 48, 3)), (1e6, (5, 128, 8)), (1e7, (8, 320, 10)), (85e6, (12, 768, 12)),
])
def test_documented_examples(size, expected):
    shape = shape_for_params(size, vocab=256, ctx=128)
    assert (shape.n_layer, shape.d_model, shape.n_head) == expected


def test_gpt2_small_from_its_total_size():
    # GPT-2 small: 124M parameters (vocab 50257, ctx 1024, tied head, biases).
    shape = shape_for_params("124M", vocab=50257, ctx=1024, bias=True)
    assert (shape.n_layer, shape.d_model, shape.n_head) == (12, 768, 12)
    assert shape.total_params == pytest.approx(124.4e6, rel=0.01)


@pytest.mark.parametrize("size", SIZES)
def test_a_size_is_total_parameters_within_2x(size):
    shape = shape_for_params(size)
    assert 1 / MAX_SIZE_MISS <= shape.total_params / size <= MAX_SIZE_MISS
    # within one width step in practice: the family's sizes are at most ~1.4x apart here
    assert 0.7 < shape.total_params / size < 1.4


@pytest.mark.parametrize("bad, message", [
    (500, "params: no shape of the family is within 2x of 500 parameters"),
    (1e15, "no shape of the family is within 2x"),
    (-1, "params"), (np.nan, "params"), ("abc", "params: cannot read 'abc'"),
])
def test_bad_sizes_are_refused(bad, message):
    with pytest.raises(ScalingLabError, match=message) as info:
        shape_for_params(bad)
    assert "\n" not in str(info.value)


# ----- one rule everywhere ------------------------------------------------------------------------
def _count(capsys, layers: int, d_model: int, vocab: int, ctx: int) -> dict:
    assert main(["count", "--layers", str(layers), "--d-model", str(d_model), "--vocab", str(vocab),
                 "--ctx", str(ctx), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("tokenizer, ctx", [("byte", 128), ("bpe:4096", 256)])
def test_count_train_sweep_and_api_agree(capsys, tokenizer, ctx):
    vocab = 256 if tokenizer == "byte" else 4096
    for size in SIZES:
        api = scalinglab.shape_for_params(size, vocab=vocab, ctx=ctx)
        want = (api.n_layer, api.d_model, api.n_head)
        trained = params_shape(f"{size:g}", tokenizer=tokenizer, ctx=ctx)
        config = build_config(params=f"{size:g}", layers=None, d_model=None, heads=None, kv_heads=None,
                              d_ff=None, ctx=ctx, gated_mlp=False, untied=False, bias=False,
                              tokens="100M", tokenizer=tokenizer)
        ladder = ladder_design([size], multiples=(20,), tokenizer=tokenizer, ctx=ctx, check_corpus=False)
        run = ladder.runs[0].config
        counted = _count(capsys, api.n_layer, api.d_model, vocab, ctx)
        assert (trained.n_layer, trained.d_model, trained.n_head) == want, size
        assert (config.n_layer, config.d_model, config.n_head) == want, size
        assert (run["n_layer"], run["d_model"], run["n_head"]) == want, size
        assert counted["shape"]["n_head"] == api.n_head, size
        assert counted["params"] == ladder.runs[0].params == config.shape().total_params == api.total_params


def test_count_and_train_default_heads_follow_the_rule(capsys):
    assert _count(capsys, 2, 128, 256, 128)["shape"]["n_head"] == 8
    assert _count(capsys, 2, 96, 256, 128)["shape"]["n_head"] == 6  # 96 is no multiple of 64
    config = build_config(params=None, layers=2, d_model=128, heads=None, kv_heads=None, d_ff=None,
                          ctx=128, gated_mlp=False, untied=False, bias=False, tokens="1M",
                          tokenizer="byte")
    assert config.n_head == 8
    assert main(["count", "--layers", "2", "--d-model", "100"]) == 2
    assert "give the number of heads" in capsys.readouterr().err


def test_train_params_counts_its_layout_options():
    # --gated-mlp / --untied / --bias change the total, so the shape for one size may differ,
    # and the trained total stays within 2x of the request.
    for options in ({"gated_mlp": True}, {"untied": True}, {"bias": True}):
        shape = params_shape("1M", tokenizer="byte", ctx=256, **options)
        assert 0.5 <= shape.total_params / 1e6 <= 2
        assert shape.gated_mlp == options.get("gated_mlp", False)
        assert shape.tied_embeddings == (not options.get("untied", False))

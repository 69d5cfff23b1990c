"""TrainConfig: validation with one clear message, JSON round trip, derived step counts."""

import dataclasses
import json

import pytest

from scalinglab.errors import ScalingLabError
from scalinglab.train.config import TrainConfig, tokenizer_vocab


def test_round_trip_and_json():
    config = TrainConfig(n_layer=3, d_model=96, n_head=3, n_kv_head=1, tokens=10_000_000, seed=7,
                         tokenizer="bpe:1024", micro_batch_size=4)
    data = json.loads(json.dumps(config.to_dict()))
    assert data == dataclasses.asdict(config)
    assert TrainConfig.from_dict(data) == config


def test_unknown_key_is_refused():
    with pytest.raises(ScalingLabError, match="unknown training setting"):
        TrainConfig.from_dict({"n_layers": 2})


def test_steps_and_accumulation():
    config = TrainConfig(ctx=128, batch_size=16, micro_batch_size=4, tokens=1_000_000)
    assert config.tokens_per_step == 2048
    assert config.steps == 1_000_000 // 2048
    assert config.trained_tokens == config.steps * 2048
    assert config.grad_accum == 4


def test_shape_uses_tokenizer_vocab():
    assert TrainConfig().shape().vocab == 256
    assert TrainConfig(tokenizer="bpe:4096").shape().vocab == 4096
    assert tokenizer_vocab("tokens:50304") == 50304


@pytest.mark.parametrize("changes, message", [
    ({"d_model": 65, "n_head": 4}, "d_model 65 is not divisible by n_head 4"),
    ({"tokens": 100}, "token budget 100 is below one batch"),
    ({"batch_size": 10, "micro_batch_size": 4}, "not a multiple of micro_batch_size"),
    ({"tokenizer": "bpe:200"}, "above 256"),
    ({"tokenizer": "wordpiece"}, "expected 'byte'"),
    ({"device": "tpu"}, "device 'tpu'"),
    ({"dtype": "fp16"}, "dtype 'fp16'"),
    ({"val_fraction": 0.0}, "val_fraction"),
    ({"lr": float("nan")}, "lr"),
    ({"beta2": 1.0}, "beta2"),
    ({"n_kv_head": 3}, "n_kv_head"),
    ({"threads": 0}, "threads"),
])
def test_bad_settings_raise_one_clear_line(changes, message):
    with pytest.raises(ScalingLabError, match=message) as info:
        TrainConfig(**changes)
    assert "\n" not in str(info.value)


def test_counts_in_any_whole_spelling_are_stored_as_ints():
    # A notebook writes tokens=1e6 or batch_size=np.int64(16); the config stores plain ints, so
    # it serialises to JSON and equals (and hashes to the same run ID as) the int spelling.
    import numpy as np

    from scalinglab.sweep.store import run_id

    spelled = TrainConfig(tokens=1e6, batch_size=np.int64(16), seed=np.int32(3), threads=2.0)
    plain = TrainConfig(tokens=1_000_000, batch_size=16, seed=3, threads=2)
    assert spelled == plain
    assert type(spelled.tokens) is int and type(spelled.batch_size) is int
    assert run_id(spelled.to_dict()) == run_id(plain.to_dict())
    json.dumps(spelled.to_dict())


@pytest.mark.parametrize("changes, message", [
    ({"tokens": 1.5e6 + 0.5}, "tokens: must be a whole number"),
    ({"batch_size": 0}, "batch_size: must be a whole number >= 1, got 0"),
    ({"seed": -1}, "seed: must be a whole number >= 0, got -1"),
    ({"eval_every": True}, "eval_every: must be a whole number, got True"),
    ({"micro_batch_size": 2.5}, "micro_batch_size: must be a whole number"),
])
def test_fractional_negative_or_boolean_counts_are_refused(changes, message):
    with pytest.raises(ScalingLabError, match=message):
        TrainConfig(**changes)

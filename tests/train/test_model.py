"""The training model matches the accounting core, and the seed's KaplanTransformer API works.

The parameter layout is documented at the top of ``scalinglab/core/architecture.py``; here the
real tensors are counted (``sum(p.numel())``) and compared with ``TransformerShape`` over a grid
of shapes that exercises every switch (GQA, d_ff, gated MLP, tied/untied head, biases).
"""

import itertools
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")

from scalinglab.core.architecture import TransformerShape  # noqa: E402
from scalinglab.errors import ScalingLabError  # noqa: E402
from scalinglab.train.model import GPT, KaplanTransformer  # noqa: E402

GRID = [g for g in itertools.product(
    [1, 3],            # n_layer
    [(48, 4), (64, 1), (64, 8)],  # (d_model, n_head)
    [None, 1, 2],      # n_kv_head
    [None, 40],        # d_ff
    [False, True],     # gated_mlp
    [False, True],     # tied_embeddings
    [False, True],     # bias
) if g[2] is None or g[1][1] % g[2] == 0]  # n_kv_head must divide n_head


@pytest.mark.parametrize("n_layer,dh,kv,d_ff,gated,tied,bias", GRID)
def test_parameter_count_equals_accounting_core(n_layer, dh, kv, d_ff, gated, tied, bias):
    d_model, n_head = dh
    shape = TransformerShape(n_layer=n_layer, d_model=d_model, n_head=n_head, n_kv_head=kv, d_ff=d_ff,
                             vocab=97, ctx=19, gated_mlp=gated, tied_embeddings=tied, bias=bias)
    model = GPT(shape)
    assert sum(p.numel() for p in model.parameters()) == shape.total_params
    assert model.count_parameters("non_embedding") == shape.non_embedding_params
    assert model.count_parameters("Kaplan") == shape.kaplan_params


def test_kaplan_transformer_seed_api_is_12_l_d_squared():
    # Kaplan et al. 2020 §2.1 / Table 1: N = 2·d_model·n_layer·(2·d_attn + d_ff), which is exactly
    # 12·n_layer·d_model² for d_attn = d_model and d_ff = 4·d_model (the seed notebook's check).
    for d_model, n_layers in [(128, 2), (256, 4)]:
        model = KaplanTransformer(vocab_size=100, d_model=d_model, n_heads=4, n_layers=n_layers)
        assert model.count_parameters(mode="Kaplan") == 12 * n_layers * d_model**2
        emb = 100 * d_model + 1024 * d_model  # tied token embedding + learned positions (ctx 1024)
        assert model.count_parameters(mode="total") == model.count_parameters(mode="non_embedding") + emb
    with pytest.raises(ScalingLabError, match="mode"):
        model.count_parameters(mode="everything")


def test_attention_is_causal_and_gqa_runs():
    shape = TransformerShape(n_layer=2, d_model=32, n_head=4, n_kv_head=2, vocab=50, ctx=16, gated_mlp=True)
    torch.manual_seed(0)
    model = GPT(shape).eval()
    x = torch.randint(0, 50, (2, 16))
    y = x.clone()
    y[:, 10:] = (y[:, 10:] + 7) % 50  # change only the future of position 9
    with torch.no_grad():
        a, _ = model(x)
        b, _ = model(y)
    assert torch.equal(a[:, :10], b[:, :10])
    assert not torch.allclose(a[:, 10:], b[:, 10:])


def test_initial_loss_is_near_uniform():
    # A freshly initialised model predicts almost uniformly: loss ≈ ln(vocab) (std-0.02 init).
    shape = TransformerShape(n_layer=2, d_model=64, n_head=4, vocab=256, ctx=32)
    torch.manual_seed(0)
    x = torch.randint(0, 256, (4, 32))
    y = torch.randint(0, 256, (4, 32))  # independent of x (a tied head favours repeating x)
    _, loss = GPT(shape)(x, y)
    assert loss.item() == pytest.approx(torch.log(torch.tensor(256.0)).item(), rel=0.02)


def test_sequence_longer_than_context_is_refused():
    model = GPT(TransformerShape(n_layer=1, d_model=32, n_head=1, vocab=10, ctx=8))
    with pytest.raises(ScalingLabError, match="longer than the context"):
        model(torch.zeros(1, 9, dtype=torch.long))


def test_training_config_imports_no_torch():
    # The sweep builds TrainConfigs in processes that must not pay for torch.
    code = ("import sys, scalinglab.train, scalinglab.train.config, scalinglab.core.shapes, "
            "scalinglab.sweep.design, scalinglab.train.corpora; assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)

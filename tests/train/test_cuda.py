"""The CUDA path of the trainer: bf16 autocast, fused AdamW, the catalog peak, resume.

Skipped where no CUDA GPU is visible (CI has none). A session lent a GPU runs them with
``PYTHONPATH=src python3 -m pytest -q tests/train/test_cuda.py`` (see benchmarks/results/train.md).
"""

import math

import pytest

torch = pytest.importorskip("torch")

if not torch.cuda.is_available():
    pytest.skip("no CUDA GPU visible", allow_module_level=True)

from scalinglab.train.config import TrainConfig  # noqa: E402
from scalinglab.train.model import GPT  # noqa: E402
from scalinglab.train.peak import catalog_name, device_peak  # noqa: E402
from scalinglab.train.trainer import train  # noqa: E402

TINY = dict(n_layer=2, d_model=64, n_head=4, ctx=64, batch_size=16, lr=3e-3, warmup_steps=20,
            eval_tokens=8192, device="cuda", seed=0)


pytestmark = pytest.mark.usefixtures("module_cache")  # tokenised corpora go to a temporary cache


@pytest.mark.parametrize("dtype", ["fp32", "bf16"])
def test_cuda_run_learns_and_reports_mfu(dtype):
    result = train(TrainConfig(**TINY, dtype=dtype, tokens=300 * 16 * 64, eval_every=100))
    assert result.device == "cuda" and result.dtype == dtype
    assert result.loss < 0.75 * result.unigram_entropy
    assert math.isfinite(result.tokens_per_s) and result.tokens_per_s > 0
    name = torch.cuda.get_device_name()
    if catalog_name(name) is None:
        assert result.mfu is None and "not in the hardware catalog" in result.peak_source
    else:
        # The catalog's dense peak of the run's dtype (fp32 runs use TF32 tensor cores).
        expected = device_peak("cuda", dtype).flops_per_s
        assert result.peak_flops_per_s == expected
        assert 0 < result.mfu < 1
        assert result.mfu == pytest.approx(result.achieved_flops_per_s / expected)


def test_cuda_model_matches_accounting_and_cpu_forward():
    config = TrainConfig(**TINY, tokens=16 * 64)
    shape = config.shape(256)
    torch.manual_seed(0)
    cpu_model = GPT(shape)
    gpu_model = GPT(shape).cuda()
    gpu_model.load_state_dict(cpu_model.state_dict())
    assert sum(p.numel() for p in gpu_model.parameters()) == shape.total_params
    idx = torch.randint(0, 256, (2, 64))
    cpu_logits, _ = cpu_model(idx)
    gpu_logits, _ = gpu_model(idx.cuda())
    # Same weights, same input: fp32 on the GPU agrees with the CPU to TF32-level error at most.
    assert torch.allclose(gpu_logits.cpu(), cpu_logits, atol=2e-2, rtol=2e-2)


def test_cuda_resume_continues_the_run(tmp_path):
    config = TrainConfig(**TINY, dtype="bf16", tokens=60 * 16 * 64, eval_every=20, checkpoint_every=20)
    whole = train(config, out_dir=tmp_path / "whole")
    # Stop after 40 steps (a shorter run of the same schedule cannot resume, so cut the loop by a
    # progress callback that raises), then resume from the step-40 checkpoint.

    class Stop(Exception):
        pass

    def stop_at_41(event):
        if event.get("step") == 41 and "val_loss" not in event:
            raise Stop

    with pytest.raises(Stop):
        train(config, out_dir=tmp_path / "cut", progress=stop_at_41)
    resumed = train(config, out_dir=tmp_path / "cut")
    assert resumed.resumed_from_step == 40
    assert [p["step"] for p in resumed.curve] == [p["step"] for p in whole.curve]
    # GPU kernels are not bitwise deterministic; the resumed run must land on the same loss closely.
    assert resumed.loss == pytest.approx(whole.loss, abs=0.05)

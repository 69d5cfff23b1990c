"""``EmergentAbilitiesTracker``, ``DataScalingPlanner``, ``EfficiencyComparator``: the seed
document's classes (its §3–5), answering with published data and laws.

What the seed had, and what these façades use instead:

- **Emergence.** The seed invented five thresholds (few-shot at 10B, chain-of-thought at 60B,
  "multilingual" at 1B, ...). Here the abilities are the 22 quantified rows of Wei et al. 2022
  Table 1 (:mod:`scalinglab.laws.emergence`), each with its training FLOPs, model size and family;
  the 23rd row ("many BIG-Bench tasks") has no single threshold and is reported separately.
- **Data.** The seed used a fixed 20 tokens/param and unsourced corpus sizes (CommonCrawl 250T,
  C4 150T, Books 10T, GitHub 5T, Wikipedia 3T, ArXiv 2T). Here the optimal tokens come from the
  chosen law's frontier and the corpora from :mod:`scalinglab.plan.data` (C4 is 156B tokens, not
  150T; no public book corpus is near 10T).
- **Efficiency.** The seed made an MoE "4x the parameters" and INT8 "2x cheaper in FLOPs". Here an
  MoE with expansion rate E holds active·(1 + (E − 1)·2/3) parameters and its loss comes from
  Ludziejewski et al. 2025's joint law; quantization does not change FLOPs per token (2N) but cuts
  weight bytes, hence the bandwidth-bound decode time.

Numbers may be given as in the rest of scalinglab (``70e9`` or ``"70B"``); negatives, NaN,
booleans and garbage raise :class:`~scalinglab.errors.ScalingLabError`.
"""

from __future__ import annotations

import warnings

from scalinglab.core.hardware import get_accelerator
from scalinglab.core.numbers import parse_number
from scalinglab.core.units import FLOP_PER_PARAM_TOKEN
from scalinglab.errors import ScalingLabError
from scalinglab.laws.data_constrained import MUENNIGHOFF_2023
from scalinglab.laws.emergence import SCHAEFFER_CAVEAT, wei_table
from scalinglab.laws.emergence import SOURCE as WEI_SOURCE
from scalinglab.laws.moe import LUDZIEJEWSKI_2025, total_params
from scalinglab.laws.precision import weight_memory_bytes
from scalinglab.laws.registry import get_law
from scalinglab.plan.data import get_corpus, optimal_tokens_for_params


class EmergentAbilitiesTracker:
    """Which of Wei et al. 2022's emergent abilities a model of a given size has reached.

    ``abilities`` maps each ability name to ``{'threshold': params, 'flops': FLOPs, 'model':
    family, 'group': 'few-shot'|'augmented', 'emerged': bool}``, as in the seed, with real values.
    """

    source = WEI_SOURCE
    caveat = SCHAEFFER_CAVEAT

    def __init__(self):
        self.abilities = {
            row.ability: {"threshold": row.params, "flops": row.flops, "model": row.model,
                          "group": row.group, "emerged": False}
            for row in wei_table() if row.params is not None
        }
        self.unquantified = [row.ability for row in wei_table() if row.params is None]

    def check_abilities(self, num_params, compute=None):
        """Abilities whose emergence scale is at or below ``num_params`` parameters.

        With ``compute`` (training FLOPs) the comparison uses the FLOPs threshold instead, the
        table's primary axis. Marks ``emerged`` in :attr:`abilities` and returns the names,
        smallest threshold first.
        """
        key, scale, name = (("flops", compute, "compute") if compute is not None
                            else ("threshold", num_params, "num_params"))
        value = parse_number(scale, name=name)
        emerged = []
        for ability, info in sorted(self.abilities.items(), key=lambda kv: kv[1][key]):
            info["emerged"] = info[key] <= value
            if info["emerged"]:
                emerged.append(ability)
        return emerged

    def plot_emergence(self, path=None):
        """Horizontal bars of the parameter thresholds (log scale); saved to ``path`` if given.

        Returns the matplotlib figure. ``plt.show()`` is called only on an interactive backend.
        """
        import matplotlib

        if path is not None:
            matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        items = sorted(self.abilities.items(), key=lambda kv: kv[1]["threshold"])
        names = [f"{a} ({i['model']})" for a, i in items]
        thresholds = [i["threshold"] / 1e9 for _, i in items]
        fig, ax = plt.subplots(figsize=(10, 7))
        ax.barh(names, thresholds, color=["tab:blue" if i["group"] == "few-shot" else "tab:orange"
                                          for _, i in items])
        ax.set_xlabel("Model size at emergence (billions of parameters)")
        ax.set_xscale("log")
        ax.set_title("Emergent abilities: Wei et al. 2022 Table 1 (blue few-shot, orange augmented)")
        ax.tick_params(axis="y", labelsize=7)
        fig.tight_layout()
        if path is not None:
            fig.savefig(path, dpi=120)
        elif matplotlib.get_backend().lower() not in {"agg", "pdf", "svg", "ps", "cairo", "template"}:
            plt.show()
        return fig


class DataShortageWarning(UserWarning):
    """More training tokens were asked for than the public corpora hold: data must repeat.

    Raised as a warning by :meth:`DataScalingPlanner.data_sources_needed`; silence it with
    ``warnings.simplefilter("ignore", DataShortageWarning)`` or turn it into an error with
    ``"error"``.
    """


class DataScalingPlanner:
    """Training tokens by regime and the real corpora that could supply them.

    Parameters
    ----------
    law : str
        Law preset whose compute-optimal frontier defines "optimal" (default ``'chinchilla'``,
        i.e. Hoffmann et al. 2022 rounded, as in the seed's ``ScalingLawPredictor``).
    """

    #: Tokens per parameter of Chinchilla itself (70B on 1.4T; Hoffmann et al. 2022) [P]. The
    #: seed used it as "the" optimum; here it is only the ``'chinchilla_20'`` regime.
    chinchilla_ratio = 20.0
    #: GPT-3 175B on 300B tokens (Brown et al. 2020) [P]: the "under-trained" regime.
    gpt3_ratio = 300e9 / 175e9

    #: Non-overlapping sources for a mix (C4 is a subset of CommonCrawl, so FineWeb stands for web).
    mix_sources = ("fineweb", "the-stack-v2", "books", "wikipedia-en", "arxiv")

    def __init__(self, law: str = "chinchilla"):
        self.law = get_law(law)

    def required_tokens(self, num_params, training_regime="optimal", multiple=2.0):
        """Training tokens for ``num_params`` parameters.

        ``training_regime``: ``'optimal'`` (the law's compute-optimal tokens for this size),
        ``'over_train'`` (``multiple`` × optimal; the seed's 2×), ``'under_train'`` (GPT-3's 1.71
        tokens/param) or ``'chinchilla_20'`` (20 tokens/param).
        """
        regimes = ("optimal", "over_train", "under_train", "chinchilla_20")
        if training_regime not in regimes:
            raise ScalingLabError(
                f"unknown training_regime {training_regime!r}; use optimal, over_train, under_train "
                "or chinchilla_20")
        n = parse_number(num_params, name="num_params")
        if training_regime == "optimal":
            return optimal_tokens_for_params(n, self.law)["tokens"]
        if training_regime == "over_train":
            return parse_number(multiple, name="multiple") * optimal_tokens_for_params(n, self.law)["tokens"]
        if training_regime == "under_train":
            return self.gpt3_ratio * n
        return self.chinchilla_ratio * n

    def data_sources_needed(self, total_tokens):
        """A proportional mix over real, non-overlapping public corpora (tokens per source).

        Warns (:class:`DataShortageWarning`, through :mod:`warnings`, so it can be filtered or
        turned into an error) when the request exceeds what the sources hold, with the epochs that
        would be needed and what repeated tokens are worth (Muennighoff et al. 2023). The seed
        printed it to stdout, where it mixed with the caller's own output.
        """
        total = parse_number(total_tokens, name="total_tokens")
        sources = {get_corpus(k).name: get_corpus(k).tokens for k in self.mix_sources}
        available = sum(sources.values())
        if total > available:
            epochs = total / available
            value = float(MUENNIGHOFF_2023.repeated_data_value(epochs))
            warnings.warn(
                f"need {total / 1e12:.1f}T tokens but only {available / 1e12:.2f}T unique tokens in "
                f"these public corpora: {epochs:.1f} epochs, each repeated token worth {value:.0%} "
                f"of a new one (Muennighoff et al. 2023)",
                DataShortageWarning, stacklevel=2)
        return {name: min(avail, total * avail / available) for name, avail in sources.items()}


class EfficiencyComparator:
    """Dense vs MoE vs quantized for one (active parameters, tokens) pair.

    MoE losses come from Ludziejewski et al. 2025's joint law (same active parameters and tokens,
    expansion rate ``experts``); quantized serving changes bytes, not FLOPs.
    """

    source = LUDZIEJEWSKI_2025.source

    def __init__(self, experts: float = 8.0, quantized_bits: float = 8.0, gpu: str = "H100"):
        self.experts = parse_number(experts, name="experts")
        if self.experts < 1:
            raise ScalingLabError(f"experts: the expansion rate must be at least 1, got {experts!r}")
        self.quantized_bits = parse_number(quantized_bits, name="quantized_bits")
        if self.quantized_bits > 64:
            raise ScalingLabError(f"quantized_bits: must be in (0, 64], got {quantized_bits!r}")
        get_accelerator(gpu)  # an unknown name fails here, not at the first comparison
        self.gpu = gpu

    def _serve(self, params_read, bits):
        acc = get_accelerator(self.gpu)
        return float(weight_memory_bytes(params_read, bits)) / acc.bandwidth_bytes_per_s * 1e3

    def compare_approaches(self, base_params=70e9, base_tokens=1.4e12):
        """Each approach as the seed's dict (``params``, ``active_params``, ``tokens``,
        ``compute``, ``inference_cost``) plus ``loss``, ``weight_bytes`` and
        ``decode_ms_per_token`` (batch 1, one GPU's bandwidth, weights only)."""
        n = parse_number(base_params, name="base_params")
        d = parse_number(base_tokens, name="base_tokens")
        compute = FLOP_PER_PARAM_TOKEN * n * d
        moe_total = float(total_params(n, self.experts))
        approaches = {
            "Dense": {"params": n, "active_params": n, "tokens": d, "compute": compute,
                      "inference_cost": 2.0 * n,
                      "loss": float(LUDZIEJEWSKI_2025.predict(n, d, 1.0)),
                      "weight_bytes": float(weight_memory_bytes(n, 16)),
                      "decode_ms_per_token": self._serve(n, 16)},
            f"MoE (E={self.experts:g})": {
                "params": moe_total, "active_params": n, "tokens": d, "compute": compute,
                "inference_cost": 2.0 * n,
                "loss": float(LUDZIEJEWSKI_2025.predict(n, d, self.experts)),
                "weight_bytes": float(weight_memory_bytes(moe_total, 16)),
                "decode_ms_per_token": self._serve(n, 16)},
            f"Quantized (INT{self.quantized_bits:g})": {
                "params": n, "active_params": n, "tokens": d, "compute": compute,
                "inference_cost": 2.0 * n,
                "loss": float(LUDZIEJEWSKI_2025.predict(n, d, 1.0)),
                "weight_bytes": float(weight_memory_bytes(n, self.quantized_bits)),
                "decode_ms_per_token": self._serve(n, self.quantized_bits)},
        }
        return approaches

    def print_comparison(self, approaches):
        """Print the comparison table (the seed's columns plus loss, memory and decode time)."""
        print(f"{'Approach':<18} {'Total Params':<14} {'Active Params':<15} "
              f"{'Training Compute':<18} {'Inference FLOPs/tok':<20} {'Loss':<8} "
              f"{'Weights GB':<11} {'Decode ms/tok':<13}")
        print("-" * 123)
        for name, m in approaches.items():
            print(f"{name:<18} {m['params'] / 1e9:<14.1f} {m['active_params'] / 1e9:<15.1f} "
                  f"{m['compute']:<18.3e} {m['inference_cost']:<20.3e} {m['loss']:<8.4f} "
                  f"{m['weight_bytes'] / 1e9:<11.1f} {m['decode_ms_per_token']:<13.2f}")
        print(f"Loss: {self.source}. Total MoE params = active x (1 + (E-1) x 2/3). "
              f"Decode: weights / {self.gpu} bandwidth, batch 1 (quantized loss excludes the "
              "PTQ penalty, whose constants are unpublished).")

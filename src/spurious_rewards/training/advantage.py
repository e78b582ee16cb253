"""The paper's second advantage normalisation (token-weighted whitening over the whole rollout), and
the mean probability of the sampled tokens per rollout (`train.log_token_probability`, paper Fig. 12).

The paper's OpenRLHF GRPO first normalises rewards per prompt group, (r - mean_g) / (std_g + 1e-9)
with the unbiased std, which TRL's `scale_rewards: group` also does (eps 1e-4). OpenRLHF then puts every
experience of the rollout into its replay buffer, broadcasts each sequence's advantage to all of its
action tokens, and whitens the advantages once more over ALL action tokens of the rollout, across data
parallel ranks (ReplayBuffer.normalize, called by the PPO trainer before every policy update):

    mean = sum_i L_i a_i / sum_i L_i
    var  = sum_i L_i (a_i - mean)^2 / sum_i L_i            (population variance, not n - 1)
    a_i <- (a_i - mean) / sqrt(max(var, 1e-8))

where L_i is the number of completion tokens of sequence i. Long completions weigh more. The mean shift
gives the tokens of all-equal groups (advantage 0 after group normalisation) a non-zero advantage, and
the rescaling changes the magnitude that the PPO clip acts on, which is why the paper preset turns it on
(`train.advantage_whitening: token`).

TRL 1.16 has no such option; `PipelineGRPOTrainer` adds it by post-processing the output of
GRPOTrainer._generate_and_score_completions, the one place where TRL computes the advantages of a
generation batch (= one rollout step here, see grpo_config.py). Each process holds its own slice of the
rollout, so the sums are all-reduced: the statistics are those of the whole rollout, as in OpenRLHF.
Departure: TRL's completion mask counts tokens up to and including the first EOS, OpenRLHF counts the
vLLM output tokens (which include the EOS or the stop string); the same tokens in practice.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

WHITENING_MODES = ("none", "token")
# OpenRLHF clamps the variance, not the std, at this floor before the reciprocal square root.
VAR_FLOOR = 1e-8

Reduce = Callable[[torch.Tensor], torch.Tensor]


def _identity(t: torch.Tensor) -> torch.Tensor:
    return t


def token_whiten(advantages: torch.Tensor, lengths: torch.Tensor, reduce_sum: Reduce = _identity
                 ) -> tuple[torch.Tensor, float, float]:
    """(whitened advantages, token mean, token std) of this process's sequences.

    `advantages` holds one value per sequence, `lengths` its number of completion tokens; `reduce_sum`
    sums a tensor over all processes (identity for one process), so mean and variance are those of
    every token of the rollout. Two passes (mean, then squared deviations), as OpenRLHF does.
    """
    adv = advantages.detach().to(torch.float64)
    weights = lengths.detach().to(torch.float64)
    totals = reduce_sum(torch.stack([(adv * weights).sum(), weights.sum()]))
    count = totals[1]
    if count <= 0:  # no completion token anywhere: nothing to whiten
        return advantages, 0.0, 0.0
    mean = totals[0] / count
    var = reduce_sum(((adv - mean) ** 2 * weights).sum()) / count
    whitened = (adv - mean) * var.clamp(min=VAR_FLOOR).rsqrt()
    return whitened.to(advantages.dtype), float(mean), float(var.sqrt())


def token_probability(logps: torch.Tensor, mask: torch.Tensor, reduce_sum: Reduce = _identity) -> float:
    """Mean probability of the sampled tokens, exp(log p), over every completion token of the rollout.

    The paper's Fig. 12 quantity: clipped GRPO under random rewards is said to raise it (probability
    concentrates on what the model already prefers). `logps` (sequences x tokens) are the sampling
    policy's log-probabilities of the tokens it sampled, `mask` marks the completion tokens; the sums are
    all-reduced with `reduce_sum`, so the mean is over the whole rollout. nan when there is no token.
    """
    weights = mask.detach().to(torch.float64)
    probs = logps.detach().to(torch.float64).exp() * weights
    totals = reduce_sum(torch.stack([probs.sum(), weights.sum()]))
    return float(totals[0] / totals[1]) if totals[1] > 0 else float("nan")


# The TRL log key of token_probability (CSV column token_probability_mean, training/metrics.py).
TOKEN_PROBABILITY = "token_probability/mean"


def trainer_class(mode: str, log_token_probability: bool = False):
    """The GRPOTrainer class of `train.advantage_whitening` and `train.log_token_probability`."""
    from trl import GRPOTrainer

    if mode not in WHITENING_MODES:
        raise ValueError(f"unknown advantage_whitening {mode!r} ({' | '.join(WHITENING_MODES)})")
    if mode == "none" and not log_token_probability:
        return GRPOTrainer
    return _subclass(mode == "token", log_token_probability)


_CLASSES: dict = {}


def _subclass(whiten: bool, log_token_probability: bool):
    """GRPOTrainer with the rollout-wide token whitening and/or the sampled-token probability metric
    (built lazily: importing TRL is slow; one class per combination)."""
    key = (whiten, log_token_probability)
    if key in _CLASSES:
        return _CLASSES[key]
    from trl import GRPOTrainer

    class PipelineGRPOTrainer(GRPOTrainer):
        """GRPOTrainer whose rollout output is post-processed here (module doc)."""

        def _generate_and_score_completions(self, inputs):
            output = super()._generate_and_score_completions(inputs)
            if not self.model.training:
                return output
            mask = output["completion_mask"]
            if output.get("tool_mask") is not None:
                mask = mask * output["tool_mask"]
            device = output["advantages"].device

            def reduce_sum(t: torch.Tensor) -> torch.Tensor:
                # float64 all-reduce: NCCL supports it, and sums of ~3M token weights stay exact
                return self.accelerator.reduce(t.to(device), reduction="sum")

            if log_token_probability:
                self._metrics["train"][TOKEN_PROBABILITY].append(
                    token_probability(self._sampled_logps(output), mask, reduce_sum))
            if whiten:
                whitened, mean, std = token_whiten(output["advantages"], mask.sum(dim=1), reduce_sum)
                output["advantages"] = whitened
                self._metrics["train"]["advantage_whitening/token_mean"].append(mean)
                self._metrics["train"]["advantage_whitening/token_std"].append(std)
            return output

        def _sampled_logps(self, output) -> torch.Tensor:
            """Log-probabilities of the sampled tokens under the rollout policy. TRL already computes
            them (old_per_token_logps) when a rollout feeds several updates; with one update per
            rollout it skips them, so one extra no-grad forward pass computes them here."""
            logps = output.get("old_per_token_logps")
            if logps is not None:
                return logps
            ids = torch.cat([output["prompt_ids"], output["completion_ids"]], dim=1)
            attention = torch.cat([output["prompt_mask"], output["completion_mask"]], dim=1)
            with torch.no_grad():
                logps, _, _ = self._get_per_token_logps_and_entropies(
                    self.model, ids, attention, output["completion_ids"].size(1),
                    batch_size=self.args.per_device_train_batch_size)
            return logps

    _CLASSES[key] = PipelineGRPOTrainer
    return PipelineGRPOTrainer

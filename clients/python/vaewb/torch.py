"""The workbench's evaluation of a VAE, in PyTorch, for any model with encode(x) -> (mu, logvar) and
decode(z) -> logits (bernoulli) or the mean (gaussian). The same definitions as src-main/vae/evaluate.ts,
estimators.ts and diagnostics.ts (README, "What the numbers mean"), all in nats per example, lower is better:

  test/loss            -ELBO over every example: test/recon + test/kl
  test/recon           -E_q[log p(x|z)], `samples` reparameterized draws per example (the workbench: 1)
  test/kl              KL(q(z|x) || N(0, I)), closed form
  test/klPerDim        that KL per latent dimension, averaged over the data
  test/activeUnits     dimensions whose average KL exceeds 0.01 nats
  test/activeUnitsCov  Burda et al.: dimensions u with Cov_x(E_q[z_u|x]) > 0.01 over the first 2,000 examples
  test/nll             -log p(x) by importance sampling, k samples on the first `nll_examples` examples (0 = all):
                       -mean_x log (1/k) sum_s w_s,  w_s = p(x|z_s) p(z_s) / q(z_s|x)
  test/inferenceGap    -mean_x mean_s log w_s  minus test/nll, from the same k samples (never negative)
"""
import math

import torch
import torch.nn.functional as F

ACTIVE_UNIT_THRESHOLD = 0.01
BURDA_ACTIVE_THRESHOLD = 0.01
DIAGNOSTIC_EXAMPLES = 2000
LOG_2PI = math.log(2 * math.pi)


def _batches(loader):
    for batch in loader:
        x = batch[0] if isinstance(batch, (list, tuple)) else batch
        yield x.reshape(x.shape[0], -1).float()


def log_likelihood(x, out, likelihood, sigma):
    """log p(x|z) per row: out holds logits (bernoulli) or the mean (gaussian, fixed sigma)."""
    if likelihood == "bernoulli":
        return -F.binary_cross_entropy_with_logits(out, x.expand_as(out), reduction="none").sum(-1)
    if likelihood == "gaussian":
        if sigma is None:
            raise ValueError("evaluate: likelihood='gaussian' needs sigma (the decoder's fixed standard deviation)")
        return (-0.5 * (((x - out) / sigma) ** 2) - math.log(sigma) - 0.5 * LOG_2PI).sum(-1)
    raise ValueError("evaluate: likelihood is 'bernoulli' or 'gaussian', not %r" % (likelihood,))


def _log_weights(model, x, k, likelihood, sigma, chunk_rows):
    """log w [k, n] for a batch x [n, d], decoding at most chunk_rows rows at once."""
    mu, logvar = model.encode(x)
    n, D = mu.shape
    std = torch.exp(0.5 * logvar)
    per = max(1, chunk_rows // max(1, n))
    parts = []
    for s0 in range(0, k, per):
        kc = min(per, k - s0)
        eps = torch.randn(kc, n, D)
        z = mu + std * eps
        log_px = log_likelihood(x, model.decode(z.reshape(kc * n, D)).reshape(kc, n, -1), likelihood, sigma)
        log_pz = -0.5 * (z.pow(2) + LOG_2PI).sum(-1)
        log_qz = -0.5 * (eps.pow(2).sum(-1) + logvar.sum(-1) + D * LOG_2PI)
        parts.append(log_px + log_pz - log_qz)
    return torch.cat(parts, 0)


@torch.no_grad()
def evaluate(model, loader, likelihood="bernoulli", k=100, nll_examples=1000, samples=1, sigma=None, seed=0,
             run=None, step=None, epoch=None, chunk_rows=8192):
    """Evaluate as the workbench does; log the figures to `run` (a vaewb Run) when given. Returns a dict of them."""
    was_training = model.training
    model.eval()
    gen_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        n = 0
        recon_sum = 0.0
        kl_sum = 0.0
        kl_dim = None
        means = []
        nll_sum = 0.0
        nll_elbo_sum = 0.0
        nll_n = 0
        limit = nll_examples if nll_examples and nll_examples > 0 else None
        for x in _batches(loader):
            mu, logvar = model.encode(x)
            kld = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar)
            L = max(1, samples)
            std = torch.exp(0.5 * logvar)
            rec = 0.0
            for _ in range(L):
                z = mu + std * torch.randn_like(std)
                rec = rec - log_likelihood(x, model.decode(z), likelihood, sigma)
            recon_sum += float((rec / L).double().sum())
            kl_sum += float(kld.double().sum())
            kl_dim = kld.double().sum(0) if kl_dim is None else kl_dim + kld.double().sum(0)
            if sum(m.shape[0] for m in means) < DIAGNOSTIC_EXAMPLES:
                means.append(mu.double())
            n += x.shape[0]
            if k > 0 and (limit is None or nll_n < limit):
                take = x.shape[0] if limit is None else min(x.shape[0], limit - nll_n)
                logw = _log_weights(model, x[:take], k, likelihood, sigma, chunk_rows).double()
                nll_sum += float(-(torch.logsumexp(logw, 0) - math.log(k)).sum())
                nll_elbo_sum += float(-logw.mean(0).sum())
                nll_n += take
        if n == 0:
            raise ValueError("evaluate: the loader gave no examples")
        kl_per_dim = (kl_dim / n).tolist()
        m = torch.cat(means, 0)[:DIAGNOSTIC_EXAMPLES]
        cov_units = int((m.var(0, unbiased=True) > BURDA_ACTIVE_THRESHOLD).sum()) if m.shape[0] > 1 else 0
        result = {
            "test/loss": (recon_sum + kl_sum) / n,
            "test/recon": recon_sum / n,
            "test/kl": kl_sum / n,
            "test/klPerDim": kl_per_dim,
            "test/activeUnits": sum(1 for v in kl_per_dim if v > ACTIVE_UNIT_THRESHOLD),
            "test/activeUnitsCov": cov_units,
        }
        if nll_n:
            result["test/nll"] = nll_sum / nll_n
            result["test/inferenceGap"] = nll_elbo_sum / nll_n - nll_sum / nll_n
        if run is not None:
            run.log(result, step=step, epoch=epoch)
        return result
    finally:
        torch.random.set_rng_state(gen_state)
        model.train(was_training)

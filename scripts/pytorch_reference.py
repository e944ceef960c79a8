#!/usr/bin/env python3
"""The reference model in PyTorch, for `npm run bench` (src-main/bench/pytorch-reference.ts runs it).

The same model, data and evaluation as the workbench's reference experiment (the pytorch-examples preset):
MLP VAE 784-400-20 (fc 400 ReLU, latent 20, Bernoulli decoder on logits), analytic KL, Adam 1e-3, batch 128,
on the very digits the workbench trains on (the bench writes them as raw float32 files). Two modes:

  throughput  --threads T --steps S      training samples/s over S steps after 10 warm-up steps
  result      --threads T --epochs E     the whole experiment: E epochs, the test ELBO after each, then the
                                         importance-weighted -log p(x) with k = 200 on every test digit

It prints one JSON line. It lives in scripts/ (not src-main/): it is Python, the app never ships or runs it,
and only the bench calls it, with /usr/bin/python3 (Debian's python3-torch).
"""
import argparse
import json
import math
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

D, H, Z = 784, 400, 20


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(D, H)
        self.fc21 = nn.Linear(H, Z)
        self.fc22 = nn.Linear(H, Z)
        self.fc3 = nn.Linear(Z, H)
        self.fc4 = nn.Linear(H, D)

    def encode(self, x):
        h = F.relu(self.fc1(x))
        return self.fc21(h), self.fc22(h)

    def decode_logits(self, z):
        return self.fc4(F.relu(self.fc3(z)))

    def loss(self, x):
        """-ELBO summed over the batch (nats): Bernoulli reconstruction from logits + analytic KL."""
        mu, logvar = self.encode(x)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        rec = F.binary_cross_entropy_with_logits(self.decode_logits(z), x, reduction="sum")
        kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        return rec + kld


def load(path, n):
    return torch.from_numpy(np.fromfile(path, dtype=np.float32).reshape(n, D))


def train_steps(model, opt, train, steps, batch, gen):
    n = train.shape[0]
    order = torch.randperm(n, generator=gen)
    at = 0
    for _ in range(steps):
        if at + batch > n:
            order = torch.randperm(n, generator=gen)
            at = 0
        x = train[order[at : at + batch]]
        at += batch
        opt.zero_grad(set_to_none=True)
        model.loss(x).backward()
        opt.step()


def epoch(model, opt, train, batch, gen):
    order = torch.randperm(train.shape[0], generator=gen)
    for at in range(0, train.shape[0], batch):
        x = train[order[at : at + batch]]
        opt.zero_grad(set_to_none=True)
        model.loss(x).backward()
        opt.step()


@torch.no_grad()
def test_elbo_loss(model, test, batch=500):
    total = 0.0
    for at in range(0, test.shape[0], batch):
        total += model.loss(test[at : at + batch]).item()
    return total / test.shape[0]


@torch.no_grad()
def iw_nll(model, test, k=200, chunk=50):
    """-log p(x) estimated with k importance samples from q(z|x), averaged over the test digits (nats)."""
    total = 0.0
    log2pi = math.log(2 * math.pi)
    for at in range(0, test.shape[0], chunk):
        x = test[at : at + chunk]
        mu, logvar = model.encode(x)
        std = torch.exp(0.5 * logvar)
        eps = torch.randn(k, *mu.shape)
        z = mu + std * eps  # [k, n, Z]
        logits = model.decode_logits(z.reshape(-1, Z)).reshape(k, x.shape[0], D)
        log_px_z = -F.binary_cross_entropy_with_logits(logits, x.expand(k, -1, -1), reduction="none").sum(-1)
        log_pz = -0.5 * (z.pow(2) + log2pi).sum(-1)
        log_qz = -0.5 * (eps.pow(2) + log2pi + logvar).sum(-1)
        lw = log_px_z + log_pz - log_qz
        total += -(torch.logsumexp(lw, 0) - math.log(k)).sum().item()
    return total / test.shape[0]


def main():
    t_start = time.perf_counter()
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["throughput", "result"])
    p.add_argument("--train", required=True)
    p.add_argument("--train-n", type=int, required=True)
    p.add_argument("--test", required=True)
    p.add_argument("--test-n", type=int, required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--iw", type=int, default=200)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    gen = torch.Generator().manual_seed(1)
    train = load(a.train, a.train_n)
    model = VAE()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "mode": a.mode}
    if a.mode == "throughput":
        train_steps(model, opt, train, 10, a.batch, gen)
        t0 = time.perf_counter()
        c0 = time.process_time()
        train_steps(model, opt, train, a.steps, a.batch, gen)
        seconds = time.perf_counter() - t0
        cpu = time.process_time() - c0
        # per CPU second too: on a shared machine the wall rate says as much about the neighbours as about the code
        out.update(steps=a.steps, seconds=seconds, samplesPerSec=a.steps * a.batch / seconds, samplesPerCpuSec=a.steps * a.batch / cpu)
    else:
        test = load(a.test, a.test_n)
        t_train = 0.0
        t_eval = 0.0
        losses = []
        for _ in range(a.epochs):
            t0 = time.perf_counter()
            epoch(model, opt, train, a.batch, gen)
            t1 = time.perf_counter()
            losses.append(test_elbo_loss(model, test))
            t_train += t1 - t0
            t_eval += time.perf_counter() - t1
        t0 = time.perf_counter()
        nll = iw_nll(model, test, a.iw)
        t_nll = time.perf_counter() - t0
        out.update(
            testLoss=losses[-1],
            testNll=nll,
            trainSeconds=t_train,
            testElboSeconds=t_eval,
            nllSeconds=t_nll,
            samplesPerSec=a.epochs * a.train_n / t_train,
            wallSecondsInScript=time.perf_counter() - t_start,
        )
    print(json.dumps(out))


if __name__ == "__main__":
    main()

"""The pytorch/examples MLP VAE (784-400-20, Bernoulli decoder, Adam 1e-3), logging into a VAE Workbench folder.

    python3 pytorch_vae.py --train train.f32 --test test.f32 --dir ~/vaewb-runs [--epochs 10]

train.f32 / test.f32: raw little-endian float32 rows of 784 grey values in [0, 1] (any MNIST copy you have; the
workbench's own tests write the bundled digits this way). Watch the folder in the workbench (Runs > Sources...,
or `vae-workbench sources add ~/vaewb-runs`) and the run appears live, with every VAE panel.
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from the repository without installing

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

import vaewb  # noqa: E402
import vaewb.torch  # noqa: E402


class VAE(nn.Module):
    def __init__(self, hidden=400, latent=20):
        super().__init__()
        self.fc1 = nn.Linear(784, hidden)
        self.fc21 = nn.Linear(hidden, latent)
        self.fc22 = nn.Linear(hidden, latent)
        self.fc3 = nn.Linear(latent, hidden)
        self.fc4 = nn.Linear(hidden, 784)

    def encode(self, x):
        h = F.relu(self.fc1(x))
        return self.fc21(h), self.fc22(h)

    def decode(self, z):
        return self.fc4(F.relu(self.fc3(z)))  # logits

    def forward(self, x):
        mu, logvar = self.encode(x)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        return self.decode(z), mu, logvar


def load(path):
    data = torch.frombuffer(bytearray(Path(path).read_bytes()), dtype=torch.float32)
    return data.reshape(-1, 784)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--train", required=True)
    p.add_argument("--test", required=True)
    p.add_argument("--dir", default=None)
    p.add_argument("--name", default="pytorch examples VAE")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--hidden", type=int, default=400)
    p.add_argument("--latent", type=int, default=20)
    p.add_argument("--k", type=int, default=100, help="importance samples of the -log p(x) estimate")
    p.add_argument("--pause", type=float, default=0.0, help="seconds to wait after each epoch (demos)")
    p.add_argument("--step-pause", type=float, default=0.0, help="seconds to wait after each training step (demos, tests)")
    args = p.parse_args()
    torch.manual_seed(1)
    train, test = load(args.train), load(args.test)
    loader = torch.utils.data.DataLoader(train, batch_size=128, shuffle=True)
    test_loader = torch.utils.data.DataLoader(test, batch_size=500)
    model = VAE(args.hidden, args.latent)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    config = {"dataset": "mnist", "lr": 1e-3, "batch_size": 128, "hidden": args.hidden, "latent": args.latent, "epochs": args.epochs}
    noise = torch.randn(64, args.latent, generator=torch.Generator().manual_seed(0))
    step = 0
    steps = 9
    sweep = torch.linspace(-3, 3, steps)
    traversal = torch.zeros(args.latent * steps, args.latent)  # row j: z_j from -3 to 3, the other coordinates 0
    for j in range(args.latent):
        traversal[j * steps : (j + 1) * steps, j] = sweep
    # the total lets the workbench show the progress and an ETA while the script runs
    total = args.epochs * len(loader)
    with vaewb.init(project="pytorch-examples", name=args.name, config=config, dir=args.dir, total_steps=total) as run:
        for epoch in range(1, args.epochs + 1):
            model.train()
            for x in loader:
                logits, mu, logvar = model(x)
                recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / len(x)
                kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / len(x)
                opt.zero_grad()
                (recon + kl).backward()
                opt.step()
                step += 1
                if step % 5 == 0:
                    run.log({"train/loss": float(recon + kl), "train/recon": float(recon), "train/kl": float(kl)}, step=step, epoch=epoch)
                if args.step_pause:
                    time.sleep(args.step_pause)
            vaewb.torch.evaluate(model, test_loader, likelihood="bernoulli", k=args.k, nll_examples=500, run=run, step=step, epoch=epoch)
            with torch.no_grad():
                run.log_images("samples/prior", torch.sigmoid(model.decode(noise)).reshape(-1, 1, 28, 28), step=step, epoch=epoch)
                pairs = torch.stack([test[:32], torch.sigmoid(model(test[:32])[0])], 1).reshape(-1, 1, 28, 28)
                run.log_images("samples/reconstructions", pairs, step=step, epoch=epoch)
                grid = torch.sigmoid(model.decode(traversal)).reshape(-1, 1, 28, 28)
                run.log_images("latent_traversal", grid, step=step, epoch=epoch, columns=steps, dims=range(args.latent), z_range=(-3, 3))
            run.save_checkpoint(model, step=step, epoch=epoch)
            print("epoch %d done" % epoch, flush=True)
            time.sleep(args.pause)


if __name__ == "__main__":
    main()

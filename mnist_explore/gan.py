"""A DCGAN for 28 x 28 digits, and its class-conditional variant, trained on any device with checkpoints.

The generator maps a latent vector (and, when conditional, a digit) through a
linear layer to 7 x 7 maps and two transposed convolutions to a 28 x 28 image
in [-1, 1]; the discriminator mirrors it with two strided convolutions. Batch
norm and LeakyReLU as in Radford et al. (2016); Adam at 2e-4 with beta1 = 0.5;
the non-saturating generator loss.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .data import Split
from .errors import UserError
from .paths import DamagedFile, atomic_path, load_torch
from .progress import bar as progress_bar
from .runtime import seeded_global_rng

NUM_CLASSES = 10


def check_labels(y: torch.Tensor) -> torch.Tensor:
    """``y`` as a long tensor of digits, or a UserError naming the first label out of range."""
    y = torch.as_tensor(y)
    if y.dtype.is_floating_point or y.dtype == torch.bool:
        raise UserError(f"Class labels must be integers 0-9, got a {y.dtype} tensor.")
    bad = y[(y < 0) | (y >= NUM_CLASSES)]
    if len(bad):
        raise UserError(f"Class label {int(bad[0])} is out of range: the conditional generator draws digits 0-9.")
    return y.long()


class Generator(nn.Module):
    def __init__(self, latent: int = 64, width: int = 64, conditional: bool = False):
        super().__init__()
        self.latent, self.conditional = latent, conditional
        self.embed = nn.Embedding(NUM_CLASSES, NUM_CLASSES) if conditional else None
        self.project = nn.Sequential(nn.Linear(latent + (NUM_CLASSES if conditional else 0), 2 * width * 49, bias=False),
                                     nn.BatchNorm1d(2 * width * 49), nn.ReLU(inplace=True))
        self.net = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
            nn.ConvTranspose2d(width, 1, 4, 2, 1), nn.Tanh())  # 7 -> 14 -> 28
        self.width = width

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.conditional:
            if y is None:
                raise UserError("The conditional generator needs a class label for every latent vector.")
            z = torch.cat([z, self.embed(check_labels(y).to(z.device))], dim=1)
        return self.net(self.project(z).view(len(z), 2 * self.width, 7, 7))


class Discriminator(nn.Module):
    def __init__(self, width: int = 64, conditional: bool = False):
        super().__init__()
        self.conditional = conditional
        channels = 1 + (NUM_CLASSES if conditional else 0)  # a conditional critic sees the label as 10 planes
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True),  # 28 -> 14
            nn.Conv2d(width, 2 * width, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * width),
            nn.LeakyReLU(0.2, inplace=True),  # 14 -> 7
            nn.Flatten(), nn.Linear(2 * width * 49, 1))

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.conditional:
            if y is None:
                raise UserError("The conditional discriminator needs the class label of every image.")
            planes = F.one_hot(check_labels(y).to(x.device), NUM_CLASSES).to(x.dtype)[:, :, None, None]
            x = torch.cat([x, planes.expand(-1, -1, *x.shape[2:])], dim=1)
        return self.net(x).squeeze(1)


def to_gan_range(X: torch.Tensor) -> torch.Tensor:
    """uint8 images (N, 28, 28) to floats (N, 1, 28, 28) in [-1, 1], the generator's range."""
    return (X.float() / 127.5 - 1).unsqueeze(1)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Generator output in [-1, 1] (N, 1, 28, 28) back to uint8 (N, 28, 28), the format of MNIST itself."""
    return ((images.squeeze(1).clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


@dataclass(frozen=True)
class GANConfig:
    conditional: bool = False
    epochs: int = 2
    batch_size: int = 128
    lr: float = 2e-4
    beta1: float = 0.5
    latent: int = 64
    width: int = 64
    seed: int = 0
    train_size: int | None = None  # None: every image given
    snapshots: int = 40  # fixed-noise grids kept for the GIF, evenly spaced
    progress: bool = True

    def validate(self) -> None:
        for name in ("epochs", "batch_size", "latent", "width", "snapshots"):
            if int(getattr(self, name)) < 1:
                raise UserError(f"{name} must be at least 1, got {getattr(self, name)}.")
        if not self.lr > 0:
            raise UserError(f"The learning rate must be positive, got {self.lr}.")


@dataclass
class GANResult:
    config: GANConfig
    generator: Generator
    discriminator: Discriminator
    history: dict[str, list[float]]  # step, loss_d, loss_g, d_real, d_fake: means over each logging window
    snapshot_steps: list[int] = field(default_factory=list)
    snapshots: list[torch.Tensor] = field(default_factory=list)  # (64, 28, 28) uint8 each, from fixed noise
    seconds: float = 0.0

    @torch.no_grad()
    def sample(self, n: int, y: torch.Tensor | None = None, seed: int = 0, batch_size: int = 1000) -> torch.Tensor:
        """``n`` images as uint8 (n, 28, 28); digits ``y`` for the conditional generator (default: 0-9 in turn)."""
        g = torch.Generator().manual_seed(seed)
        device = next(self.generator.parameters()).device
        if self.config.conditional and y is None:
            y = torch.arange(n) % NUM_CLASSES
        self.generator.eval()
        out = []
        for i in range(0, n, batch_size):
            z = torch.randn(min(batch_size, n - i), self.config.latent, generator=g).to(device)
            out.append(to_uint8(self.generator(z, None if y is None else y[i:i + batch_size])).cpu())
        return torch.cat(out)


def fixed_inputs(config: GANConfig, device: torch.device) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The 64 latent vectors (and, when conditional, the labels: 8 rows of 0-7 ... ) every snapshot uses."""
    z = torch.randn(64, config.latent, generator=torch.Generator().manual_seed(10_000 + config.seed)).to(device)
    y = (torch.arange(64) % NUM_CLASSES).to(device) if config.conditional else None
    return z, y


def _step(G, D, opt_g, opt_d, x, y, latent):
    """One discriminator and one generator update; returns (loss_d, loss_g, mean D(x), mean D(G(z)))."""
    z = torch.randn(len(x), latent, device=x.device)
    fake = G(z, y)
    real_logit, fake_logit = D(x, y), D(fake.detach(), y)
    loss_d = (F.binary_cross_entropy_with_logits(real_logit, torch.ones_like(real_logit)) +
              F.binary_cross_entropy_with_logits(fake_logit, torch.zeros_like(fake_logit)))
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()
    gen_logit = D(fake, y)
    loss_g = F.binary_cross_entropy_with_logits(gen_logit, torch.ones_like(gen_logit))  # non-saturating
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    return torch.stack([loss_d, loss_g, torch.sigmoid(real_logit).mean(), torch.sigmoid(fake_logit).mean()]).detach()


def train_gan(config: GANConfig, train: Split, device: torch.device | None = None,
              checkpoint: str | Path | None = None, log_every: int = 20) -> GANResult:
    """Train a (conditional) DCGAN on ``train``; seeded, so the same config on the same device gives the same result.

    ``checkpoint``: a file rewritten at the end of every epoch with both networks,
    their optimizers and the history (see :func:`load_checkpoint`).
    """
    config.validate()
    device = device or train.X.device
    if config.train_size is not None:
        train = train.subset(torch.arange(config.train_size))
    # The initial weights and every step's z come from the global generator, seeded here and restored afterwards.
    with seeded_global_rng(config.seed, device):
        return _train(config, train, device, checkpoint, log_every)


def _train(config: GANConfig, train: Split, device: torch.device, checkpoint: str | Path | None,
           log_every: int) -> GANResult:
    G = Generator(config.latent, config.width, config.conditional).to(device)
    D = Discriminator(config.width, config.conditional).to(device)
    opt_g = torch.optim.Adam(G.parameters(), lr=config.lr, betas=(config.beta1, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=config.lr, betas=(config.beta1, 0.999))
    result = GANResult(config, G, D, {k: [] for k in ("step", "loss_d", "loss_g", "d_real", "d_fake")})
    fixed_z, fixed_y = fixed_inputs(config, device)
    order = torch.Generator().manual_seed(config.seed)
    steps_per_epoch = len(train) // config.batch_size
    total = steps_per_epoch * config.epochs
    snapshot_at = {round(k * total / config.snapshots) for k in range(config.snapshots + 1)}
    window, step, start = [], 0, time.perf_counter()
    bar = progress_bar(total=total, desc="GAN" + (" (conditional)" if config.conditional else ""), disable=not config.progress)
    for epoch in range(config.epochs):
        perm = torch.randperm(len(train), generator=order)
        for i in range(steps_per_epoch):
            if step in snapshot_at:
                _snapshot(result, step, fixed_z, fixed_y)
            index = perm[i * config.batch_size:(i + 1) * config.batch_size].to(train.X.device)
            x = to_gan_range(train.X[index]).to(device)
            y = train.y[index].to(device) if config.conditional else None
            G.train()
            window.append(_step(G, D, opt_g, opt_d, x, y, config.latent))
            step += 1
            if step % log_every == 0 or step == total:
                _log(result, step, window)
                window = []
                bar.set_postfix(D=f"{result.history['loss_d'][-1]:.2f}", G=f"{result.history['loss_g'][-1]:.2f}")
            bar.update()
        if checkpoint is not None:
            save_checkpoint(result, checkpoint, epoch + 1)
    bar.close()
    _snapshot(result, step, fixed_z, fixed_y)
    result.seconds = time.perf_counter() - start
    return result


def _log(result: GANResult, step: int, window: list[torch.Tensor]) -> None:
    means = torch.stack(window).mean(0).tolist()  # one sync per logging window
    result.history["step"].append(step)
    for key, value in zip(("loss_d", "loss_g", "d_real", "d_fake"), means):
        result.history[key].append(value)


@torch.no_grad()
def _snapshot(result: GANResult, step: int, z: torch.Tensor, y: torch.Tensor | None) -> None:
    if result.snapshot_steps and result.snapshot_steps[-1] == step:
        return
    result.generator.eval()
    result.snapshots.append(to_uint8(result.generator(z, y)).cpu())
    result.snapshot_steps.append(step)
    result.generator.train()


def save_checkpoint(result: GANResult, path: str | Path, epoch: int | None = None) -> Path:
    """Write both networks, the config and the history to ``path`` (what :func:`load_checkpoint` restores)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    blob = {"config": asdict(result.config), "generator": result.generator.state_dict(),
            "discriminator": result.discriminator.state_dict(), "history": result.history, "epoch": epoch}
    with atomic_path(path) as tmp:
        torch.save(blob, tmp)
    return path


def load_checkpoint(path: str | Path, device: torch.device | str = "cpu") -> GANResult:
    """A GANResult with both networks restored from ``path`` (snapshots are not saved)."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"No GAN checkpoint at {path}: train one with train_gan(..., checkpoint={str(path)!r}).")
    try:
        blob = load_torch(path, map_location=device)
    except DamagedFile as exc:
        raise UserError(f"{exc}: train the GAN again with train_gan(..., checkpoint={str(path)!r}).") from None
    config = GANConfig(**blob["config"])
    G = Generator(config.latent, config.width, config.conditional).to(device)
    D = Discriminator(config.width, config.conditional).to(device)
    G.load_state_dict(blob["generator"])
    D.load_state_dict(blob["discriminator"])
    return GANResult(config, G, D, blob["history"])


def slerp(z0: torch.Tensor, z1: torch.Tensor, steps: int) -> torch.Tensor:
    """``steps`` points from z0 to z1 along the great circle (Gaussian latents keep their norm that way)."""
    cos = (z0 * z1).sum() / (z0.norm() * z1.norm())
    omega = torch.arccos(cos.clamp(-1 + 1e-7, 1 - 1e-7))
    t = torch.linspace(0, 1, steps, device=z0.device)[:, None]
    return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)

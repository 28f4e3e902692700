"""t-SNE written in torch for a GPU: exact kNN affinities and the exact gradient, computed in tiles.

The affinities follow van der Maaten (2014) and openTSNE: each point's 3 x
perplexity nearest neighbours, a bandwidth found by bisection so that the
conditional distribution has the requested perplexity, then P = (P + P^T) / 2N.
The gradient is not approximated: the repulsion sums over all N^2 pairs, a tile
of rows at a time (70,000^2 pairs per iteration is a few milliseconds of an
H100 once ``torch.compile`` fuses a tile into one kernel). The optimiser is
openTSNE's: early exaggeration, momentum, delta-bar-delta gains, learning rate
N / exaggeration and a cap on each point's step. Every reduction is a plain sum
over a fixed axis, so a run is deterministic on a given device.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import torch

from .embed import pca
from .neighbors import knn, tile_rows
from .progress import bar as progress_bar


@dataclass(frozen=True)
class Affinities:
    """Symmetric P as a padded neighbour list: row i's neighbours ``index[i]`` with weights ``weight[i]`` (0 = pad)."""

    index: torch.Tensor  # (N, D) long
    weight: torch.Tensor  # (N, D) float, sums to 1 over the whole matrix


def conditional_probabilities(sq_dist: torch.Tensor, perplexity: float, steps: int = 64) -> torch.Tensor:
    """Rows of p_{j|i} over each point's neighbours, each with entropy log(perplexity), by bisection on the precision."""
    d = (sq_dist - sq_dist[:, :1]).double()  # shifting a row changes nothing after normalising
    target = math.log(perplexity)
    lo = torch.zeros(len(d), 1, dtype=d.dtype, device=d.device)
    hi = torch.full_like(lo, float("inf"))
    beta = torch.ones_like(lo)
    for _ in range(steps):
        p = torch.exp(-d * beta)
        total = p.sum(1, keepdim=True)
        entropy = torch.log(total) + beta * (d * p).sum(1, keepdim=True) / total
        too_flat = entropy > target  # entropy falls as the precision beta rises
        lo = torch.where(too_flat, beta, lo)
        hi = torch.where(too_flat, hi, beta)
        beta = torch.where(torch.isinf(hi), beta * 2, (lo + hi) / 2)
    p = torch.exp(-d * beta)
    return (p / p.sum(1, keepdim=True)).to(sq_dist.dtype)


def affinities(X: torch.Tensor, perplexity: float = 30.0) -> Affinities:
    """The symmetric t-SNE affinities of the rows of ``X`` over their 3 x perplexity nearest neighbours."""
    n = len(X)
    k = min(n - 1, int(3 * perplexity))
    sq_dist, index = knn(X, k=k)
    p = conditional_probabilities(sq_dist, perplexity)
    rows = torch.arange(n, device=X.device).repeat_interleave(k)
    cols = index.flatten()
    # P + P^T: an edge found from both ends appears twice; add the two (a + b is exact and order-free).
    keys, inverse = torch.unique(torch.cat([rows * n + cols, cols * n + rows]), return_inverse=True)
    v = torch.zeros(len(keys), dtype=p.dtype, device=X.device).index_add_(0, inverse, p.flatten().repeat(2))
    v, r, c = v / (2 * n), keys // n, keys % n
    degree = torch.bincount(r, minlength=n)
    slot = torch.arange(len(r), device=X.device) - torch.repeat_interleave(degree.cumsum(0) - degree, degree)
    index_pad = torch.zeros(n, int(degree.max()), dtype=torch.long, device=X.device)
    weight_pad = torch.zeros(n, int(degree.max()), dtype=X.dtype, device=X.device)
    index_pad[r, slot], weight_pad[r, slot] = c, v
    return Affinities(index_pad, weight_pad)


def attraction(Y: torch.Tensor, P: Affinities) -> torch.Tensor:
    """sum_j p_ij q~_ij (y_i - y_j), with q~ = 1 / (1 + |y_i - y_j|^2), over each point's neighbours."""
    diff = Y[:, None, :] - Y[P.index]
    w = P.weight / (1 + diff.square().sum(-1))
    return (w[..., None] * diff).sum(1)


def repulsion_tile(rows: torch.Tensor, Y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For each row y_i: sum_j q~_ij (the diagonal's 1 included) and sum_j q~_ij^2 (y_i - y_j), over all N points.

    Written for eager mode: one (rows, N) block and a matrix product, no (rows, N, 2) temporaries.
    """
    w = torch.addmm(Y.square().sum(1)[None, :], rows, Y.T, alpha=-2).add_(rows.square().sum(1, keepdim=True))
    w = w.clamp_min_(0).add_(1).reciprocal_()
    total = w.sum(1)
    w.square_()
    return total, rows * w.sum(1, keepdim=True) - w @ Y


def repulsion_tile_fusable(rows: torch.Tensor, Y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``repulsion_tile`` written as broadcasts and sums, which ``torch.compile`` fuses into one pass over the pairs."""
    diff = rows[:, None, :] - Y[None, :, :]
    w = 1 / (1 + diff.square().sum(-1))
    return w.sum(1), (w.square()[..., None] * diff).sum(1)


def gradient(Y: torch.Tensor, P: Affinities, exaggeration: float, tile_fn=repulsion_tile,
             tile: int | None = None) -> torch.Tensor:
    """The exact t-SNE gradient (openTSNE's scale, without the factor 4) for embedding ``Y``."""
    tile = tile or tile_rows(len(Y), budget=2**28 if Y.device.type == "cuda" else 2**24)
    sums, forces = [], []
    for start in range(0, len(Y), tile):
        s, f = tile_fn(Y[start:start + tile], Y)
        sums.append(s)
        forces.append(f)
    Z = torch.cat(sums).sum() - len(Y)  # the N diagonal terms are 1 each
    return exaggeration * attraction(Y, P) - torch.cat(forces) / Z


@dataclass
class Optimiser:
    """openTSNE's gradient descent: momentum, gains, learning rate N / exaggeration, steps capped at ``max_step``."""

    momentum: float = 0.8
    max_step: float = 5.0
    min_gain: float = 0.01

    def run(self, Y: torch.Tensor, P: Affinities, n_iter: int, exaggeration: float, tile_fn, desc: str):
        lr = max(200.0, len(Y) / exaggeration)
        update, gains = torch.zeros_like(Y), torch.ones_like(Y)
        for _ in progress_bar(range(n_iter), desc=desc, leave=False, disable=n_iter < 50):
            grad = gradient(Y, P, exaggeration, tile_fn)
            same_sign = (grad > 0) == (update > 0)
            gains = torch.where(same_sign, gains * 0.8, gains + 0.2).clamp_min_(self.min_gain)
            update = self.momentum * update - lr * gains * grad
            norm = update.norm(dim=1, keepdim=True)
            update = torch.where(norm > self.max_step, update * (self.max_step / norm), update)
            Y = Y + update
            Y = Y - Y.mean(0)
        return Y


def initial_embedding(X: torch.Tensor) -> torch.Tensor:
    """The scores of ``X`` on its first two principal components (:func:`~mnist_explore.embed.pca`), scaled so the
    first has standard deviation 1e-4 (openTSNE's)."""
    Y = pca(X, 2).transform(X.double())
    Y = Y * torch.where(Y.abs().amax(0) == Y.amax(0), 1.0, -1.0)  # fix the sign: each map's largest entry positive
    return (Y / Y[:, 0].std() * 1e-4).to(X.dtype)


def fused_repulsion():
    """``repulsion_tile_fusable`` compiled into one kernel per tile shape (the GPU path); eager, with a warning, if compiling fails."""
    compiled = torch.compile(repulsion_tile_fusable, dynamic=False)

    def tile_fn(rows: torch.Tensor, Y: torch.Tensor):
        nonlocal compiled
        if compiled is not None:
            try:
                return compiled(rows, Y)
            except Exception as exc:  # a missing compiler or Triton: same numbers, only slower
                warnings.warn(f"torch.compile failed ({type(exc).__name__}: {exc}); t-SNE continues uncompiled.",
                              stacklevel=2)
                compiled = None
        return repulsion_tile(rows, Y)
    return tile_fn


def tsne(X: torch.Tensor, perplexity: float = 10.0, early_exaggeration_iter: int = 250, n_iter: int = 250,
         exaggeration: float = 12.0, compile: bool | None = None) -> torch.Tensor:
    """A 2-D t-SNE embedding of the rows of ``X`` (float32, on X's device); deterministic given X and device.

    ``compile=None`` compiles the repulsion on CUDA only.
    """
    X = X.float()
    compile = X.device.type == "cuda" if compile is None else compile
    tile_fn = fused_repulsion() if compile else repulsion_tile
    P = affinities(X, perplexity)
    Y = initial_embedding(X)
    opt = Optimiser()
    Y = opt.run(Y, P, early_exaggeration_iter, exaggeration, tile_fn, "t-SNE early exaggeration")
    return opt.run(Y, P, n_iter, 1.0, tile_fn, "t-SNE")

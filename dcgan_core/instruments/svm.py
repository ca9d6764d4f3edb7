"""Sec. 5: the probes' linear L2-SVM, many fits solved as one batched problem.

The problem is scikit-learn's `LinearSVC(loss="squared_hinge", penalty="l2")`, one-vs-rest, intercept as a
constant feature of 1 that is regularised with the weights (liblinear's convention):

    min_w  1/2 ||w||^2 + C sum_i max(0, 1 - y_i w.[x_i, 1])^2        for each class against the rest.

liblinear solves it by dual coordinate descent, one fit at a time; a probe chapter needs hundreds of fits on
the same few thousand images (every C of the grid, every labelled draw, every class). We solve all of them at
once with the primal Newton method of Chapelle (2007, "Training a support vector machine in the primal",
Sec. 4.2 for the L2 loss) in the span of each draw's images (representer theorem: w = X'beta). With K = XX' the
draw's Gram matrix and sv the margin violators, a Newton step is exact on the active set,

    beta_sv = (K_sv,sv + I / 2C)^-1 y_sv,   beta_rest = 0,

followed by an exact line search on the piecewise-quadratic objective (Keerthi & DeCoste 2005). It stops when
the active set no longer changes: the step is then the exact minimiser, not an approximation within a tolerance.
Each step is one Cholesky of each problem's active block (CPU or CUDA). A draw's Gram matrix is n x n, so the
kernel form is used up to `MAX_KERNEL_N` labelled images; above that (the paper's all-labels CIFAR-10 column)
the fits fall back to liblinear itself.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import LinearSVC

MAX_KERNEL_N = 6000  # labelled images per fit up to which the batched kernel solver is used (n^2 Gram matrices)
MAX_NEWTON_STEPS = 50  # an active-set Newton method stops in a few steps; more means it did not converge
BATCH_BYTES = 1 << 30  # memory for one batch of Gram blocks (float64)


@dataclass(frozen=True)
class LinearFits:
    """One-vs-rest linear classifiers of many fits: coef (fits, classes, d), intercept (fits, classes)."""

    coef: np.ndarray
    intercept: np.ndarray
    classes: np.ndarray
    not_converged: int  # fits whose solver hit its iteration limit
    solver: str

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Class predictions of every fit on X: (fits, len(X)), argmax of the decision values (as LinearSVC)."""
        if not np.isfinite(X).all():
            raise ValueError("features to predict are not all finite (NaN or inf)")
        Xt = torch.as_tensor(np.asarray(X, np.float32))
        scores = torch.einsum("nd,fcd->fnc", Xt, torch.as_tensor(self.coef, dtype=torch.float32))
        scores = scores + torch.as_tensor(self.intercept, dtype=torch.float32)[:, None, :]
        return self.classes[scores.argmax(-1).numpy()]


def objective(coef: np.ndarray, intercept: float, X: np.ndarray, y_pm: np.ndarray, C: float) -> float:
    """The primal objective of one binary fit (labels +-1), liblinear's: the intercept is regularised too."""
    margin = y_pm * (np.asarray(X, np.float64) @ coef + intercept)
    return float(0.5 * (coef @ coef + intercept**2) + C * np.sum(np.maximum(0.0, 1.0 - margin) ** 2))


def fit_l2svm(X: np.ndarray, y: np.ndarray, draws: list[np.ndarray], Cs: list[float], device: str = "cpu",
              solver: str = "auto") -> LinearFits:
    """Fit one one-vs-rest L2-SVM per (draw, C) pair on rows `draws[i]` of X with labels y, all at once.

    solver: "newton" (batched, above), "liblinear" (scikit-learn, one fit at a time), or "auto" (newton up to
    MAX_KERNEL_N images per draw). Both reach the same optimum; tests/instruments/test_svm.py checks it."""
    if len(draws) != len(Cs) or not draws:
        raise ValueError(f"need one C per draw, got {len(draws)} draws and {len(Cs)} C values")
    if solver not in ("auto", "newton", "liblinear"):
        raise ValueError(f"solver must be 'auto', 'newton' or 'liblinear', got {solver!r}")
    classes = np.unique(np.concatenate([y[d] for d in draws]))
    if len(classes) < 2:
        raise ValueError("an SVM needs at least two classes in its labelled draws")
    union = np.unique(np.concatenate(draws))
    if not np.isfinite(X[union]).all():
        raise ValueError("features of the labelled draws are not all finite (NaN or inf): check the feature "
                         "extractor's output before probing")
    sizes = {len(d) for d in draws}
    if solver == "liblinear" or (solver == "auto" and max(sizes) > MAX_KERNEL_N):
        return _liblinear(X, y, draws, Cs, classes)
    # the first draw of each (size, C) is solved from scratch; the others start from its active set (the margin
    # violators of its solution on their images), which saves most Newton steps; the optimum is the same
    first = {}
    for i, (d, C) in enumerate(zip(draws, Cs)):
        first.setdefault((len(d), C), i)
    cold = sorted(first.values())
    warm = [i for i in range(len(draws)) if i not in set(cold)]
    coef, intercept = [None] * len(draws), [None] * len(draws)
    not_converged, gram = 0, _Gram(X, draws, device)
    for group, start in ((cold, None), (warm, lambda i: first[(len(draws[i]), Cs[i])])):
        for size in sorted({len(draws[i]) for i in group}):
            same = [i for i in group if len(draws[i]) == size]
            per_batch = max(1, BATCH_BYTES // (8 * size * size))
            for b in range(0, len(same), per_batch):
                batch = same[b:b + per_batch]
                W0 = None if start is None else np.stack(
                    [np.concatenate([coef[start(i)], intercept[start(i)][:, None]], 1) for i in batch])
                c, t, nc = _newton_batch(gram, y, [draws[i] for i in batch], [Cs[i] for i in batch], classes, W0)
                for j, i in enumerate(batch):
                    coef[i], intercept[i] = c[j], t[j]
                not_converged += nc
    return LinearFits(np.stack(coef), np.stack(intercept), classes, not_converged, "newton")


class _Gram:
    """Rows of X with the intercept's constant feature, and their Gram matrices: computed once over the union of
    all draws when that fits in BATCH_BYTES (draws overlap: they come from one pool), else per batch of draws."""

    def __init__(self, X: np.ndarray, draws: list[np.ndarray], device: str):
        self.X, self.device = X, device
        self.union = np.unique(np.concatenate(draws))
        self.K = None
        if 8 * len(self.union) ** 2 <= BATCH_BYTES:
            Xu = self.rows(self.union)
            self.K = (Xu @ Xu.T).double()  # float32 products, float64 solves

    def rows(self, idx: np.ndarray) -> torch.Tensor:
        x = torch.as_tensor(np.asarray(self.X[idx], np.float32), device=self.device)
        return torch.cat([x, torch.ones_like(x[..., :1])], -1)  # the intercept as a constant feature (liblinear)

    def __call__(self, draws: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        """(features (draws, n, d + 1), Gram matrices (draws, n, n), float64)."""
        Xd = torch.stack([self.rows(d) for d in draws])
        if self.K is None:
            return Xd, (Xd @ Xd.mT).double()
        pos = torch.as_tensor(np.stack([np.searchsorted(self.union, d) for d in draws]), device=self.device)
        return Xd, torch.stack([self.K.index_select(0, p).index_select(1, p) for p in pos])


def _newton_batch(gram, y, draws, Cs, classes, W0=None):
    """The batched active-set Newton method for the draws of one size, from beta = 0 with the active set of all
    images, or of the classifiers W0 (draws, classes, d + 1): (coef, intercept, fits that did not converge)."""
    Xd, K = gram(draws)
    G, n = Xd.shape[:2]
    device = Xd.device
    labels = torch.as_tensor(np.stack([y[d] for d in draws]), device=device)
    Y = torch.where(labels[:, None, :] == torch.as_tensor(classes, device=device)[None, :, None], 1.0, -1.0).double()
    k = len(classes)
    Y = Y.reshape(G * k, n)  # one problem per (draw, class); problem p reads the Gram matrix of draw p // k
    C = torch.as_tensor(Cs, dtype=torch.float64, device=device).repeat_interleave(k)
    beta, f = torch.zeros_like(Y), torch.zeros_like(Y)
    used = torch.ones_like(Y, dtype=torch.bool)  # the active set of the last Newton step
    settled = torch.zeros(G * k, dtype=torch.bool, device=device)
    todo = torch.arange(G * k, device=device)
    start = None  # the warm start's margins on this draw's images
    if W0 is not None:
        W0 = torch.as_tensor(W0, dtype=Xd.dtype, device=device)
        start = Y * torch.einsum("gnd,gkd->gkn", Xd, W0).reshape(G * k, n)
    for step in range(MAX_NEWTON_STEPS):
        active = (Y[todo] * f[todo] if step or start is None else start) < 1
        done = settled[todo] & (active == used[todo]).all(-1)
        todo, active = todo[~done], active[~done]
        if not len(todo):
            break
        new_beta = _active_set_solve(K, Y, C, todo, todo // k, active)
        new_f = _gram_times(K, new_beta, todo, k)
        t = _line_search(beta[todo], f[todo], new_beta, new_f, Y[todo], C[todo])
        move = t[:, None] * (new_f - f[todo])
        beta[todo] = beta[todo] + t[:, None] * (new_beta - beta[todo])
        f[todo] = f[todo] + move
        # exact once a full step keeps the active set; a step that no longer moves the outputs (margins sitting on
        # 1 that flip between steps) is as good
        tiny = move.abs().amax(-1) <= 1e-10 * f[todo].abs().amax(-1).clamp_min(1)
        used[todo], settled[todo] = active, ((t - 1).abs() < 1e-9) | tiny
    not_converged = len(torch.unique(todo // k)) if len(todo) else 0  # fits with a problem still open at the limit
    W = torch.einsum("gnd,gkn->gkd", Xd.double(), beta.view(G, k, n))  # w = X'beta, then split off the intercept
    return W[..., :-1].cpu().numpy(), W[..., -1].cpu().numpy(), not_converged


def _gram_times(K, beta, todo, k):
    """K beta for the problems `todo`, as one product per draw (no copy of a Gram matrix per class)."""
    G, n, _ = K.shape
    full = torch.zeros(G * k, n, dtype=K.dtype, device=K.device).index_copy_(0, todo, beta)
    return torch.einsum("gij,gkj->gki", K, full.view(G, k, n)).reshape(G * k, n)[todo]


def _active_set_solve(K, Y, C, todo, draw, active):
    """Newton's point for each problem: beta_sv = (K_sv,sv + I / 2C)^-1 y_sv and 0 elsewhere. One Cholesky per
    problem: its block stays in cache, which makes the loop faster on a CPU than one padded batched call."""
    n = active.shape[1]
    out = torch.zeros(len(todo), n, dtype=K.dtype, device=K.device)
    for p, (g, problem, mask) in enumerate(zip(draw.tolist(), todo.tolist(), active)):
        rows = mask.nonzero()[:, 0]
        if not len(rows):
            continue
        block = torch.gather(K[g].index_select(0, rows), 1, rows.expand(len(rows), -1))  # K_sv,sv: rows, then columns
        block.diagonal().add_(1 / (2 * C[problem]))
        out[p, rows] = torch.cholesky_solve(Y[problem, rows, None], torch.linalg.cholesky(block))[:, 0]
    return out


def _line_search(beta, f, new_beta, new_f, Y, C, steps: int = 30):
    """Exact minimiser t of the objective on beta + t (new_beta - beta): a convex piecewise quadratic in t, so
    Newton's method on t from t = 1 stops once the set of violated margins is stable."""
    step, df = new_beta - beta, new_f - f
    curvature = (step * df).sum(-1)  # step' K step
    slope = (beta * df).sum(-1)  # beta' K step
    t = torch.ones_like(C)
    for _ in range(steps):
        ft = f + t[:, None] * df
        viol = (Y * ft < 1).to(ft.dtype)
        grad = slope + t * curvature - 2 * C * (viol * (1 - Y * ft) * Y * df).sum(-1)
        hess = curvature + 2 * C * (viol * df * df).sum(-1)
        new_t = t - grad / hess.clamp_min(1e-300)
        if torch.equal(new_t, t):
            break
        t = new_t
    return t


def _liblinear(X, y, draws, Cs, classes) -> LinearFits:
    """The reference: scikit-learn's LinearSVC (liblinear), one fit at a time."""
    coefs, intercepts, not_converged = [], [], 0
    for idx, C in zip(draws, Cs):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            svm = LinearSVC(C=C, loss="squared_hinge", penalty="l2", dual=True, max_iter=5000, random_state=0)
            svm.fit(np.asarray(X[idx], np.float32), y[idx])
        not_converged += any(issubclass(w.category, ConvergenceWarning) for w in caught)
        coef, intercept = svm.coef_, svm.intercept_
        if len(classes) == 2:  # LinearSVC keeps one row for two classes: the second against the first
            coef, intercept = np.stack([-coef[0], coef[0]]), np.array([-intercept[0], intercept[0]])
        coefs.append(coef), intercepts.append(intercept)
    return LinearFits(np.stack(coefs), np.stack(intercepts), classes, not_converged, "liblinear")

"""Sec. 5: representations probed with a linear L2-SVM, and the baselines run through the same protocol.

Protocol (the authors' svhn/svhn_semisup_analysis.py, the only probe code they released):
a validation split is taken from the labelled training set; the rest is the pool. For each C on a
grid, `draws_per_c` labelled subsets (`per_class` examples of each class) are drawn from the pool, a
linear SVM (LinearSVC's problem: squared hinge, L2) is fitted on each and scored on the validation split;
the C with the best mean validation accuracy is chosen. Then `final_draws` fresh subsets at that C are scored on the
test set, reported as mean error +- 1.96 std over draws. The test set is never used for any choice.
All fits of one step (every C and draw, or every test draw) are solved as one batched problem
(`instruments.svm`), to the same optimum as liblinear.
Comparisons of two feature sets are paired: same draws, same test set (`verdicts.rules.beats`), over GAN
seeds.

Baselines: raw pixels; the same discriminator with random weights; single-layer K-means features
(Coates & Ng 2011); a supervised CNN with the discriminator's architecture (`instruments.supervised`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import torch

from dcgan_core.core.train import initial_models
from dcgan_core.instruments.features import discriminator_features, set_population_bn_stats
from dcgan_core.instruments.svm import LinearFits, fit_l2svm
from dcgan_core.utils.streams import numpy_rng, stream_seed

# the authors' protocol (svhn/svhn_semisup_analysis.py): the C grid, labelled draws scored per C, test draws at the
# chosen C; the chapters' parameters take these as their defaults
C_GRID = (1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2)
DRAWS_PER_C = 10
FINAL_DRAWS = 100


@dataclass(frozen=True)
class Splits:
    """Indices into the labelled training set: validation (chooses C) and pool (labelled draws come from
    here). The test set is a separate set, passed only to `SVMProbe.score`."""

    val: np.ndarray
    pool: np.ndarray

    def __post_init__(self) -> None:
        if set(self.val.tolist()) & set(self.pool.tolist()):
            raise ValueError("validation and pool splits overlap")


def make_splits(n_train: int, n_val: int, seed: int = 0) -> Splits:
    """Authors' SVHN split: shuffle the training indices; the first n_val are validation, the rest the pool."""
    if not 0 < n_val < n_train:
        raise ValueError(f"n_val must be in (0, {n_train}), got {n_val}")
    order = np.random.default_rng(seed).permutation(n_train)
    return Splits(np.sort(order[:n_val]), np.sort(order[n_val:]))


def require_labels(**packs) -> None:
    """Fail before any feature extraction when a probe's pack carries no labels."""
    for name, pack in packs.items():
        if pack.labels is None:
            raise ValueError(f"{name} pack {pack.path} has no labels.npy; a probe needs a labelled source "
                             "(cifar10, svhn, mnist5k, digits, or folder with --labels-from-dirs)")


def draw_labelled(labels: np.ndarray, pool: np.ndarray, per_class: int | None, rng: np.random.Generator) -> np.ndarray:
    """`per_class` examples of every class from the pool, uniformly (None: the whole pool)."""
    if per_class is None:
        return pool
    out = []
    for c in np.unique(labels[pool]):
        members = pool[labels[pool] == c]
        if len(members) < per_class:
            raise ValueError(f"class {c} has {len(members)} pool examples, fewer than per_class={per_class}")
        out.append(rng.choice(members, per_class, replace=False))
    return np.sort(np.concatenate(out))


def scored_draws(labels: np.ndarray, pool: np.ndarray, per_class: int | None, n: int, seed: int) -> list[np.ndarray]:
    """The labelled draws scored on test for a seed: the same for every feature set and the supervised CNN."""
    rng = numpy_rng("test draws", seed)
    return [draw_labelled(labels, pool, per_class, rng) for _ in range(1 if per_class is None else n)]


@dataclass
class SVMProbe:
    """The L2-SVM probe protocol as an estimator: fit chooses C on validation only; score runs test draws.

    >>> probe = SVMProbe(per_class=100).fit(X_train, y_train, splits)  # doctest: +SKIP
    >>> probe.score(X_test, y_test)["error_mean"]  # doctest: +SKIP
    """

    per_class: int | None = 100  # Sec. 5.2: 1000 labels, uniformly class distributed
    c_grid: tuple[float, ...] = C_GRID
    draws_per_c: int = DRAWS_PER_C
    final_draws: int = FINAL_DRAWS
    seed: int = 0
    solver: str = "auto"  # instruments.svm.fit_l2svm: the batched Newton solver, or liblinear (the same optimum)
    device: str = "cpu"
    val_accuracy_: dict = field(default_factory=dict, init=False)
    best_c_: float | None = field(default=None, init=False)
    fits_: int = field(default=0, init=False)  # SVM fits so far, and how many hit the solver's iteration limit
    not_converged_: int = field(default=0, init=False)

    def fit(self, X: np.ndarray, y: np.ndarray, splits: Splits) -> SVMProbe:
        """Choose C on the validation split from draws of the pool; remembers the training data."""
        if self.per_class is not None and self.per_class < 1:
            raise ValueError(f"per_class must be >= 1 or None, got {self.per_class}")
        if not self.c_grid or self.draws_per_c < 1 or self.final_draws < 1:
            raise ValueError("c_grid must be non-empty and draws_per_c, final_draws >= 1")
        self.X_, self.y_, self.splits_ = np.asarray(X, np.float32), np.asarray(y), splits
        rng = np.random.default_rng(self.seed)
        per_c = 1 if self.per_class is None else self.draws_per_c
        Cs = [C for C in self.c_grid for _ in range(per_c)]  # fresh draws for every C (the authors' loop)
        draws = [draw_labelled(self.y_, splits.pool, self.per_class, rng) for _ in Cs]
        correct = self._fit(draws, Cs).predict(self.X_[splits.val]) == self.y_[splits.val]
        for C in self.c_grid:
            self.val_accuracy_[C] = float(np.mean([correct[i].mean() for i, c in enumerate(Cs) if c == C]))
        self.best_c_ = max(self.val_accuracy_, key=self.val_accuracy_.get)
        return self

    def score(self, X_test: np.ndarray, y_test: np.ndarray) -> dict:
        """Test error over fresh labelled draws at the chosen C. The draws depend only on the seed and the labels,
        so two feature sets scored with the same seed are paired draw by draw. Returns the per-draw errors,
        their mean, `draw_sd` (the authors report mean +- 1.96 draw_sd), and for one fit (all labels) the
        per-image mistakes (for McNemar) and the binomial `ci95` half-width of the error rate."""
        if self.best_c_ is None:
            raise RuntimeError("call fit before score")
        draws = scored_draws(self.y_, self.splits_.pool, self.per_class, self.final_draws, self.seed)
        wrong = self._fit(draws, [self.best_c_] * len(draws)).predict(X_test) != np.asarray(y_test)
        errs = wrong.mean(1)
        grid = sorted(self.c_grid)
        out = {"errors": errs.tolist(), "error_mean": float(errs.mean()), "draws": len(errs),
               "draw_sd": float(errs.std(ddof=1)) if len(errs) > 1 else None,
               "ci95": float(1.96 * np.sqrt(errs[0] * (1 - errs[0]) / len(y_test))) if len(errs) == 1 else None,
               "best_c": self.best_c_, "c_at_edge": self.best_c_ in (grid[0], grid[-1]) and len(grid) > 1,
               "not_converged": self.not_converged_, "fits": self.fits_, "val_accuracy": self.val_accuracy_,
               "n_labels": int(len(draws[-1])), "feature_dim": int(self.X_.shape[1])}
        if len(draws) == 1:
            out["wrong"] = wrong[0]
        return out

    def _fit(self, draws: list[np.ndarray], Cs: list[float]) -> LinearFits:
        fits = fit_l2svm(self.X_, self.y_, draws, Cs, self.device, self.solver)
        self.fits_ += len(draws)
        self.not_converged_ += fits.not_converged
        return fits


def pixel_features(images: np.ndarray) -> np.ndarray:
    """Raw pixels scaled to [-1, 1], flattened: the simplest baseline."""
    return (np.asarray(images, np.float32).reshape(len(images), -1) / 127.5 - 1).astype(np.float32)


class KMeansFeatures:
    """Single-layer K-means features (Coates, Lee & Ng 2011), following their released code: 6x6 random patches,
    per-patch brightness/contrast normalisation with their constant (variance + 10 on the 0-255 scale), ZCA
    whitening (eps 0.1), K centroids by 50 Lloyd iterations, triangle activation, sum-pooling over 4 quadrants
    -> 4K dims, standardised with the fit images' feature mean and sqrt(var + 0.01). One departure: 100,000
    patches by default where they used 400,000 (memory on a laptop); K is set per profile."""

    def __init__(self, n_centroids: int = 1600, patch: int = 6, n_patches: int = 100_000, seed: int = 0,
                 iters: int = 50, device: str = "cpu"):
        if n_centroids < 2 or patch < 2:
            raise ValueError(f"n_centroids and patch must be >= 2, got {n_centroids}, {patch}")
        self.n_centroids, self.patch, self.n_patches, self.seed, self.iters = n_centroids, patch, n_patches, seed, iters
        self.device = device

    @staticmethod
    def _normalise(p: torch.Tensor) -> torch.Tensor:
        """Per-patch brightness and contrast normalisation; pixels are in [0, 1], so Coates & Ng's +10 on the
        0-255 scale is 10 / 255^2 here (it keeps flat patches finite)."""
        return (p - p.mean(-1, keepdim=True)) / torch.sqrt(p.var(-1, keepdim=True) + 10 / 255**2)

    def _patches(self, x: torch.Tensor) -> torch.Tensor:
        """All patch x patch windows (stride 1) as normalised rows: (N, L, C*p*p)."""
        return self._normalise(torch.nn.functional.unfold(x, self.patch).transpose(1, 2))

    def fit(self, images: np.ndarray) -> KMeansFeatures:
        g = torch.Generator().manual_seed(self.seed)
        x = torch.from_numpy(np.array(images)).float() / 255
        n, _, h, w = x.shape
        img = torch.randint(0, n, (self.n_patches,), generator=g)
        r = torch.randint(0, h - self.patch + 1, (self.n_patches,), generator=g)
        c = torch.randint(0, w - self.patch + 1, (self.n_patches,), generator=g)
        pats = torch.stack([x[i, :, a:a + self.patch, b:b + self.patch] for i, a, b in zip(img, r, c)]).flatten(1)
        pats = self._normalise(pats)
        self.mean_ = pats.mean(0)
        cov = torch.cov((pats - self.mean_).T.double())
        evals, evecs = torch.linalg.eigh(cov)
        self.zca_ = (evecs @ torch.diag(1 / torch.sqrt(evals.clamp_min(0) + 0.1)) @ evecs.T).float()
        white = (pats - self.mean_) @ self.zca_
        cent = white[torch.randperm(len(white), generator=g)[:self.n_centroids]].clone()
        for _ in range(self.iters):  # Lloyd iterations (Coates & Ng: 50 of plain K-means)
            assign = torch.cdist(white, cent).argmin(1)
            sums = torch.zeros_like(cent).index_add_(0, assign, white)
            counts = torch.bincount(assign, minlength=len(cent)).float()[:, None]
            cent = torch.where(counts > 0, sums / counts.clamp_min(1), cent)
        self.centroids_ = cent
        self.feat_mean_, self.feat_std_ = 0.0, 1.0
        f = self.transform(images)
        self.feat_mean_, self.feat_std_ = f.mean(0), np.sqrt(f.var(0) + 0.01)
        return self

    @torch.no_grad()
    def transform(self, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
        out = []
        for i in range(0, len(images), batch_size):
            x = torch.from_numpy(np.array(images[i:i + batch_size])).float() / 255
            n, _, h, w = x.shape
            z = torch.cdist((self._patches(x) - self.mean_) @ self.zca_, self.centroids_[None].expand(n, -1, -1))
            f = (z.mean(-1, keepdim=True) - z).clamp_min(0)  # triangle activation
            side = h - self.patch + 1
            f = f.view(n, side, side, -1)
            m = side // 2
            quads = [f[:, :m, :m], f[:, :m, m:], f[:, m:, :m], f[:, m:, m:]]
            out.append(torch.cat([q.sum((1, 2)) for q in quads], 1).numpy())
        return ((np.concatenate(out) - self.feat_mean_) / self.feat_std_).astype(np.float32)


def d_features(D, images: np.ndarray, pool_images: np.ndarray | None = None) -> np.ndarray:
    """Sec. 5.1 features of a discriminator; with pool_images, BN uses population statistics averaged over
    that unlabelled pool first (the authors' choice), else the running statistics from training."""


    if pool_images is not None:
        D = copy.deepcopy(D)
        set_population_bn_stats(D, pool_images)
    return discriminator_features(D, images).numpy()


def probe_study(feature_sets: dict[str, tuple[np.ndarray, np.ndarray]], y: np.ndarray, y_test: np.ndarray,
                splits: Splits, per_class: list[int | None], c_grid, draws_per_c: int, final_draws: int, seed: int,
                progress: bool = True, device: str = "cpu") -> dict:
    """Run the SVM protocol for every feature set and every labelled-subset size: {(name, per_class): score}.
    Every feature set sees the same label draws (same seed), so their scores are paired."""
    out = {}
    for name, (X, X_test) in feature_sets.items():
        for k in per_class:
            probe = SVMProbe(per_class=k, c_grid=tuple(c_grid), draws_per_c=draws_per_c, final_draws=final_draws,
                             seed=seed, device=device)
            out[(name, k)] = s = probe.fit(X, y, splits).score(X_test, y_test)
            if progress:
                print(f"seed {seed} | {name:>34} | {'all' if k is None else f'{k}/class':>9} | dim {X.shape[1]:>6} "
                      f"| test error {s['error_mean']:.2%} | C={s['best_c']:g}"
                      f"{' (grid edge)' if s['c_at_edge'] else ''}"
                      f" | {s['not_converged']}/{s['fits']} fits not converged")
    return out


TRAINED, RANDOM, RANDOM2, PIXELS = ("DCGAN D (trained)", "DCGAN D (random weights)",
                                    "DCGAN D (random weights, 2nd init)", "raw pixels")
NOISE = "noise features (no label information)"  # the positive control of every "A beats B": B beats noise
NOISE_DIM = 64


def noise_features(n_train: int, n_test: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian features independent of the images: any feature set with label information beats them."""
    rng = np.random.default_rng(stream_seed("noise features", seed))
    return rng.standard_normal((n_train, NOISE_DIM), np.float32), rng.standard_normal((n_test, NOISE_DIM), np.float32)


def trained_features(D, train_images: np.ndarray, test_images: np.ndarray, pool_images: np.ndarray,
                     bn_stats: str) -> tuple[np.ndarray, np.ndarray]:
    """A trained D's features of the train and test images: batch norm with the pool's population statistics, or
    with D's running ones (`bn_stats`)."""
    pool = pool_images if bn_stats == "population" else None
    return d_features(D, train_images, pool), d_features(D, test_images, pool)


def feature_sets(D, train_images: np.ndarray, test_images: np.ndarray, pool_images: np.ndarray,
                 kmeans_centroids: int, bn_stats: str, seed: int) -> dict:
    """The features every probe compares, each as (train, test): the trained D, the same D at two random inits
    (population BN statistics, since its running ones are untrained; two inits are the negative control of every
    "A beats B": no difference by construction), raw pixels, K-means (Coates & Ng) fitted on the pool, and noise
    features (the positive control: every B beats them)."""

    if bn_stats not in ("population", "running"):
        raise ValueError(f"bn_stats must be 'population' or 'running', got {bn_stats!r}")
    device = next(D.parameters()).device
    out = {TRAINED: trained_features(D, train_images, test_images, pool_images, bn_stats)}
    for name, init in ((RANDOM, seed), (RANDOM2, stream_seed("second init", seed))):
        D_random = initial_models(D.config, init)[1].to(device)  # the D a run of this seed starts from
        out[name] = (d_features(D_random, train_images, pool_images), d_features(D_random, test_images, pool_images))
    km = KMeansFeatures(kmeans_centroids, seed=seed).fit(pool_images)
    out[PIXELS] = (pixel_features(train_images), pixel_features(test_images))
    out[f"K-means, {kmeans_centroids} centroids"] = (km.transform(train_images), km.transform(test_images))
    out[NOISE] = noise_features(len(train_images), len(test_images), seed)
    return out

import numpy as np
import pytest
from sklearn.datasets import load_digits

from dcgan_core.instruments import svm
from dcgan_core.instruments.probes import draw_labelled
from dcgan_core.instruments.svm import LinearFits, fit_l2svm, objective


def features(kind: str):
    """Probe-like data: digits as raw pixels (d < n), and a wide non-negative random-ReLU embedding of them
    (d > n, features with a large common mean like D's), which is what makes liblinear slow."""
    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    if kind == "wide":
        W = np.random.default_rng(0).normal(size=(64, 600)).astype(np.float32) / 4
        X = np.maximum(X @ W, 0.2 * X @ W) + 0.5
    return X, y


def problems(y, per_class, Cs, draws_per_c, seed=0):
    rng = np.random.default_rng(seed)
    pool = np.arange(1200)
    Cs = [C for C in Cs for _ in range(draws_per_c)]
    return [draw_labelled(y, pool, per_class, rng) for _ in Cs], Cs


@pytest.mark.parametrize("kind", ["pixels", "wide"])
def test_newton_reaches_liblinears_optimum_on_every_fit(kind):
    X, y = features(kind)
    draws, Cs = problems(y, 20, (1e-4, 1e-2, 1.0), 2)
    ours, ref = fit_l2svm(X, y, draws, Cs, solver="newton"), fit_l2svm(X, y, draws, Cs, solver="liblinear")
    assert ours.solver == "newton" and ref.solver == "liblinear" and ours.not_converged == 0
    for i, (idx, C) in enumerate(zip(draws, Cs)):
        for c in range(10):
            y_pm = np.where(y[idx] == c, 1.0, -1.0)
            a = objective(ours.coef[i, c], ours.intercept[i, c], X[idx], y_pm, C)
            b = objective(ref.coef[i, c], ref.intercept[i, c], X[idx], y_pm, C)
            assert a <= b * (1 + 1e-4), (i, c, a, b)  # never worse than liblinear's, beyond the tolerance
            assert abs(a - b) <= 1e-4 * b
    test = np.arange(1200, len(y))
    err_ours = (ours.predict(X[test]) != y[test]).mean(1)
    err_ref = (ref.predict(X[test]) != y[test]).mean(1)
    assert np.abs(err_ours - err_ref).max() <= 0.001


def test_solution_satisfies_the_optimality_condition():
    """The gradient of the primal objective vanishes at the solution (up to the float32 products of the features;
    one Newton step short of the end leaves a gradient of the order of w itself)."""
    X, y = features("wide")
    draws, Cs = problems(y, 10, (1e-3, 1e-1), 1)
    fits = fit_l2svm(X, y, draws, Cs, solver="newton")
    for i, (idx, C) in enumerate(zip(draws, Cs)):
        Xa = np.hstack([X[idx].astype(np.float64), np.ones((len(idx), 1))])
        for c in range(10):
            w = np.append(fits.coef[i, c], fits.intercept[i, c])
            y_pm = np.where(y[idx] == c, 1.0, -1.0)
            slack = np.maximum(0, 1 - y_pm * (Xa @ w))
            grad = w - 2 * C * Xa.T @ (slack * y_pm)
            assert np.abs(grad).max() <= 1e-3 * np.abs(w).max()


def test_gram_of_the_union_and_per_batch_give_the_same_fits(monkeypatch):
    X, y = features("pixels")
    draws, Cs = problems(y, 15, (1e-3, 1e-1), 3)
    union = fit_l2svm(X, y, draws, Cs, solver="newton")
    monkeypatch.setattr(svm, "BATCH_BYTES", 8 * 150 * 150 * 2)  # no union Gram; two draws per batch
    batched = fit_l2svm(X, y, draws, Cs, solver="newton")
    assert np.allclose(union.coef, batched.coef, atol=1e-6) and np.allclose(union.intercept, batched.intercept,
                                                                              atol=1e-6)


def test_two_classes_match_liblinears_single_row():
    X, y = features("pixels")
    keep = np.flatnonzero(y < 2)
    Xb, yb = X[keep], y[keep]
    draws = [np.arange(0, 200), np.arange(100, 300)]
    ours, ref = (fit_l2svm(Xb, yb, draws, [1e-2, 1.0], solver=s) for s in ("newton", "liblinear"))
    assert ours.coef.shape == ref.coef.shape == (2, 2, 64)
    assert np.allclose(ours.coef, ref.coef, atol=2e-3) and np.array_equal(ours.predict(Xb), ref.predict(Xb))


def test_large_draws_fall_back_to_liblinear(monkeypatch):
    X, y = features("pixels")
    draws, Cs = problems(y, 10, (1e-2,), 1)
    monkeypatch.setattr(svm, "MAX_KERNEL_N", 50)
    assert fit_l2svm(X, y, draws, Cs).solver == "liblinear"
    assert fit_l2svm(X, y, draws, Cs, solver="newton").solver == "newton"


def test_bad_input_is_refused_by_name():
    X, y = features("pixels")
    draws, Cs = problems(y, 5, (1e-2,), 2)
    with pytest.raises(ValueError, match="one C per draw"):
        fit_l2svm(X, y, draws, Cs[:1])
    with pytest.raises(ValueError, match="solver"):
        fit_l2svm(X, y, draws, Cs, solver="sgd")
    with pytest.raises(ValueError, match="two classes"):
        fit_l2svm(X, np.zeros_like(y), draws, Cs)
    bad = X.copy()
    bad[draws[1][0]] = np.nan
    with pytest.raises(ValueError, match="not all finite"):
        fit_l2svm(bad, y, draws, Cs)
    fits = fit_l2svm(X, y, draws, Cs)
    assert isinstance(fits, LinearFits)
    with pytest.raises(ValueError, match="not all finite"):
        fits.predict(bad)

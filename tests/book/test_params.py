"""One parameter object per chapter: profile values, papermill overrides, errors named before any work."""

import re

import pytest

from dcgan_core.book import params, pipeline
from dcgan_core.book.pipeline import ParameterError


@pytest.mark.parametrize("overrides, message", [
    ({"model": "bedrooms"}, "model='bedrooms' is not a model of profile 'smoke'; valid: rooms"),
    ({"steps": 1}, "steps=1 must be an integer >= 3"),
    ({"n_anchors": "9"}, "n_anchors='9' must be an integer >= 2"),
    ({"repeats": 0}, "repeats=0 must be an integer >= 1"),
    ({"seeds": []}, "seeds=[] must be a non-empty list"),
])
def test_bad_parameters_are_named_before_any_work(overrides, message):
    with pytest.raises(ParameterError, match=re.escape(message)):
        params.load("05_latent_walks", "smoke", overrides)


def test_overrides_replace_profile_values_and_none_keeps_them():
    p = params.load("05_latent_walks", "smoke", {"repeats": 3, "steps": None, "unrelated_global": 1})
    base = params.load("05_latent_walks", "smoke")
    assert p.repeats == 3 and p.steps == base.steps
    with pytest.raises(ParameterError, match="no parameters defined for notebook '09_x'"):
        params.load("09_x", "smoke")


def test_probe_parameters_are_checked():
    with pytest.raises(ParameterError, match="per_class"):
        params.load("03_cifar_probe", "smoke", {"per_class": [0]})
    with pytest.raises(ParameterError, match="supervised_draws=99 must be in 1..final_draws"):
        params.load("04_svhn_probe", "smoke", {"supervised_draws": 99})
    with pytest.raises(ParameterError, match="labelled_pack='svhn' is not a pack"):
        params.load("04_svhn_probe", "smoke", {"labelled_pack": "svhn"})


def test_dedup_parameters_are_checked():
    with pytest.raises(ParameterError, match="radii=.* starting with 0"):
        params.load("02_dedup", "smoke", {"radii": [2, 4]})
    with pytest.raises(ParameterError, match="radii=.* in 0..16"):
        params.load("02_dedup", "smoke", {"radii": [0, 40]})
    with pytest.raises(ParameterError, match="dup_sources=901 must be <= dup_unique=900"):
        params.load("02_dedup", "smoke", {"dup_sources": 901})
    with pytest.raises(ParameterError, match="clean_pack='lsun' is not a pack"):
        params.load("02_dedup", "smoke", {"clean_pack": "lsun"})
    with pytest.raises(ParameterError, match=r"dup_unique \+ dup_sources x dup_copies = 110 must be >= 1000"):
        params.load("02_dedup", "smoke", {"dup_unique": 100, "dup_sources": 1, "dup_copies": 10})
    with pytest.raises(ParameterError, match=r"layer=5 must index G's 3 hidden layers: 0..2 or -3..-1"):
        params.load("07_window_removal", "smoke", {"layer": 5})


def test_summary_names_settings_without_paths():
    text = params.load("05_latent_walks", "smoke").summary()
    assert text.startswith("profile smoke on cpu: model=rooms") and "/" not in text


def test_arithmetic_parameters_are_checked():
    assert params.load("08_face_arithmetic", "smoke").k == 3
    with pytest.raises(ParameterError, match=r"k_sweep=\[3, 10\] must be .* includes 1"):
        params.load("08_face_arithmetic", "smoke", {"k_sweep": [3, 10]})
    with pytest.raises(ParameterError, match="and k=5"):
        params.load("08_face_arithmetic", "smoke", {"k": 5})


def test_a_profile_sets_only_what_it_changes_from_the_paper():
    """The paper's values are the parameter objects' defaults; a profile repeating one would be a second home."""
    for profile in ("smoke", "cpu", "paper"):
        for notebook, section in pipeline.load_profile(profile)["notebooks"].items():
            repeated = {k: v for k, v in section.items() if k in params.defaults(notebook)
                        and params.defaults(notebook)[k] == v}
            assert not repeated, f"profiles/{profile}.yaml {notebook} repeats the default(s) {repeated}"


def test_a_left_out_parameter_takes_the_paper_value():
    assert params.load("05_latent_walks", "paper").n_anchors == 9  # Sec. 6.1, from the default
    assert params.load("04_svhn_probe", "paper").c_grid == [1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2]
    assert params.defaults("04_svhn_probe")["per_class"] == [100] != params.defaults("03_cifar_probe")["per_class"]

"""The pipeline: profiles, parameters, run reuse, and the smoke profile end to end (book included)."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dcgan_core.book import params, pipeline
from dcgan_core.book.pipeline import ParameterError
from dcgan_core.book.results import CHECK_WORDS, Recorder
from dcgan_core.verdicts.rules import VERDICTS

ROOT = Path(__file__).resolve().parents[2]


def test_profiles_are_valid_and_give_every_notebook_its_parameters():
    notebooks = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks == sorted(params.CHAPTERS)  # a chapter is a notebook file, with its parameter object
    for profile in ("smoke", "cpu", "paper"):
        prof = pipeline.load_profile(profile)
        assert sorted(prof["notebooks"]) == notebooks
        for nb in notebooks:
            assert params.load(nb, profile).profile == profile


def test_cpu_profile_rests_every_verdict_on_three_seeds():
    for nb in params.CHAPTERS:
        assert len(params.load(nb, "cpu").seeds) >= 3, nb


def test_paper_profile_uses_the_paper_settings():
    prof = pipeline.load_profile("paper")
    assert prof["models"]["lsun"]["preset"] == "paper-lsun64" and prof["device"] == "cuda"
    assert params.load("05_latent_walks", "paper").n_anchors == 9  # Sec. 6.1
    assert params.load("04_svhn_probe", "paper").supervised_trials == 64  # Table 2


def test_profiles_resolve_from_any_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert pipeline.load_profile("smoke")["device"] == "cpu"
    assert params.load("01_training", "smoke").out_dir == ROOT / "book" / "chapters" / "01_training"
    with pytest.raises(ParameterError, match=f"valid profiles in {ROOT / 'profiles'}: cpu, paper, smoke"):
        pipeline.load_profile("laptop")


def test_unknown_preset_or_profile_key_is_named(tmp_path, monkeypatch):
    import yaml
    prof = yaml.safe_load((ROOT / "profiles" / "smoke.yaml").read_text())
    prof["models"]["rooms"]["preset"] = "dcgan64"
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(prof))
    monkeypatch.setattr(pipeline, "PROFILES_DIR", tmp_path)
    with pytest.raises(ParameterError, match="preset='dcgan64' is unknown; valid presets: paper-lsun64"):
        pipeline.load_profile("bad")
    prof = yaml.safe_load((ROOT / "profiles" / "smoke.yaml").read_text())
    prof["notebooks"]["05_latent_walks"]["repeets"] = 3
    (tmp_path / "typo.yaml").write_text(yaml.safe_dump(prof))
    with pytest.raises(ParameterError, match=r"unknown parameter\(s\) \['repeets'\]"):
        params.load("05_latent_walks", "typo")


def test_a_model_scored_on_a_probe_s_test_set_is_refused(tmp_path, monkeypatch):
    import yaml
    prof = yaml.safe_load((ROOT / "profiles" / "smoke.yaml").read_text())
    monkeypatch.setattr(pipeline, "PROFILES_DIR", tmp_path)
    for role, pack_name in (("heldout", "mnist-test"), ("data", "mnist-test"), ("heldout", "copy-of-test")):
        bad = {**prof, "packs": {**prof["packs"], "copy-of-test": prof["packs"]["mnist-test"]},
               "models": {**prof["models"], "mnist": {**prof["models"]["mnist"], role: pack_name}}}
        (tmp_path / "reuse.yaml").write_text(yaml.safe_dump(bad, sort_keys=False))
        with pytest.raises(ParameterError, match=f"model 'mnist' {role}='{pack_name}' is the test set chapter "
                                                 r"04_svhn_probe reports \(test_pack='mnist-test'\)"):
            pipeline.load_profile("reuse")
    monkeypatch.setattr(pipeline, "PROFILES_DIR", ROOT / "profiles")
    for name in ("smoke", "cpu", "paper"):  # the shipped profiles keep the sets apart
        pipeline.load_profile(name)


def test_dedup_packs_follow_the_pack_they_deduplicate(tmp_path, monkeypatch):
    import yaml
    prof = yaml.safe_load((ROOT / "profiles" / "smoke.yaml").read_text())
    prof["packs"] = {"rooms-dedup": {"source": "dedup", "of": "rooms"}, **prof["packs"]}
    (tmp_path / "early.yaml").write_text(yaml.safe_dump(prof, sort_keys=False))
    monkeypatch.setattr(pipeline, "PROFILES_DIR", tmp_path)
    with pytest.raises(ParameterError, match="pack 'rooms-dedup' .source dedup. needs of: <a pack listed before it>"):
        pipeline.load_profile("early")
    monkeypatch.setattr(pipeline, "PROFILES_DIR", ROOT / "profiles")
    paper = pipeline.load_profile("paper")
    assert paper["packs"]["lsun-bedroom-dedup"]["of"] == "lsun-bedroom"
    assert paper["models"]["lsun"]["data"] == "lsun-bedroom-dedup"  # Sec. 4.1.1: de-duplicated before training


@pytest.mark.pipeline
def test_smoke_profile_end_to_end_builds_the_book(tmp_path):
    """`make reproduce PROFILE=smoke` in a copy of the working tree; then check the built book."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.split()
    work = tmp_path / "tree"
    for f in files:
        if (ROOT / f).is_file():
            (work / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, work / f)
    (work / ".venv").symlink_to(Path(sys.prefix))
    env = {**os.environ, "PYTHONPATH": str(work)}
    make = ["make", "PROFILE=smoke", "SETUP="]  # SETUP= : use the shared .venv as it is
    proc = subprocess.run([*make, "reproduce"], cwd=work, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    html = work / "_build" / "html"
    chapters = sorted(p.stem for p in (work / "notebooks").glob("*.ipynb"))
    for ch in chapters:
        assert (html / "book" / "chapters" / f"{ch}.html").is_file(), ch
        assert not (work / "book" / "chapters" / f"{ch}.failed.ipynb").exists()
    n_claims = sum(len(json.loads((work / "book" / "chapters" / ch / "results.json").read_text())["claims"])
                   for ch in chapters)
    page = (html / "book" / "generated" / "results.html").read_text()
    summaries = [t for t in re.findall(r"<table.*?</table>", page, re.S) if "Deciding statistic" in t]
    assert len(summaries) == 2  # the paper's claims, then the self-checks
    body = "".join(re.findall(r"<tbody>(.*?)</tbody>", "".join(summaries), re.S))
    rows = re.findall(r"<tr", body)
    assert n_claims >= len(chapters) and len(rows) == n_claims
    badges = re.findall(r'white-space:nowrap">([^<]+)</span>', body)
    assert len(badges) == n_claims and set(badges) <= set(VERDICTS) | set(CHECK_WORDS.values())
    from dcgan_core.book.bookcheck import check_book
    assert check_book(html) == []  # no absolute path, parameter dump, missing image or narrow chapter figure
    assert "fig-forest" in page
    assert (html / "book" / "generated" / "rule-history.html").is_file()
    for claim in (c for ch in chapters for c in json.loads((work / "book" / "chapters" / ch / "results.json")
                                                          .read_text())["claims"]):
        assert claim["rule"] and claim["code"].startswith("dcgan_core.verdicts.rules."), claim["claim"]

    # a bad parameter stops papermill in the validation cell, and nothing is published
    bad = subprocess.run([*make, "notebook", "NB=05_latent_walks", "ARGS=-p steps 1"], cwd=work, env=env,
                         capture_output=True, text=True)
    assert bad.returncode != 0
    assert "steps=1 must be an integer >= 3" in bad.stdout + bad.stderr
    assert not (work / "book" / "chapters" / "05_latent_walks.ipynb").exists()
    assert (work / "book" / "chapters" / "05_latent_walks.failed.ipynb").exists()


def test_a_pack_from_an_older_renderer_is_remade(tmp_path, monkeypatch):
    import yaml

    from dcgan_core.data import synth_faces
    prof = {"device": "cpu", "models": {}, "notebooks": {},
            "packs": {"f": {"source": "synth-faces", "resolution": 32, "limit": 4, "seed": 0}}}
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(prof))
    monkeypatch.setattr(pipeline, "PROFILES_DIR", tmp_path)
    monkeypatch.setattr(pipeline, "pack_dir", lambda profile, name: tmp_path / "packed" / name)
    path = pipeline.ensure_packs("tiny", progress=False)[0]
    stamp = json.loads((path / "pack-args.json").read_text())
    assert stamp["args"]["generator_version"] == synth_faces.VERSION
    mtime = (path / "pack-args.json").stat().st_mtime_ns
    pipeline.ensure_packs("tiny", progress=False)
    assert (path / "pack-args.json").stat().st_mtime_ns == mtime  # same renderer: kept
    monkeypatch.setattr(synth_faces, "VERSION", synth_faces.VERSION + 1)
    pipeline.ensure_packs("tiny", progress=False)
    assert json.loads((path / "pack-args.json").read_text())["args"]["generator_version"] == synth_faces.VERSION


def test_a_bad_process_count_stops_make_reproduce_before_packing(monkeypatch, capsys):
    monkeypatch.setattr(pipeline, "ensure_packs", lambda profile: pytest.fail("packed despite NPROC=3"))
    monkeypatch.setenv("DCGAN_NPROC", "3")
    assert pipeline.main(["packs", "smoke"]) == 2 and "divide" in capsys.readouterr().out




def test_the_summary_prints_the_build_s_wall_time(tmp_path, monkeypatch, capsys):
    chapters, generated = tmp_path / "chapters", tmp_path / "generated"
    rec = Recorder("05_latent_walks", "Walking the latent space", chapters / "05_latent_walks", "smoke")
    rec.write(parameters="-")
    monkeypatch.setattr(pipeline, "CHAPTERS_DIR", chapters)
    monkeypatch.setattr(pipeline, "GENERATED_DIR", generated)
    assert pipeline.main(["summary", "smoke"]) == 0
    out = capsys.readouterr().out
    assert "the build's wall time" in out and "| Walking the latent space | smoke |" in out and "**total" in out


def test_the_train_step_lists_every_run_the_chapters_read():
    listed = pipeline.chapter_runs("cpu")
    prof = pipeline.load_profile("cpu")
    assert set(listed) == {(m, s) for m in ("rooms", "faces", "mnist", "rooms-w16") for s in prof["seeds"]}
    assert len(listed) == len(set(listed))
    for name, section in prof["notebooks"].items():  # every chapter's model and seeds are among them
        if name == pipeline.GUIDELINES:  # its variants are `guideline_jobs` (tests/studies/test_guidelines.py)
            continue
        for m in [*(section.get("train_models") or [section.get("model") or section.get("gan_model")]),
                  *section.get("widths", [])]:
            assert {(m, s) for s in section["seeds"]} <= set(listed), name


def test_seeds_replace_every_chapter_s_training_seeds(monkeypatch):
    prof = pipeline.load_profile("cpu")
    other = pipeline.with_seeds(prof, "3,4,5")
    assert other["seeds"] == [3, 4, 5] and prof["seeds"] == [0, 1, 2]  # the profile itself is left as it was
    assert all(s["seeds"] == [3, 4, 5] for s in other["notebooks"].values() if "seeds" in s)
    models = ("rooms", "faces", "mnist", "rooms-w16")
    assert set(pipeline.chapter_runs("cpu")) == {(m, s) for m in models for s in (0, 1, 2)}
    monkeypatch.setenv("DCGAN_SEEDS", "3,4,5")
    assert set(pipeline.chapter_runs("cpu")) == {(m, s) for m in models for s in (3, 4, 5)}
    for bad, why in (("3,x", "integers"), ("3,3,4", "repeats")):
        with pytest.raises(ParameterError, match=why):
            pipeline.with_seeds(prof, bad)


def test_the_verdict_comparison_flags_a_change_outside_borderline():
    from dcgan_core.book.results import verdict_comparison

    def build(*verdicts):
        return [{"chapter": "01", "claims": [{"section": "4.1", "claim": f"c{i}", "verdict": v, "seeds": [0]}
                                             for i, v in enumerate(verdicts)]}]
    out = verdict_comparison(build("reproduced", "borderline", "partly"), build("reproduced", "not reproduced",
                                                                                "not reproduced"))
    assert "changed (one side borderline)" in out and out.count("**changed**") == 1
    assert out.endswith("1 verdict(s) outside 'borderline' changed; 0 claim(s) in one build only.")


def test_the_train_step_trains_each_judge_and_detector_once(monkeypatch):
    from types import SimpleNamespace
    prof = pipeline.load_profile("cpu")
    boxes = {prof["models"]["rooms"]["data"]}  # only the rooms pack has object boxes
    monkeypatch.setattr(pipeline, "load_pack", lambda path: SimpleNamespace(
        boxes=[[]] if Path(path).name in boxes else None))
    packs = {k: f"/packs/{k}" for k in prof["packs"]}
    jobs = pipeline.instrument_jobs(prof, packs, Path("/runs"))
    kinds = [(fn.__name__, args[1], args[6]) for fn, args in jobs]
    assert all(args[0] is prof["models"] for _, args in jobs)  # negatives come from the profile's models
    judged = prof["notebooks"]["01_training"]["train_models"]
    guided = ["mnist16-fit", "rooms16"]  # the guidelines chapter's judges; its 32-px digits share mnist's pack
    assert kinds == [("_judge_job", prof["models"][m]["data"], scorer) for scorer in ("a", "b") for m in judged] + [
        ("_judge_job", data, "a") for data in guided] + [
        ("_detector_job", "rooms", scorer) for scorer in ("a", "b")]  # both scorers of every instrument
    assert jobs[-1][1][3] == prof["detector_epochs"]  # one home for the segmenter's epochs: the profile


def test_chapters_side_by_side_and_the_time_of_their_step(tmp_path, monkeypatch):
    import time as clock
    monkeypatch.setenv("DCGAN_JOBS", "3")
    assert pipeline.chapter_jobs("smoke") == (3, max(1, (os.cpu_count() or 1) // 3))
    monkeypatch.setenv("DCGAN_JOBS", "1")
    assert pipeline.chapter_jobs("smoke")[0] == 1
    monkeypatch.setattr(pipeline, "CHAPTERS_DIR", tmp_path)
    (tmp_path / "01_training.ipynb").write_text("{}")  # built before the step began: not rebuilt by it
    start = clock.time() + 1
    pipeline.record_chapters_time("smoke", start, 2)
    assert pipeline.chapters_time("smoke") is None  # nothing rebuilt, nothing recorded
    os.utime(tmp_path / "01_training.ipynb", (start + 1, start + 1))
    pipeline.record_chapters_time("smoke", start, 2)
    record = pipeline.chapters_time("smoke")
    assert record["rebuilt"] == ["01_training"] and record["jobs"] == 2
    assert pipeline.chapters_time("cpu") is None  # another profile's step says nothing of this one

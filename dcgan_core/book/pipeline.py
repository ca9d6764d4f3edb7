"""The reproduction pipeline: profiles, the packs and models they name, notebook parameters.

One module owns the paths, all anchored at the project root (the directory holding dcgan_core/, whatever
the working directory): packs in data/packed/<profile>/<name>, runs in runs/<profile>/<model>-s<seed>-<hash>,
executed chapters in book/chapters/<notebook>.ipynb with their results in book/chapters/<notebook>/.
`python -m dcgan_core.book.pipeline packs|train|summary|tidy|check-book ...` is what the Makefile calls.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import asdict
from pathlib import Path
from types import SimpleNamespace

import nbformat
import yaml

from dcgan_core.book.bookcheck import check_book
from dcgan_core.book.results import (
    bench_page,
    compute_page,
    load_results,
    results_page,
    rule_history_page,
    verdict_comparison,
    walltime_page,
)
from dcgan_core.core import runs
from dcgan_core.core.models import check_preset, resolve
from dcgan_core.data.embedded import generator_version
from dcgan_core.data.packed import load_pack
from dcgan_core.data.sources import pack_source
from dcgan_core.instruments import negatives
from dcgan_core.instruments.detector import DetectorConfig, detector_path, fit_detector
from dcgan_core.instruments.hashing import HasherConfig, dedup_pack
from dcgan_core.instruments.judges import SCORERS, JudgeConfig, Negatives, fit_judge, judge_path
from dcgan_core.plots import forest as forest_plot
from dcgan_core.plots import trends as trends_plot
from dcgan_core.studies import guidelines
from dcgan_core.utils.errors import ParameterError
from dcgan_core.utils.parallel import default_workers, run_jobs
from dcgan_core.utils.runinfo import atomic_write, git_commit, write_json

ROOT = Path(__file__).resolve().parents[2]  # the project root
PROFILES_DIR = ROOT / "profiles"
CHAPTERS_DIR = ROOT / "book" / "chapters"
GENERATED_DIR = ROOT / "book" / "generated"
PACK_KEYS = {"source", "root", "resolution", "channels", "split", "limit", "seed", "category", "crop",
             "of", "radius"}  # source "dedup": `of` another pack of the profile, at Hamming `radius` (Sec. 4.1.1)


def load_profile(name: str) -> dict:
    """profiles/<name>.yaml, checked for the keys every notebook relies on."""
    path = PROFILES_DIR / f"{name}.yaml"
    if not path.is_file():
        valid = sorted(p.stem for p in PROFILES_DIR.glob("*.yaml"))
        raise ParameterError(f"unknown profile {name!r}; valid profiles in {PROFILES_DIR}: "
                             f"{', '.join(valid) or 'none found'}")
    prof = yaml.safe_load(path.read_text())
    for key in ("device", "packs", "models", "notebooks"):
        if key not in prof:
            raise ParameterError(f"{path}: missing top-level key {key!r}")
    for key in ("judge_epochs", "detector_epochs"):
        if key in prof and (not isinstance(prof[key], int) or isinstance(prof[key], bool) or prof[key] < 1):
            raise ParameterError(f"{path}: {key} must be an integer >= 1, got {prof[key]!r}")
    for pname, spec in prof["packs"].items():
        bad = set(spec) - PACK_KEYS
        if bad or "source" not in spec:
            raise ParameterError(f"{path}: pack {pname!r} needs 'source' and only keys from {sorted(PACK_KEYS)}; "
                                 f"got {sorted(spec)}")
        if spec["source"] == "dedup" and spec.get("of") not in list(prof["packs"])[:list(prof["packs"]).index(pname)]:
            raise ParameterError(f"{path}: pack {pname!r} (source dedup) needs of: <a pack listed before it>; "
                                 f"got {spec.get('of')!r}")
    for mname, spec in prof["models"].items():
        runs.check_entry(spec, f"{path}: model {mname!r}")
        try:
            check_preset(spec.get("preset"))
        except ValueError as e:
            raise ParameterError(f"{path}: model {mname!r} preset={spec.get('preset')!r} is unknown; "
                                 f"{str(e).split('; ')[-1]}") from None
        for ref in ("data", "heldout"):
            if spec.get(ref) not in prof["packs"]:
                raise ParameterError(f"{path}: model {mname!r} {ref}={spec.get(ref)!r} is not a pack of this profile")
    check_test_sets(prof, path)
    prof = with_seeds(prof, os.environ.get("DCGAN_SEEDS", ""))
    for chapter, section in prof["notebooks"].items():  # issue 25: the instruments' negatives train at other seeds
        for key in ("seeds", "control_seeds", "long_seeds"):
            try:
                negatives.check_seeds((section or {}).get(key, []), f"{path}: chapter {chapter} {key}")
            except ValueError as e:
                raise ParameterError(str(e)) from None
    return prof


def check_test_sets(prof: dict, path: str | Path) -> None:
    """Issue 25, no test-set reuse: no model trains on, or is scored against, a set a chapter reports as its test
    set (its held-out set scores quality and memorisation and chose training budgets). Packs are compared by their
    spec, so a copy of a test set under another name is refused too."""
    def spec(name: str) -> str:
        return json.dumps(prof["packs"].get(name), sort_keys=True)
    for chapter, section in prof["notebooks"].items():
        test = (section or {}).get("test_pack")
        if test is None:
            continue
        for mname, model in prof["models"].items():
            for role in ("heldout", "data"):
                if spec(model[role]) == spec(test):
                    raise ParameterError(
                        f"{path}: model {mname!r} {role}={model[role]!r} is the test set chapter {chapter} reports "
                        f"(test_pack={test!r}); a set a claim reports must not train a model, score it or choose its "
                        "budget: give the model a held-out pack of its own (e.g. split: val, and data split: fit)")


def with_seeds(prof: dict, seeds: str) -> dict:
    """The profile with every chapter's training seeds replaced by `seeds` ("3,4,5"; make reproduce SEEDS=3,4,5),
    to rebuild the same claims on another set of seeds; unchanged when empty."""
    if not seeds.strip():
        return prof
    try:
        values = [int(s) for s in seeds.split(",")]
    except ValueError:
        raise ParameterError(f"SEEDS={seeds!r} must be integers separated by commas, e.g. SEEDS=3,4,5") from None
    if len(set(values)) != len(values):
        raise ParameterError(f"SEEDS={seeds!r} repeats a seed; each seed is one independent training run")
    def reseeded(section: dict) -> dict:
        if "seeds" not in section:
            return section
        out = {**section, "seeds": values}
        if "control_seeds" in section:  # the guidelines' negative control: as many seeds again, after these
            out["control_seeds"] = [max(values) + 1 + i for i in range(len(values))]
        if "long_seeds" in section:  # the training chapter's runs the guidelines read
            out["long_seeds"] = values
        return out
    notebooks = {name: reseeded(section) for name, section in prof.get("notebooks", {}).items()}
    return {**prof, "seeds": values, "notebooks": notebooks}


def pack_dir(profile: str, name: str) -> Path:
    return ROOT / "data" / "packed" / profile / name


def runs_dir(profile: str) -> Path:
    return ROOT / "runs" / profile


def relative(path: str | Path) -> str:
    """A path as the book prints it: relative to the project root, never this machine's absolute path."""
    p = Path(path).resolve()
    return str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else p.name


def ensure_packs(profile: str, progress: bool = True) -> list[Path]:
    """Pack every dataset the profile names; a pack made with the same arguments is kept."""

    out = []
    for name, spec in load_profile(profile)["packs"].items():
        path = pack_dir(profile, name)
        stamp = path / "pack-args.json"
        if spec["source"] == "dedup":  # remade whenever the pack it de-duplicates or the hasher changed
            spec = {**spec, "input_sha256": load_pack(pack_dir(profile, spec["of"])).meta["sha256"],
                    "hasher": asdict(HasherConfig(seed=spec.get("seed", 0)))}
        if generator_version(spec["source"]) is not None:  # a procedural set's renderer changed: remake
            spec = {**spec, "generator_version": generator_version(spec["source"])}
        if stamp.is_file() and json.loads(stamp.read_text()).get("args") == spec:
            out.append(path)
            continue
        t0 = time.perf_counter()
        args = {k: v for k, v in spec.items() if k not in ("source", "generator_version")}
        if spec["source"] == "dedup":  # Sec. 4.1.1: the paper de-duplicated LSUN before training
            dedup_pack(pack_dir(profile, spec["of"]), path, spec.get("radius", 0),
                       HasherConfig(seed=spec.get("seed", 0)), overwrite=True, progress=progress)
        else:
            pack_source(spec["source"], path, overwrite=True, progress=progress, **args)
        stamp.write_text(json.dumps({"args": spec, "seconds": round(time.perf_counter() - t0, 1)}))
        out.append(path)
    return out


def pack_times(profile: str) -> dict[str, float]:
    """Seconds each of the profile's packs took to make (as recorded when it was made)."""
    times = {}
    for name in load_profile(profile)["packs"]:
        stamp = pack_dir(profile, name) / "pack-args.json"
        if stamp.is_file():
            times[name] = json.loads(stamp.read_text()).get("seconds")
    return times


def ensure_trained(name: str, entry: dict, packs: dict, device: str, runs_root: str | Path,
                   seed: int | None = None, progress: bool = True) -> Path:
    """Train a profile's model entry at `seed`, or reuse the run whose config matches (`core.runs`)."""
    return runs.ensure_trained(runs.entry_config(entry, packs[entry["data"]], device, seed, progress), name,
                               runs_root)


def ensure_variant(model: str, variant: str, entry: dict, packs: dict, device: str, runs_root: str | Path,
                   seed: int, progress: bool = True) -> Path:
    """A model entry's Sec. 3-4 variant at `seed` (`studies.guidelines`): trained once, reused, or kept as it
    stopped on a non-finite loss (`core.runs.ensure_outcome`)."""
    cfg = runs.entry_config(guidelines.variant_entry(entry, variant), packs[entry["data"]], device, seed, progress)
    return runs.ensure_outcome(cfg, guidelines.run_name(model, variant), runs_root)


def guideline_jobs(prof: dict, packs: dict, root: Path) -> list[tuple]:
    """Every run of the guidelines chapter, as (ensure_outcome, args) jobs for the training step."""
    section = prof.get("notebooks", {}).get(GUIDELINES)
    if not section:
        return []
    arms = SimpleNamespace(**{"variants": list(guidelines.VARIANTS), "high_res": [], **section})
    jobs = {(model, variant, seed) for model in [*arms.datasets, *arms.high_res]
            for variant, seeds in guidelines.arms_of(arms, model).values() for seed in seeds}
    return [(runs.ensure_outcome, (runs.entry_config(guidelines.variant_entry(prof["models"][m], v),
                                                     packs[prof["models"][m]["data"]], prof["device"], seed, False),
                                   guidelines.run_name(m, v), root))
            for m, v, seed in sorted(jobs)]


def instrument_negatives(models: dict, data: str, packs: dict, device: str, runs_root: str | Path) -> Negatives:
    """Issue 25: the GAN-type negatives of pack `data`'s instruments (`instruments.negatives`): the untrained and
    early G, at held-aside seeds, of the first profile model trained on it, and one pack of each other data source
    the profile's models train on. The same for every model of the pack, so its instruments train once."""
    name, entry = next((n, e) for n, e in models.items() if e["data"] == data)
    own = load_pack(packs[data])
    others = negatives.other_sources({e["data"]: load_pack(packs[e["data"]]) for e in models.values()}, own)
    cfg = runs.entry_config(entry, packs[data], device, progress=False)
    return negatives.training_negatives(cfg, name, runs_root, others)


def judge_of(models: dict, data: str, packs: dict, judge_epochs: int, device: str, runs_root: str | Path,
             scorer: str = "a", progress: bool = True):
    """Scorer `scorer` (a or b: `judges.SCORERS`) of the profile's pack `data` (a model's training pack), trained
    once with its negatives and cached under RUNS/judges (`fit_judge`)."""
    cfg = JudgeConfig.scorer(scorer, epochs=judge_epochs, device=device)
    return fit_judge(load_pack(packs[data]), cfg, Path(runs_root) / "judges", progress,
                     instrument_negatives(models, data, packs, device, runs_root))


def _judge_job(*args) -> None:  # in a worker process: the judge is cached, not sent back
    judge_of(*args, progress=False)


def judge_cached(models: dict, data: str, packs: dict, judge_epochs: int, device: str, runs_root: str | Path,
                 scorer: str = "a") -> bool:
    cfg = JudgeConfig.scorer(scorer, epochs=judge_epochs, device=device)
    return judge_path(load_pack(packs[data]), cfg, Path(runs_root) / "judges",
                      instrument_negatives(models, data, packs, device, runs_root)).is_file()


def detector_of(models: dict, data: str, packs: dict, epochs: int, device: str, runs_root: str | Path,
                scorer: str = "a", progress: bool = True):
    """Object segmenter `scorer` (a or b) of the profile's pack `data` (its boxes), trained once with its negatives
    and cached under RUNS/judges (`fit_detector`)."""
    return fit_detector(load_pack(packs[data]), DetectorConfig.scorer(scorer, epochs=epochs, device=device),
                        Path(runs_root) / "judges", progress,
                        instrument_negatives(models, data, packs, device, runs_root))


def _detector_job(*args) -> None:  # in a worker process: the detector is cached, not sent back
    detector_of(*args, progress=False)


def detector_cached(models: dict, data: str, packs: dict, epochs: int, device: str, runs_root: str | Path,
                    scorer: str = "a") -> bool:
    cfg = DetectorConfig.scorer(scorer, epochs=epochs, device=device)
    return detector_path(load_pack(packs[data]), cfg, Path(runs_root) / "judges",
                         instrument_negatives(models, data, packs, device, runs_root)).is_file()


DETECTOR_CHAPTERS = ("06_guided_backprop", "07_window_removal")  # the chapters that read the rooms segmenter
GUIDELINES = "00_guidelines"  # the Sec. 3-4 chapter: its variants train in the training step too


def instrument_jobs(prof: dict, packs: dict, root: Path) -> list[tuple]:
    """Both scorers of the judges (of the training chapter's models) and the object segmenters (of the models
    whose packs have boxes, in DETECTOR_CHAPTERS) the chapters read, as (function, args) jobs; each is cached, so
    they train once."""
    device, chapters = prof["device"], prof.get("notebooks", {})
    models = prof["models"]
    judged = [models[name]["data"] for name in chapters.get("01_training", {}).get("train_models", [])]
    epochs = prof.get("judge_epochs", JudgeConfig.epochs)
    jobs = [(_judge_job, (models, data, packs, epochs, device, root, scorer))
            for scorer in SCORERS for data in dict.fromkeys(judged)]
    guided = chapters.get(GUIDELINES) or {}  # the guidelines chapter reads scorer a of its data sets' judges
    more = dict.fromkeys(models[name]["data"] for name in (*guided.get("datasets", []), *guided.get("high_res", [])))
    jobs += [(_judge_job, (models, data, packs, epochs, device, root, "a")) for data in more if data not in judged]
    detected = dict.fromkeys(models[chapters[c]["model"]]["data"] for c in DETECTOR_CHAPTERS if c in chapters)
    epochs = prof.get("detector_epochs", DetectorConfig.epochs)
    return jobs + [(_detector_job, (models, data, packs, epochs, device, root, scorer))
                   for scorer in SCORERS for data in detected if load_pack(packs[data]).boxes is not None]


def chapter_runs(profile: str) -> list[tuple[str, int]]:
    """Every (model, seed) run the profile's chapters read (train_models and widths, model or gan_model, over their
    seeds)."""
    prof = load_profile(profile)
    out = []
    for section in prof.get("notebooks", {}).values():
        names = section.get("train_models") or [section.get("model") or section.get("gan_model")]
        names = [*names, *section.get("widths", [])]
        out += [(name, seed) for name in names if name in prof["models"] for seed in section.get("seeds", [])]
        out += [(name, seed) for name in section.get("long_runs", []) for seed in section.get("long_seeds", [])]
    return list(dict.fromkeys(out))


def train_all(profile: str, workers: int | None = None) -> None:
    """Train every run the chapters read and every judge and detector before the chapters run, `workers` processes
    side by side (on 2 cores, two single-threaded trainings outpace one on two threads: `make bench`). The
    chapters then reuse them by key; nothing here decides anything."""
    prof = load_profile(profile)
    device, root, packs = prof["device"], runs_dir(profile), {k: str(pack_dir(profile, k)) for k in prof["packs"]}
    jobs = [(runs.entry_config(prof["models"][name], packs[prof["models"][name]["data"]], device, seed), name, root)
            for name, seed in chapter_runs(profile)]
    workers = default_workers(device) if workers is None else workers
    if jobs and runs.processes(jobs[0][0].batch_size) > 1:  # each run launches through torchrun on every core
        workers = 1
    instruments = instrument_jobs(prof, packs, root)
    variants = guideline_jobs(prof, packs, root)
    cached = {_judge_job: judge_cached, _detector_job: detector_cached}
    todo = (sum(not runs.is_trained(*job) for job in jobs) + sum(not cached[fn](*args) for fn, args in instruments)
            + sum(not runs.is_trained(*args) for _, args in variants))
    t0 = time.perf_counter()
    run_jobs(runs.training_calls(runs.longest_first(jobs), workers) + instruments + variants, workers,
             desc="training runs, judges and detectors")
    write_json(root / "train-time.json", {"seconds": round(time.perf_counter() - t0, 1), "workers": workers,
                                          "jobs": len(jobs) + len(instruments) + len(variants), "trained": todo,
                                          "git_commit": git_commit()})


def chapter_jobs(profile: str) -> tuple[int, int]:
    """How many chapters run side by side after the training step, and the threads each gets (`default_workers`:
    JOBS, else one per CPU core; one chapter at a time on CUDA)."""
    n_chapters = len(load_profile(profile).get("notebooks", {}))
    workers = max(1, min(default_workers(load_profile(profile)["device"]), n_chapters))
    return workers, max(1, (os.cpu_count() or 1) // workers)


def record_chapters_time(profile: str, start: float, jobs: int) -> None:
    """The wall time of the chapters step that began at unix time `start`, and which chapters it rebuilt (their
    notebooks are newer than `start`), for the wall-time page; nothing is written when none was rebuilt."""
    prof = load_profile(profile)
    built = {name: CHAPTERS_DIR / f"{name}.ipynb" for name in prof.get("notebooks", {})}
    rebuilt = [name for name, path in built.items() if path.is_file() and path.stat().st_mtime >= start]
    if rebuilt:
        write_json(CHAPTERS_DIR / "chapters-time.json", {"profile": profile, "seconds": round(time.time() - start, 1),
                                                         "jobs": jobs, "rebuilt": rebuilt})


def chapters_time(profile: str) -> dict | None:
    """The last chapters step's record (`record_chapters_time`), if it was of this profile."""
    path = CHAPTERS_DIR / "chapters-time.json"
    record = json.loads(path.read_text()) if path.is_file() else None
    return record if record and record.get("profile") == profile else None


def train_time(profile: str) -> dict | None:
    """What the last training step of the profile took (`train_all`), if it ran."""
    path = runs_dir(profile) / "train-time.json"
    return json.loads(path.read_text()) if path.is_file() else None


def profile_compute(name: str) -> list[dict]:
    """Issue 27: per model of profile `name`, the images it sees (epochs x its pack on this machine, else x the
    pack's `limit`; None when neither is known), its epochs, resolution and G's and D's widths
    (`results.compute_page`)."""
    prof = load_profile(name)
    out = []
    for model, entry in prof["models"].items():
        meta = pack_dir(name, entry["data"]) / "meta.json"
        n = json.loads(meta.read_text())["count"] if meta.is_file() else prof["packs"][entry["data"]].get("limit")
        cfg = runs.entry_config(entry, pack_dir(name, entry["data"]), "cpu", progress=False)  # only its sizes
        model_cfg = resolve(cfg.preset, **cfg.model_overrides)
        seen = None if n is None and cfg.steps is None else runs.images_seen(cfg, n)
        out.append({"model": model, "data": entry["data"], "images_seen": seen, "epochs": cfg.epochs,
                    "resolution": model_cfg.resolution, "g_widths": model_cfg.g_widths(),
                    "d_widths": [w for w, _ in model_cfg.d_layers()]})
    return out


def all_compute() -> tuple[dict, dict, dict]:
    """`compute_page`'s inputs for every profile in PROFILES_DIR: a profile that does not load (a bad SEEDS, a
    typo) gets its error in place of its rows, so that it cannot stop the book of another profile."""
    rows, devices = {}, {}
    for name in sorted(p.stem for p in PROFILES_DIR.glob("*.yaml")):
        try:
            rows[name], devices[name] = profile_compute(name), load_profile(name)["device"]
        except (ParameterError, ValueError) as e:
            rows[name] = str(e)
    return rows, {name: train_time(name) for name in rows}, devices


def write_summary(profile: str) -> list[Path]:
    """Generate book/generated/results.md, rule-history.md, walltimes.md (from every chapter's results.json),
    bench.md (from the lines `make bench` appended to book/generated/bench.jsonl) and compute.md (every profile's
    models beside the paper's)."""

    results = load_results(CHAPTERS_DIR)
    GENERATED_DIR.mkdir(parents=True, exist_ok=True)
    bench_file = GENERATED_DIR / "bench.jsonl"
    bench = [json.loads(ln) for ln in bench_file.read_text().splitlines() if ln] if bench_file.is_file() else []
    pages = [GENERATED_DIR / "results.md", GENERATED_DIR / "walltimes.md", GENERATED_DIR / "bench.md",
             GENERATED_DIR / "rule-history.md"]
    forest = None
    if any(c.get("effect") for r in results for c in r["claims"]):
        import matplotlib
        matplotlib.use("Agg")
        fig = forest_plot([c for r in results for c in r["claims"]])
        fig.savefig(GENERATED_DIR / "forest.png", dpi=100)
        forest = "forest.png"
    over_compute = None
    if any(c.get("trend") for r in results for c in r["claims"]):  # issue 27: each claim against images seen
        import matplotlib
        matplotlib.use("Agg")
        trends_plot([c for r in results for c in r["claims"]]).savefig(GENERATED_DIR / "trends.png", dpi=100)
        over_compute = "trends.png"
    pages[0].write_text(results_page(results, profile, forest, over_compute))
    pages[1].write_text(walltime_page(results, pack_times(profile), train_time(profile), chapters_time(profile)))
    pages[2].write_text(bench_page(bench))
    pages[3].write_text(rule_history_page(results))
    pages.append(GENERATED_DIR / "compute.md")
    pages[4].write_text(compute_page(*all_compute()))
    return pages


def tidy_notebook(path: str | Path) -> None:
    """Fold papermill's injected-parameters cell out of the book (jupyter-book's remove-cell tag): the chapter's
    one-line parameter summary says what ran."""


    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
    atomic_write(path, lambda f: nbformat.write(nb, f))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m dcgan_core.book.pipeline")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("packs", help="pack every dataset a profile needs")
    s.add_argument("profile")
    s = sub.add_parser("train", help="train every model run and judge the chapters read, side by side")
    s.add_argument("profile")
    s.add_argument("--jobs", type=int, default=None, help="processes (default: JOBS, else the CPU's cores; 1 on CUDA)")
    s = sub.add_parser("jobs", help="print how many chapters run side by side, and the threads of each")
    s.add_argument("profile")
    s = sub.add_parser("chapters-time", help="record the wall time of the chapters step that began at START")
    s.add_argument("profile")
    s.add_argument("start", type=float)
    s.add_argument("jobs", type=int)
    s = sub.add_parser("summary", help="generate the book's results and wall-time pages")
    s.add_argument("profile")
    s = sub.add_parser("compare", help="which claims' verdicts differ between two builds' chapters (two seed sets)")
    s.add_argument("chapters_a")
    s.add_argument("chapters_b")
    s = sub.add_parser("tidy", help="fold an executed notebook's injected parameters out of the book")
    s.add_argument("notebook")
    s = sub.add_parser("check-book", help="check the built book: absolute paths, parameter dumps, images")
    s.add_argument("html_dir", nargs="?", default=str(ROOT / "_build" / "html"))
    args = p.parse_args(argv)
    try:
        if args.cmd == "packs":  # the first step of make reproduce: NPROC is checked before anything is packed
            prof = load_profile(args.profile)
            for spec in prof["models"].values():
                nproc = runs.processes(runs.entry_config(spec, "", "cpu").batch_size)  # the device changes no batch
                runs.sync_bn(nproc, prof["device"])
            for path in ensure_packs(args.profile):
                print(f"pack ready: {path}")
        elif args.cmd == "train":
            train_all(args.profile, args.jobs)
        elif args.cmd == "jobs":
            print(*chapter_jobs(args.profile))
        elif args.cmd == "chapters-time":
            record_chapters_time(args.profile, args.start, args.jobs)
        elif args.cmd == "compare":
            print(verdict_comparison(load_results(args.chapters_a), load_results(args.chapters_b)))
        elif args.cmd == "tidy":
            tidy_notebook(args.notebook)
        elif args.cmd == "check-book":
            problems = check_book(args.html_dir)
            for line in problems:
                print(f"book check: {line}")
            if problems:
                return 1
            print("book check: no absolute paths, parameter dumps, missing images or narrow figures")
        else:
            pages = write_summary(args.profile)
            for page in pages:
                print(f"wrote {page}")
            print(f"\nthe build's wall time ({relative(pages[1])}):\n{pages[1].read_text()}")  # the budget, shown
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


"""The reproduction pipeline: profiles, the packs and models they name, notebook parameters.

One module owns the paths, all anchored at the project root (the directory holding dcgan_core/, whatever
the working directory): packs in data/packed/<profile>/<name>, runs in runs/<profile>/<model>-s<seed>-<hash>,
executed chapters in book/chapters/<notebook>.ipynb with their results in book/chapters/<notebook>/.
`python -m dcgan_core.pipeline packs|summary|tidy|check-book ...` is what the Makefile calls.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from dataclasses import asdict
from pathlib import Path

import yaml

from .models import check_preset

ROOT = Path(__file__).resolve().parents[1]
PROFILES_DIR = ROOT / "profiles"
CHAPTERS_DIR = ROOT / "book" / "chapters"
GENERATED_DIR = ROOT / "book" / "generated"
PACK_KEYS = {"source", "root", "resolution", "channels", "split", "limit", "seed", "category", "crop",
             "of", "radius"}  # source "dedup": `of` another pack of the profile, at Hamming `radius` (Sec. 4.1.1)
MODEL_KEYS = {"data", "heldout", "preset", "steps", "epochs", "batch_size", "lr", "seed", "overrides",
              "update_scheme", "weight_decay", "precision", "channels_last", "snapshot_epochs"}


class ParameterError(ValueError):
    """A notebook or profile parameter is invalid; raised before any compute."""


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
    if "judge_epochs" in prof and (not isinstance(prof["judge_epochs"], int) or prof["judge_epochs"] < 1):
        raise ParameterError(f"{path}: judge_epochs must be an integer >= 1, got {prof.get('judge_epochs')!r}")
    for pname, spec in prof["packs"].items():
        bad = set(spec) - PACK_KEYS
        if bad or "source" not in spec:
            raise ParameterError(f"{path}: pack {pname!r} needs 'source' and only keys from {sorted(PACK_KEYS)}; "
                                 f"got {sorted(spec)}")
        if spec["source"] == "dedup" and spec.get("of") not in list(prof["packs"])[:list(prof["packs"]).index(pname)]:
            raise ParameterError(f"{path}: pack {pname!r} (source dedup) needs of: <a pack listed before it>; "
                                 f"got {spec.get('of')!r}")
    for mname, spec in prof["models"].items():
        bad = set(spec) - MODEL_KEYS
        if bad:
            raise ParameterError(f"{path}: model {mname!r} has unknown keys {sorted(bad)}; valid: {sorted(MODEL_KEYS)}")
        try:
            check_preset(spec.get("preset"))
        except ValueError as e:
            raise ParameterError(f"{path}: model {mname!r} preset={spec.get('preset')!r} is unknown; "
                                 f"{str(e).split('; ')[-1]}") from None
        for ref in ("data", "heldout"):
            if spec.get(ref) not in prof["packs"]:
                raise ParameterError(f"{path}: model {mname!r} {ref}={spec.get(ref)!r} is not a pack of this profile")
    return prof


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
    from .data.embedded import generator_version
    from .data.packed import load_pack
    from .data.sources import pack_source
    from .dedup import HasherConfig, dedup_pack

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


def train_config(spec: dict, packs: dict, device: str, progress: bool = True):
    """TrainConfig for a profile's model entry."""
    from .train import TrainConfig

    return TrainConfig.for_preset(
        packs[spec["data"]], spec["preset"], steps=spec.get("steps"), epochs=spec.get("epochs"),
        batch_size=spec.get("batch_size"), lr_g=spec.get("lr"), lr_d=spec.get("lr"), seed=spec.get("seed", 0),
        update_scheme=spec.get("update_scheme"), weight_decay=spec.get("weight_decay"),
        precision=spec.get("precision"), channels_last=spec.get("channels_last"),
        snapshot_epochs=spec.get("snapshot_epochs"),
        model_overrides=spec.get("overrides", {}), device=device, progress=progress)


def ensure_trained(name: str, spec: dict, packs: dict, device: str, runs_root: str | Path,
                   seed: int | None = None, progress: bool = True) -> Path:
    """Train a profile's model, or reuse the run whose config matches (resuming it if unfinished).

    The run directory name carries a hash of the config, so a changed config never reuses a run."""
    from .checkpoint import load_checkpoint
    from .data.packed import load_pack
    from .train import total_steps, train

    spec = {**spec, "seed": spec.get("seed", 0) if seed is None else seed}
    cfg = train_config(spec, packs, device, progress)
    nproc = processes(cfg.batch_size)  # make ... NPROC=8: torchrun with 8 processes
    sync = sync_bn(nproc, device)  # make ... SYNC_BN=1: batch norm over the global batch, as one process has it
    data_sha = load_pack(cfg.data).meta["sha256"]
    job = [cfg.identity(), data_sha] + ([{"world_size": nproc}] if nproc > 1 else [])  # per-rank BN: other maths
    job += [{"sync_bn": True}] if sync else []
    key = hashlib.sha256(json.dumps(job, sort_keys=True, default=str).encode()).hexdigest()[:8]
    run = Path(runs_root) / f"{name}-s{spec['seed']}-{key}"
    last = run / "checkpoints" / "last.pt"
    if last.is_file() and load_checkpoint(last)["step"] >= total_steps(cfg):
        return run
    resume = (run / "config.json").is_file()
    if nproc > 1:
        launch(cfg, run, resume, nproc, sync)
    else:
        train(cfg, run, resume=resume)
    return run


def processes(batch_size: int) -> int:
    """The number of training processes DCGAN_NPROC asks for (make NPROC=N), checked before anything starts."""
    raw = os.environ.get("DCGAN_NPROC", "1").strip()
    if not raw.isdigit() or int(raw) < 1:
        raise ParameterError(f"NPROC={raw!r} must be a whole number of processes >= 1 (make reproduce NPROC=8)")
    if batch_size % int(raw):
        raise ParameterError(f"NPROC={raw} does not divide the global batch of {batch_size}; choose NPROC among the "
                             f"divisors of {batch_size}")
    return int(raw)


def sync_bn(nproc: int, device: str) -> bool:
    """Whether DCGAN_SYNC_BN (make SYNC_BN=1) asks for SyncBatchNorm, which needs several processes and CUDA."""
    raw = os.environ.get("DCGAN_SYNC_BN", "0").strip()
    if raw not in ("0", "1"):
        raise ParameterError(f"SYNC_BN={raw!r} must be 0 or 1")
    if raw == "1" and (nproc < 2 or not device.startswith("cuda")):
        raise ParameterError(f"SYNC_BN=1 syncs batch norm across processes on CUDA; this run has NPROC={nproc} on "
                             f"{device}: drop SYNC_BN, or use NPROC >= 2 on a GPU profile")
    return raw == "1"


def launch(cfg, run: str | Path, resume: bool, nproc: int, sync: bool = False) -> None:
    """Train `cfg` into `run` with torchrun and nproc processes (DistributedDataParallel, SyncBatchNorm with sync);
    stops on failure."""
    import subprocess

    from .cli import train_args
    from .distributed import torchrun_command
    cmd = torchrun_command(nproc, ["train", *train_args(cfg, str(run), resume), *["--sync-bn"] * sync])
    if subprocess.run(cmd, cwd=ROOT).returncode:
        raise RuntimeError(f"torchrun training of {run} failed (command: {' '.join(cmd)}); rerun it to see the error")


def write_summary(profile: str) -> list[Path]:
    """Generate book/generated/results.md, walltimes.md (from every chapter's results.json) and bench.md
    (from the lines `make bench` appended to book/generated/bench.jsonl)."""
    from .results import bench_page, load_results, results_page, walltime_page

    results = load_results(CHAPTERS_DIR)
    GENERATED_DIR.mkdir(parents=True, exist_ok=True)
    bench_file = GENERATED_DIR / "bench.jsonl"
    bench = [json.loads(ln) for ln in bench_file.read_text().splitlines() if ln] if bench_file.is_file() else []
    pages = [GENERATED_DIR / "results.md", GENERATED_DIR / "walltimes.md", GENERATED_DIR / "bench.md"]
    forest = None
    if any(c.get("effect") for r in results for c in r["claims"]):
        import matplotlib
        matplotlib.use("Agg")
        from .plots import forest as forest_plot
        fig = forest_plot([c for r in results for c in r["claims"]])
        fig.savefig(GENERATED_DIR / "forest.png", dpi=100)
        forest = "forest.png"
    pages[0].write_text(results_page(results, profile, forest))
    pages[1].write_text(walltime_page(results, pack_times(profile)))
    pages[2].write_text(bench_page(bench))
    return pages


def tidy_notebook(path: str | Path) -> None:
    """Fold papermill's injected-parameters cell out of the book (jupyter-book's remove-cell tag): the chapter's
    one-line parameter summary says what ran."""
    import nbformat

    from .runinfo import atomic_write

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
    atomic_write(path, lambda f: nbformat.write(nb, f))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m dcgan_core.pipeline")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("packs", help="pack every dataset a profile needs")
    s.add_argument("profile")
    s = sub.add_parser("summary", help="generate the book's results and wall-time pages")
    s.add_argument("profile")
    s = sub.add_parser("tidy", help="fold an executed notebook's injected parameters out of the book")
    s.add_argument("notebook")
    s = sub.add_parser("check-book", help="check the built book: absolute paths, parameter dumps, images")
    s.add_argument("html_dir", nargs="?", default=str(ROOT / "_build" / "html"))
    args = p.parse_args(argv)
    try:
        if args.cmd == "packs":  # the first step of make reproduce: NPROC is checked before anything is packed
            prof = load_profile(args.profile)
            for spec in prof["models"].values():
                nproc = processes(spec.get("batch_size") or check_preset(spec["preset"]).train.get("batch_size", 128))
                sync_bn(nproc, prof["device"])
            for path in ensure_packs(args.profile):
                print(f"pack ready: {path}")
        elif args.cmd == "tidy":
            tidy_notebook(args.notebook)
        elif args.cmd == "check-book":
            from .bookcheck import check_book
            problems = check_book(args.html_dir)
            for line in problems:
                print(f"book check: {line}")
            if problems:
                return 1
            print("book check: no absolute paths, parameter dumps, missing images or narrow figures")
        else:
            for page in write_summary(args.profile):
                print(f"wrote {page}")
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


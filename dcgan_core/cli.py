"""`python -m dcgan_core pack|show|fetch|dedup|train|sample|guideline-pilot|bench|bench-side ...`: thin wrappers
over the library."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

from dcgan_core.bench import bench, bench_copy_search, bench_dedup, bench_parallel, bench_svm, side_by_side
from dcgan_core.core import distributed
from dcgan_core.core.checkpoint import load_run
from dcgan_core.core.distributed import DIST_TIMEOUT_S
from dcgan_core.core.models import PRESETS
from dcgan_core.core.train import PRECISIONS, UPDATE_SCHEMES, TrainConfig, load_config, sample_grid, train
from dcgan_core.data.show import show_pack
from dcgan_core.data.sources import FETCHABLE, SOURCES, fetch, pack_source
from dcgan_core.instruments.hashing import THRESHOLDS, HasherConfig, check_radius, dedup_pack
from dcgan_core.utils.runinfo import provenance, write_json


def _kv(items: list[str]) -> dict:
    """Parse KEY=VALUE model overrides; values are JSON where they parse (numbers, lists, bools)."""
    out = {}
    for item in items:
        if "=" not in item:
            raise SystemExit(f"error: override {item!r} must look like KEY=VALUE, e.g. resolution=32")
        k, v = item.split("=", 1)
        try:
            out[k.replace("-", "_")] = json.loads(v)
        except json.JSONDecodeError:
            out[k.replace("-", "_")] = v
    return out


# train flags that set the TrainConfig field of the same name; a flag left out keeps --config's value, or the
# preset's and TrainConfig's default
TRAIN_FLAGS = ("data", "preset", "steps", "epochs", "batch_size", "beta1", "weight_decay", "update_scheme", "seed",
               "device", "precision", "channels_last", "log_every", "ckpt_every", "snapshot_epochs",
               "snapshot_steps")


def _train_config(args: argparse.Namespace) -> TrainConfig:
    """The run's TrainConfig: --config's (or the preset's and TrainConfig's defaults), then every flag given."""
    given = {flag: getattr(args, flag) for flag in TRAIN_FLAGS if getattr(args, flag) is not None}
    if args.lr is not None:
        given |= {"lr_g": args.lr, "lr_d": args.lr}
    if args.no_progress:
        given["progress"] = False
    if args.config:
        if "preset" in given:  # the config's other fields came with its preset (lr, batch, update scheme, ...)
            raise ValueError("--preset cannot change beside --config: the config's other fields follow its preset; "
                             "start a new config from --data and --preset instead")
        base = asdict(load_config(args.config))
        if "steps" in given or "epochs" in given:  # one length replaces the other
            base |= {"steps": None, "epochs": None}
        overrides = {**base.pop("model_overrides"), **_kv(args.set or [])}  # --set changes those keys only
        return TrainConfig(**{**base, **given, "model_overrides": overrides})
    missing = [f"--{flag.replace('_', '-')}" for flag in ("data", "preset") if flag not in given]
    if missing or ("steps" in given) == ("epochs" in given):
        raise ValueError(f"train needs --data, --preset and one of --steps / --epochs (missing: "
                         f"{', '.join(missing) or '--steps or --epochs'}), or --config FILE")
    return TrainConfig.for_preset(given.pop("data"), given.pop("preset"), model_overrides=_kv(args.set or []),
                                  **given)


def _default(field: str) -> str:
    """'(default: X)' for a TrainConfig field: the CLI shows the dataclass's value, never a copy of its own."""
    return f"(default: {TrainConfig.__dataclass_fields__[field].default})"


def _guideline_pilot(args: argparse.Namespace) -> None:
    """Pack what the profile needs, run the pilot and record it with its provenance beside the runs."""
    from dcgan_core.book import params, pipeline  # here: `train`'s start-up (bench-side times it) skips the book
    from dcgan_core.studies import guidelines
    P = params.load("00_guidelines", args.profile)
    if args.model not in (*P.datasets, *P.high_res):
        raise ValueError(f"--model {args.model!r} is not a model of {args.profile}'s 00_guidelines chapter; valid: "
                         f"{', '.join((*P.datasets, *P.high_res))}")
    for epochs in args.epochs:
        guidelines.schedule(epochs)
    pipeline.ensure_packs(args.profile)
    t0 = time.perf_counter()
    out = guidelines.pilot(P, args.model, args.epochs, args.jobs)
    out |= {"seconds": round(time.perf_counter() - t0, 1), "workers": args.jobs, "provenance": provenance(P.device)}
    write_json(Path(P.runs_root) / f"guideline-pilot-{args.model}.json", out)
    print(guidelines.pilot_table(out))


def _parser() -> argparse.ArgumentParser:

    p = argparse.ArgumentParser(prog="python -m dcgan_core", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    presets = "; ".join(PRESETS)

    s = sub.add_parser("pack", help="pack a dataset source into DIR/images.npy + meta.json")
    s.add_argument("source", help=f"one of: {', '.join(SOURCES)}")
    s.add_argument("--out", required=True, help="output pack directory")
    s.add_argument("--root", help="where the source's raw files are (real sets and folder)")
    s.add_argument("--resolution", type=int, default=None, help="output side length in pixels")
    s.add_argument("--channels", type=int, choices=(1, 3), default=None, help="output channels (default: source's)")
    s.add_argument("--split", default=None, help="train/test/extra, val/fit (a validation part of train, the rest)")
    s.add_argument("--limit", type=int, default=None, help="pack at most N images")
    s.add_argument("--seed", type=int, default=0, help="seed for synthetic sets and shuffles")
    s.add_argument("--category", default=None, help="lsun: scene category (default bedroom)")
    s.add_argument("--crop", default=None, help="celeba: 'paper' (centre crop of the full image) or 'common108'")
    s.add_argument("--detect-faces", action="store_true", help="folder: cut face crops with the LBP cascade (Sec. 4.2)")
    s.add_argument("--min-face", type=int, default=None,
                   help="folder --detect-faces: minimum face box side in pixels (default 48)")
    s.add_argument("--workers", type=int, default=None, help="synthetic sets: worker processes (default: all cores)")
    s.add_argument("--labels-from-dirs", action="store_true", help="folder: label images by sub-folder")
    s.add_argument("--skip-bad", action="store_true", help="skip corrupt images (counted and listed in meta)")
    s.add_argument("--overwrite", action="store_true", help="replace an existing pack atomically")

    s = sub.add_parser("show", help="draw a grid of a pack with labels / attributes / boxes overlaid")
    s.add_argument("pack")
    s.add_argument("--out", required=True, help="PNG path")
    s.add_argument("--n", type=int, default=64)
    s.add_argument("--seed", type=int, default=0)

    s = sub.add_parser("fetch", help="download a real dataset with torchvision's checksum-checked downloaders")
    s.add_argument("source", choices=FETCHABLE)
    s.add_argument("--root", required=True)

    s = sub.add_parser("dedup", help="Sec. 4.1.1: write a copy of a pack without its near duplicates "
                       "(semantic-hashing autoencoder) and a dedup.json report")
    s.add_argument("pack", help="packed dataset directory (never modified)")
    s.add_argument("--out", required=True, help="new pack directory (refused if it exists, unless --overwrite)")
    s.add_argument("--radius", type=int, default=0,
                   help="Hamming radius in bits: 0 = codes collide exactly (the paper); r > 0 links codes within r")
    s.add_argument("--fit-on", type=int, default=HasherConfig.fit_on, help="images to fit the autoencoder on")
    s.add_argument("--seed", type=int, default=HasherConfig.seed, help="autoencoder init, sampling and noise")
    s.add_argument("--epochs", type=int, default=HasherConfig.epochs)
    s.add_argument("--noise", type=float, default=HasherConfig.noise, help="de-noising input noise sd, on [0, 1]")
    s.add_argument("--dropout", type=float, default=HasherConfig.dropout, help="dropout on the code units")
    s.add_argument("--threshold", choices=THRESHOLDS, default=HasherConfig.threshold,
                   help="binarise the ReLU code at zero (unit active) or at each unit's median")
    s.add_argument("--overwrite", action="store_true", help="replace an existing --out atomically")
    s.add_argument("--no-progress", action="store_true")

    s = sub.add_parser("train", help="train a DCGAN on a packed dataset into a run directory")
    s.add_argument("--config", default=None, metavar="FILE",
                   help="a TrainConfig as JSON (a run's config.json, or RUN/launch.json); flags given override it")
    s.add_argument("--data", help="packed dataset directory (see `pack`)")
    s.add_argument("--preset", help=f"model preset: {presets}")
    s.add_argument("--out", required=True, help="run directory (config.json, metrics.jsonl, samples/, checkpoints/)")
    g = s.add_mutually_exclusive_group()
    g.add_argument("--steps", type=int, help="total optimiser steps")
    g.add_argument("--epochs", type=float, help="total epochs over the pack")
    s.add_argument("--batch-size", type=int, help="default: the preset's (Sec. 4: 128)")
    s.add_argument("--lr", type=float, help="learning rate of both nets; default: the preset's (Sec. 4: 2e-4)")
    s.add_argument("--beta1", type=float, help="Adam's beta1 of both nets (Sec. 4: 0.5; 0.9 'resulted in training "
                   "oscillation and instability')")
    s.add_argument("--weight-decay", type=float, help="L2 on the gradient; default: the preset's (paper: 0)")
    s.add_argument("--update-scheme", choices=UPDATE_SCHEMES,
                   help="default: the preset's (joint; the authors' faces preset: alternating)")
    s.add_argument("--seed", type=int, help=_default("seed"))
    s.add_argument("--device", help=f"cpu, cuda or cuda:N {_default('device')}")
    s.add_argument("--precision", choices=PRECISIONS, help=_default("precision"))
    s.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=None,
                   help=f"NHWC memory layout: the same maths, faster on CPU {_default('channels_last')}")
    s.add_argument("--log-every", type=int, help=_default("log_every"))
    s.add_argument("--ckpt-every", type=int, help=_default("ckpt_every"))
    s.add_argument("--set", nargs="*", default=None, metavar="KEY=VALUE",
                   help="ModelConfig overrides, e.g. resolution=32 channels=1 z_dist=normal")
    s.add_argument("--snapshot-epochs", type=int, nargs="*", default=None,
                   help="epochs whose checkpoints are kept (Fig. 2/3: 1 5)")
    s.add_argument("--snapshot-steps", type=int, nargs="*", default=None,
                   help="or steps whose checkpoints are kept (then pass --snapshot-epochs with no value)")
    s.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    s.add_argument("--sync-bn", action="store_true",
                   help="under torchrun on CUDA: batch-norm statistics over the global batch, not each rank's share")
    s.add_argument("--dist-timeout", type=float, default=DIST_TIMEOUT_S,
                   help=f"under torchrun: seconds a rank waits for the others before it fails ({DIST_TIMEOUT_S:g})")
    s.add_argument("--no-progress", action="store_true")

    s = sub.add_parser("sample", help="draw a grid of samples from a trained run")
    s.add_argument("--run", required=True)
    s.add_argument("--n", type=int, default=64)
    s.add_argument("--out", required=True, help="PNG path")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--device", default="cpu")
    s.add_argument("--checkpoint", default="last.pt", help="file in RUN/checkpoints/")

    s = sub.add_parser("guideline-pilot", help="issue 26: choose a guidelines model's run length by the rule "
                                               "written before the pilot (the DCGAN on held-aside seeds)")
    s.add_argument("--profile", default="cpu")
    s.add_argument("--model", required=True, help="a model of the profile's 00_guidelines datasets or high_res")
    s.add_argument("--epochs", type=int, nargs="+", required=True, help="candidate lengths (multiples of 5)")
    s.add_argument("--jobs", type=int, default=2, help="pilot runs side by side")
    s = sub.add_parser("bench", help="training images/s of a preset on synthetic input, as JSON")
    s.add_argument("--preset", required=True, help=f"model preset: {presets}")
    s.add_argument("--batch-size", type=int, default=128)
    s.add_argument("--steps", type=int, default=10)
    s.add_argument("--warmup", type=int, default=3)
    s.add_argument("--device", default="cpu")
    s.add_argument("--precision", choices=PRECISIONS, default="fp32")
    s.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=True,
                   help="NHWC memory layout (default: on, as in training)")
    s.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="ModelConfig overrides")
    s.add_argument("--compile", action="store_true", help="G and D through torch.compile (compile time: warm-up)")
    s.add_argument("--phases", action="store_true",
                   help="also time each phase of a step (G forward, D backward, ...; device-synced)")
    s.add_argument("--append-to", default=None, metavar="FILE", help="also append the JSON line to FILE")

    s = sub.add_parser("bench-parallel", help="training images/s: one process on every core vs single-threaded "
                                              "processes side by side")
    s.add_argument("--preset", required=True, help=f"model preset: {presets}")
    s.add_argument("--precision", choices=PRECISIONS, default="bf16")
    s.add_argument("--steps", type=int, default=30)
    s.add_argument("--append-to", default=None, metavar="FILE", help="also append the JSON line to FILE")

    s = sub.add_parser("bench-svm", help="seconds of a probe step's L2-SVM fits: batched Newton vs liblinear")
    s.add_argument("--append-to", default=None, metavar="FILE", help="also append the JSON line to FILE")

    s = sub.add_parser("bench-dedup", help="hashing images/s of the dedup autoencoder on a memory-mapped pack")
    s.add_argument("--images", type=int, default=500_000, help="random images in the temporary pack")
    s.add_argument("--resolution", type=int, default=32)
    s.add_argument("--append-to", default=None, metavar="FILE", help="also append the JSON line to FILE")

    s = sub.add_parser("bench-copy-search", help="seconds of the memorisation copy search (exact, coarse pixels)")
    s.add_argument("--images", type=int, default=100_000, help="random training images in the index")
    s.add_argument("--resolution", type=int, default=64)
    s.add_argument("--queries", type=int, default=10_000, help="samples searched (each also mirrored)")
    s.add_argument("--append-to", default=None, metavar="FILE", help="also append the JSON line to FILE")

    s = sub.add_parser("bench-side", help="whole-process seconds of pytorch/examples' dcgan and of our train command")
    s.add_argument("--examples", required=True, help="pytorch/examples' dcgan/main.py")
    s.add_argument("--pack", required=True, help="a 64x64 RGB pack of at least steps x batch images (2,048 by default)")
    s.add_argument("--niter", type=int, default=2, help="examples' epochs of 1,000 fake images")
    s.add_argument("--batch-size", type=int, default=128)
    s.add_argument("--repeats", type=int, default=2)
    s.add_argument("--device", default="cpu", help="cpu, or cuda (examples then runs with --accel)")
    s.add_argument("--append-to", default=None, metavar="FILE", help="also append the JSON line to FILE")
    return p


def _append(line: str, path: str | None) -> None:
    print(line)
    if path:
        with open(path, "a") as f:
            f.write(line + "\n")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except (ValueError, FileNotFoundError, FileExistsError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    if args.cmd == "pack":
        opts = {k: v for k, v in vars(args).items() if k not in ("cmd", "source", "out")}
        path = pack_source(args.source, args.out, **opts)
        print(f"packed {args.source} -> {path}")
    elif args.cmd == "show":
        print(f"wrote {show_pack(args.pack, args.out, n=args.n, seed=args.seed)}")
    elif args.cmd == "fetch":
        fetch(args.source, args.root)
    elif args.cmd == "dedup":
        check_radius(args.radius)  # bad input fails before the pack is read
        cfg = HasherConfig(fit_on=args.fit_on, seed=args.seed, epochs=args.epochs, noise=args.noise,
                           dropout=args.dropout, threshold=args.threshold)
        r = dedup_pack(args.pack, args.out, args.radius, cfg, args.overwrite, not args.no_progress)
        print(f"kept {r['kept']:,} of {r['input_count']:,} images ({r['removed']:,} in {r['groups']:,} duplicate "
              f"groups removed) -> {args.out} (report: {args.out}/dedup.json)")
    elif args.cmd == "train":
        cfg = _train_config(args)
        last = train(cfg, args.out, resume=args.resume, sync_bn=args.sync_bn, timeout_s=args.dist_timeout)
        if distributed.from_env().main:
            print(json.dumps(last))
    elif args.cmd == "sample":
        G, _, state = load_run(args.run, args.device, args.checkpoint)
        sample_grid(G, args.n, args.out, seed=args.seed)
        print(f"wrote {args.n} samples from step {state['step']} of {args.run} -> {args.out}")
    elif args.cmd == "guideline-pilot":
        _guideline_pilot(args)
    elif args.cmd == "bench":
        _append(json.dumps(bench(args.preset, args.batch_size, args.steps, args.warmup, args.device,
                                 args.precision, args.channels_last, phases=args.phases, use_compile=args.compile,
                                 **_kv(args.set))),
                args.append_to)
    elif args.cmd == "bench-parallel":
        _append(json.dumps(bench_parallel(args.preset, args.precision, args.steps)), args.append_to)
    elif args.cmd == "bench-svm":
        _append(json.dumps(bench_svm()), args.append_to)
    elif args.cmd == "bench-dedup":
        _append(json.dumps(bench_dedup(args.images, args.resolution)), args.append_to)
    elif args.cmd == "bench-copy-search":
        _append(json.dumps(bench_copy_search(args.images, args.resolution, args.queries)), args.append_to)
    elif args.cmd == "bench-side":
        _append(json.dumps(side_by_side(args.examples, args.pack, args.niter, args.batch_size, args.repeats,
                                             device=args.device)),
                args.append_to)
    return 0

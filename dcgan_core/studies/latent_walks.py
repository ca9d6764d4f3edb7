"""Sec. 6.1: latent walks of a trained G beside an untrained G and a memoriser, their table and claim."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np

from dcgan_core.core.checkpoint import earlier_snapshots, images_seen, load_run
from dcgan_core.core.train import initial_models
from dcgan_core.instruments.latent import (
    METHODS,
    crossfade,
    lookup_walk,
    semantic_changes,
    smoothness,
    step_profile,
    walk,
)
from dcgan_core.plots import step_profiles, trends, walk_figure
from dcgan_core.utils.streams import stream_seed, torch_generator
from dcgan_core.verdicts import rules
from dcgan_core.verdicts.claims import Claim, gated
from dcgan_core.verdicts.rules import JUMP_RATIO_MAX
from dcgan_core.verdicts.trend import claim_trend, per_snapshot


def walk_study(G, judge, train_images, n_anchors: int, steps: int, repeats: int, seed: int,
               G_untrained=None, heldout_images=None, methods: tuple[str, ...] = METHODS) -> dict:
    """Walks through `repeats` series of n_anchors random z: per walk kind, each segment's jump ratio
    (`smoothness`) and semantic change (`semantic_changes`), and example frames. Kinds: the trained G (each of
    `methods`), the memoriser (each linear frame replaced by its nearest training image) if given the training
    images, if given an untrained G on the same z, and if given fades between n_anchors random held-out real
    images (the positive control)."""
    device = next(G.parameters()).device
    out: dict = {"ratios": {}, "semantic": {}, "profiles": {}, "frames": {}}

    def add(key, frames):
        prof = step_profile(frames)
        out["ratios"].setdefault(key, []).extend(smoothness(prof).tolist())
        out["semantic"].setdefault(key, []).extend(semantic_changes(frames, judge).tolist())
        out["profiles"].setdefault(key, []).append(prof)
        out["frames"].setdefault(key, frames)
    for r in range(repeats):
        anchors = G.sample_z(n_anchors, generator=torch_generator("walk anchors", seed, r, device))
        for method in methods:
            frames = walk(G, anchors, steps, method)
            add(f"trained, {method}", frames)
            if method == "linear" and train_images is not None:
                add(MEMORISER, lookup_walk(frames, train_images))
        if G_untrained is not None:
            add(UNTRAINED, walk(G_untrained, anchors, steps, "linear"))
        if heldout_images is not None:
            pick = np.random.default_rng(stream_seed("fade anchors", seed, r)).choice(len(heldout_images), n_anchors,
                                                                                      replace=False)
            add(CROSSFADE, crossfade(np.asarray(heldout_images)[np.sort(pick)], steps))
    for key in ("ratios", "semantic"):
        out[key] = {k: np.asarray(v) for k, v in out[key].items()}
    return out


MEMORISER = "memoriser (nearest training image), linear"
UNTRAINED = "untrained G, linear"
CROSSFADE = "fades between held-out real images"


def walk_scores(study: dict, key: str) -> tuple[float, float]:
    """(share of segments with a jump: a step > rules.JUMP_RATIO_MAX x its median, or no change at all;
    share of segments with a semantic change)."""

    r = study["ratios"][key]
    return float((np.isnan(r) | (r > JUMP_RATIO_MAX)).mean()), float(study["semantic"][key].mean())


def snapshot_walks(run, judge, P, seed: int) -> dict[int, tuple[float, float]]:
    """Issue 27: the trained G's linear walks at each earlier snapshot of a run, on the same z as the final G's
    (`walk_scores`: images seen -> (jump share, semantic share)); no memoriser or slerp walks, which the rule does
    not read."""
    return {seen: walk_scores(walk_study(load_run(run, P.device, name)[0], judge, None, P.n_anchors, P.steps,
                                         P.repeats, seed, methods=("linear",)), "trained, linear")
            for seen, name in earlier_snapshots(run, P.device)}


def walk_trend(studies: dict[int, dict], at: dict[int, dict], final_seen: int | None) -> dict | None:
    """The rule at the end and at each earlier snapshot every seed has (`at`: seed -> `snapshot_walks`)."""

    def rule(scores: list[tuple[float, float]]):
        return rules.smooth_semantic_walk([j for j, _ in scores], [m for _, m in scores])
    final = rule([walk_scores(st, "trained, linear") for st in studies.values()])
    return claim_trend(final_seen, final, per_snapshot(at, list(studies)), rule)


def smoothness_claim(studies: dict[int, dict], data: str, at: dict[int, dict] | None = None,
                     final_seen: int | None = None):
    """Sec. 6.1: walks change the image smoothly and semantically (rule: rules.smooth_semantic_walk), with fades
    between real images as the positive control and the untrained G and the memoriser as negative controls; one
    study per training seed; its trend over the earlier snapshots in `at` (`walk_trend`)."""

    seeds = list(studies)

    def decide(key: str):
        scores = [walk_scores(st, key) for st in studies.values()]
        jumps, sem = [s[0] for s in scores], [s[1] for s in scores]
        text = f"{np.mean(jumps):.0%} of segments jump, {np.mean(sem):.0%} change semantically"
        return rules.smooth_semantic_walk(jumps, sem), text, jumps, sem
    trained, text, jumps, sem = decide("trained, linear")
    kinds = next(iter(studies.values()))["ratios"]
    controls = {name: decide(key)[:2] for name, key in (("untrained G", UNTRAINED), ("memoriser", MEMORISER))
                if key in kinds}
    positive = {"fades between held-out real images": decide(CROSSFADE)[:2]} if CROSSFADE in kinds else {}
    slerp = decide("trained, slerp")[1]
    n_seg = sum(len(st["ratios"]["trained, linear"]) for st in studies.values())
    return Claim.decided(
        trained, controls, positive, no_positive="no held-out images given", section="6.1", data=data, seeds=seeds,
        trend=walk_trend(studies, at or {}, final_seen),
        scorer="judge a",  # the semantic half reads the training chapter's judge; nothing is selected by it
        claim="walking the latent space gives smooth semantic transitions, no sharp jumps (Fig. 4)",
        paper="smooth transitions; objects (windows) appear and transform gradually (shown, not measured)",
        ours=f"linear: {text}; slerp: {slerp}; {n_seg} segments",
        baseline="untrained G and nearest-training-image memoriser on the same z (controls below)",
        values={"jump_share": jumps, "semantic_share": sem})


def smoothness_table(studies: dict[int, dict]) -> str:
    """Markdown: per walk kind, pooled over seeds: segments, static ones, jump ratios, semantic change."""
    rows = ["| walk | segments | static | median jump ratio | 90th percentile | share > 3 | semantic change |",
            "|---|---|---|---|---|---|---|"]
    for key in next(iter(studies.values()))["ratios"]:
        r = np.concatenate([st["ratios"][key] for st in studies.values()])
        sem = np.concatenate([st["semantic"][key] for st in studies.values()])
        moving = r[~np.isnan(r)]
        med, p90 = (f"{np.median(moving):.2f}", f"{np.percentile(moving, 90):.2f}") if len(moving) else ("-", "-")
        share = f"{(moving > 3).mean():.0%}" if len(moving) else "-"
        rows.append(f"| {key} | {len(r)} | {len(r) - len(moving)} | {med} | {p90} | {share} | {sem.mean():.0%} |")
    return "\n".join(rows)


# --- the chapter ---------------------------------------------------------------------------------------------
INSTRUMENTS = ("judge a",)  # the instrument the walks' semantic change is read with (issue 25: its check gates)


def run(P) -> dict:
    """Sec. 6.1 on every training seed's G: `walk_study` beside the untrained G that seed's training started from."""
    judge, train_images = P.judge(P.model), P.pack(P.models[P.model]["data"]).images
    heldout = P.pack(P.models[P.model]["heldout"]).images
    studies, at = {}, {}
    for seed in P.seeds:
        run = P.run(P.model, seed)  # reuses the training chapter's runs
        G, _, state = load_run(run, P.device)
        untrained = initial_models(G.config, seed)[0].to(P.device)  # the init train() starts from for this seed
        studies[seed] = walk_study(G, judge, train_images, P.n_anchors, P.steps, P.repeats, seed, untrained, heldout)
        at[seed] = snapshot_walks(run, judge, P, seed)
    return {"studies": studies, "at": at, "final_seen": images_seen(state), "data": P.data(P.model),
            "checks": P.instrument_checks(P.model, INSTRUMENTS), "record": {}}


def figures(study: dict, P) -> dict:
    """Fig. 4 (first seed) for the trained G, the memoriser and the untrained G, each walk's step profile, and the
    claim's statistic at every snapshot (`plots.trends`)."""
    first = study["studies"][P.seeds[0]]
    return {"fig-walk": walk_figure(first["frames"]["trained, linear"]),
            "fig-walk-memoriser": walk_figure(first["frames"][MEMORISER]),
            "fig-walk-untrained": walk_figure(first["frames"][UNTRAINED]),
            "fig-profiles": step_profiles(first, list(first["profiles"])),
            "fig-walk-trend": trends([asdict(c) for c in claims(study, P)])}  # issue 27: against compute


def tables(study: dict, P) -> dict:
    """The jump and semantic-change shares per walk kind and seed."""
    return {"smoothness": smoothness_table(study["studies"])}


def claims(study: dict, P) -> list[Claim]:
    """The Sec. 6.1 claim with its positive control and two negative controls, gated on the judge's self-check."""
    return [gated(smoothness_claim(study["studies"], study["data"], study.get("at"), study.get("final_seen")),
                  study["checks"])]

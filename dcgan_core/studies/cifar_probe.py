"""Sec. 5.1, Table 1: D features of a GAN trained on one set, probed with the authors' L2-SVM on another (transfer),
beside random filters, pixels and K-means; every comparison paired over label draws and GAN seeds."""

from __future__ import annotations

from dataclasses import asdict

from dcgan_core import plots
from dcgan_core.instruments.probes import PIXELS, RANDOM, TRAINED
from dcgan_core.studies import probing
from dcgan_core.verdicts import paper
from dcgan_core.verdicts.claims import Claim

STANDS_FOR = "ImageNet-1k -> CIFAR-10 (Table 1)"
ABSOLUTE_TOLERANCE = 0.01  # how close to the paper's 82.8% an accuracy on CIFAR-10 itself must come


def run(P) -> dict:
    """The probe study over GAN seeds (`probing.study_over_seeds`) and the data it read, described."""
    scores, _, context, at = probing.study_over_seeds(P, supervised=False)
    data = paper.probe_data(P.pack(P.models[P.gan_model]["data"]).meta, P.pack(P.labelled_pack).meta,
                            context["n_test"], P.profile, STANDS_FOR)
    return {"scores": scores, "at": at, "context": context, "data": data, "record": context,
            "is_cifar": P.pack(P.labelled_pack).meta["source"] == "cifar10"}


def figures(study: dict, P) -> dict:
    """Each claim's deciding statistic at every snapshot of the GANs it probes (issue 27: `plots.trends`)."""
    return {"fig-transfer-trends": plots.trends([asdict(c) for c in claims(study, P)])}


def tables(study: dict, P) -> dict:
    """What was probed, the test errors per feature set and seed, and the paper's Table 1."""
    return {"probe": probing.context_line(study["context"], study["data"]) + "\n\n"
            + probing.probe_table(study["scores"], P.per_class, P.seeds),
            "paper": paper.paper_table(paper.TABLE1, ["all labels", "400 per class"])}


def claims(study: dict, P) -> list[Claim]:
    """Trained D beats random filters, pixels and K-means (with all labels and, if measured, few), each with its
    trend over the GANs' snapshots, and the paper's absolute accuracy where the probe set is CIFAR-10 itself."""
    scores, data = study["scores"], study["data"]
    kmeans, k_all, k_few = probing.kmeans_name(scores), P.per_class[0], P.per_class[-1]
    specs = [(RANDOM, k_all, "GAN training helps: trained D features beat the same D with random filters",
              "implied (Sec. 6.2 baseline)"),
             (PIXELS, k_all, "trained D features beat raw pixels", "implied"),
             (kmeans, k_all, "DCGAN features beat single-layer K-means", paper.table1_pair(0))]
    if k_few != k_all:
        specs.append((kmeans, k_few, "DCGAN features beat K-means with few labels", paper.table1_pair(1)))
    over = {"at": study.get("at", {}), "final_seen": study["context"].get("images_seen")}  # issue 27: trends
    out = [probing.ordering_claim(scores, TRAINED, b, k, P.seeds, "5.1", text, paper_says, data, **over)
           for b, k, text, paper_says in specs]
    out.append(probing.absolute_claim(
        scores, k_all, P.seeds, 1 - paper.CIFAR_DCGAN_ACCURACY, ABSOLUTE_TOLERANCE, study["is_cifar"], "5.1",
        "82.8% CIFAR-10 accuracy from ImageNet-trained D features", f"{paper.CIFAR_DCGAN_ACCURACY:.1%} (Table 1)",
        data))
    return out

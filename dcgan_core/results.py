"""results.json: each notebook's claims with the paper's value, ours, a baseline and a verdict;
and the book's results page, generated from all of them."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .runinfo import provenance, write_json

VERDICTS = ("reproduced", "partly", "not reproduced", "not testable at this scale")


@dataclass
class Claim:
    """One paper claim and what we measured for it."""

    section: str  # "4.1", "5.2", ...
    claim: str  # the paper's statement, briefly
    paper: str  # the paper's number or qualitative statement
    ours: str  # what we measured, with spread and seeds
    baseline: str  # the baseline, run the same way
    verdict: str  # one of VERDICTS
    rule: str = ""  # how the verdict follows from the numbers (fixed before looking)
    values: dict = field(default_factory=dict)  # the raw numbers behind `ours` and `baseline`

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")


def verdict(passed: bool, partly: bool = False) -> str:
    """Map pre-registered pass/partial conditions to a verdict."""
    return "reproduced" if passed else "partly" if partly else "not reproduced"


class Recorder:
    """Collects a notebook's claims and writes results.json with provenance and wall time."""

    def __init__(self, chapter: str, title: str, out_dir: str | Path, profile: str, device: str = "cpu"):
        self.chapter, self.title, self.out_dir = chapter, title, Path(out_dir)
        self.profile, self.device = profile, device
        self.claims: list[Claim] = []
        self.t0 = time.perf_counter()
        self.out_dir.mkdir(parents=True, exist_ok=True)

    def add(self, claim: Claim) -> Claim:
        self.claims.append(claim)
        return claim

    def write(self, **extra) -> Path:
        path = self.out_dir / "results.json"
        write_json(path, {"chapter": self.chapter, "title": self.title, "profile": self.profile,
                          "claims": [asdict(c) for c in self.claims], **extra,
                          "provenance": {**provenance(self.device), "profile": self.profile,
                                         "wall_time_s": round(time.perf_counter() - self.t0, 1)}})
        return path


def load_results(chapters_dir: str | Path) -> list[dict]:
    """Every chapter's results.json under chapters_dir, in chapter order."""
    return [json.loads(p.read_text()) for p in sorted(Path(chapters_dir).glob("*/results.json"))]


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def results_page(results: list[dict], profile: str) -> str:
    """The book's results page: one row per claim, linking to its chapter."""
    rows = ["| Section | Claim | Paper | Ours | Baseline | Verdict | Chapter |", "|---|---|---|---|---|---|---|"]
    for r in results:
        for c in r["claims"]:
            rows.append("| " + " | ".join(_cell(v) for v in (c["section"], c["claim"], c["paper"], c["ours"],
                                                                  c["baseline"], f"**{c['verdict']}**"))
                        + f" | {{doc}}`{r['title']} <../chapters/{r['chapter']}>` |")
    counts = {v: sum(c["verdict"] == v for r in results for c in r["claims"]) for v in VERDICTS}
    tally = ", ".join(f"{n} {v}" for v, n in counts.items() if n)
    return "\n".join([
        "# Results", "",
        f"Every claim the notebooks tested, for the **{profile}** profile, generated from each chapter's "
        "`results.json`. Each verdict follows a rule fixed in the notebook before the numbers were seen "
        f"(the chapter states it). Tally: {tally or 'no claims'}.", "", *rows, ""])


def _hardware(p: dict) -> str:
    return p["hardware"].get("gpu") or f"{p['hardware']['cpu_count']}-core CPU ({p['hardware']['cpu_capability']})"


def walltime_page(results: list[dict], pack_seconds: dict[str, float] | None = None) -> str:
    """Measured wall time of packing and of each notebook, with the machine it ran on."""
    rows = ["| Step | Profile | Wall time (s) | Hardware | Commit |", "|---|---|---|---|---|"]
    if pack_seconds and results:
        p = results[0]["provenance"]
        rows.append(f"| packing ({', '.join(pack_seconds)}) | {p['profile']} | "
                    f"{sum(v for v in pack_seconds.values() if v):.1f} | {_hardware(p)} | - |")
    for r in results:
        p = r["provenance"]
        rows.append(f"| {r['title']} | {p['profile']} | {p['wall_time_s']} | {_hardware(p)} | "
                    f"`{p['git_commit'][:12]}` |")
    total = sum(r["provenance"]["wall_time_s"] for r in results) + sum(v for v in (pack_seconds or {}).values() if v)
    rows.append(f"| **total (without the book build)** | | **{total:.0f}** | | |")
    return "\n".join(rows) + "\n"


def bench_page(lines: list[dict]) -> str:
    """Throughput measured by `make bench`, or how to measure it."""
    if not lines:
        return "Not measured on this machine yet: run `make bench` (or `make bench DEVICE=cuda`).\n"
    rows = ["| preset | overrides | device | batch | precision | channels_last | images/s | hardware |",
            "|---|---|---|---|---|---|---|---|"]
    for b in lines:
        rows.append(f"| {b['preset']} | {b['overrides'] or ''} | {b['device']} | {b['batch_size']} | "
                    f"{b['precision']} | {b['channels_last']} | {b['images_per_s']:,} | {_hardware(b)} |")
    return "\n".join(rows) + "\n"

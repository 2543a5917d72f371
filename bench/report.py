"""Turn load results into the results tables, and keep bench/README.md's results section current.

The README's text outside the ``<!-- results:start -->`` / ``<!-- results:end -->`` markers is
hand-written and left alone; the section between them is replaced on every full run.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from loadgen import LoadResult

README = Path(__file__).resolve().parent / "README.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"


@dataclass
class Pair:
    """A cubby workload next to the baseline measured right before it."""

    workload: str
    cubby: LoadResult
    baseline_name: str
    baseline: LoadResult
    throughput: bool = False  # compare MiB/s instead of req/s
    target: float | None = None  # the smallest acceptable cubby/baseline ratio

    def value(self, result: LoadResult) -> float:
        return result.mib_per_s if self.throughput else result.rps

    @property
    def ratio(self) -> float:
        base = self.value(self.baseline)
        return self.value(self.cubby) / base if base else float("nan")

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.ratio >= self.target


@dataclass
class Scaling:
    """The same request against a small and a large namespace: p50 may grow at most ``limit``x."""

    check: str
    small_name: str
    small: LoadResult
    large_name: str
    large: LoadResult
    limit: float

    @property
    def ratio(self) -> float:
        return self.large.p50_ms / self.small.p50_ms if self.small.p50_ms else float("nan")

    @property
    def met(self) -> bool:
        return self.ratio <= self.limit


MIN_CEILING_GAIN = 0.05


@dataclass
class Gain:
    """cubby's gain from 1 to 2 processes against the ceiling app's gain in the same run."""

    workload: str
    cubby_1: LoadResult
    cubby_2: LoadResult
    ceiling_1: LoadResult
    ceiling_2: LoadResult
    target: float

    @property
    def cubby_gain(self) -> float:
        return self.cubby_2.rps / self.cubby_1.rps - 1 if self.cubby_1.rps else float("nan")

    @property
    def ceiling_gain(self) -> float:
        return self.ceiling_2.rps / self.ceiling_1.rps - 1 if self.ceiling_1.rps else float("nan")

    @property
    def ratio(self) -> float:
        """cubby's extra req/s in proportion to the ceiling's (1.0 = it scales as well); NaN
        when the ceiling itself gained (almost) nothing: then there is no yardstick."""
        if self.ceiling_gain < MIN_CEILING_GAIN:
            return float("nan")
        return self.cubby_gain / self.ceiling_gain

    @property
    def met(self) -> bool | None:
        return None if math.isnan(self.ratio) else self.ratio >= self.target


@dataclass
class Mixed:
    """One request kind of the mixed load: its share of all requests and its latency spread."""

    action: str
    result: LoadResult
    share: float
    limit: float  # p99 may be at most this many times p50

    @property
    def ratio(self) -> float:
        return self.result.p99_ms / self.result.p50_ms if self.result.p50_ms else float("nan")

    @property
    def met(self) -> bool:
        return self.ratio <= self.limit


def _ms(result: LoadResult, value: float) -> str:
    return f"{value:.2f}" if result.requests else "-"  # no request finished in the run


def _rate(result: LoadResult, throughput: bool) -> str:
    return f"{result.mib_per_s:,.0f} MiB/s" if throughput else f"{result.rps:,.0f}"


def _verdict(met: bool | None, ratio: float, target: float | None, at_most: bool = False) -> str:
    if met is None or target is None:
        return ""
    if met:
        return "met"
    short = (ratio / target - 1) * 100 if at_most else (1 - ratio / target) * 100
    word = "over" if at_most else "short"
    return f"**missed** ({short:.0f}% {word})"


def pairs_table(pairs: list[Pair]) -> list[str]:
    lines = [
        "| workload | cubby req/s | p50 ms | p99 ms | baseline | baseline req/s | "
        "baseline p50 ms | ratio | target | |",
        "|---|--:|--:|--:|---|--:|--:|--:|--:|---|",
    ]
    for p in pairs:
        target = f">= {p.target:.2f}" if p.target is not None else ""
        lines.append(
            f"| {p.workload} | {_rate(p.cubby, p.throughput)} | {_ms(p.cubby, p.cubby.p50_ms)} | "
            f"{_ms(p.cubby, p.cubby.p99_ms)} | {p.baseline_name} | "
            f"{_rate(p.baseline, p.throughput)} | {_ms(p.baseline, p.baseline.p50_ms)} | "
            f"{p.ratio:.2f} | {target} | "
            f"{_verdict(p.met, p.ratio, p.target)} |"
        )
    return lines


def scaling_table(checks: list[Scaling]) -> list[str]:
    lines = [
        "| check | small: req/s, p50 ms | large: req/s, p50 ms | p50 ratio | target | |",
        "|---|--:|--:|--:|--:|---|",
    ]
    for c in checks:
        lines.append(
            f"| {c.check} | {c.small.rps:,.0f}, {c.small.p50_ms:.2f} | "
            f"{c.large.rps:,.0f}, {c.large.p50_ms:.2f} | {c.ratio:.2f} | <= {c.limit:.1f} | "
            f"{_verdict(c.met, c.ratio, c.limit, at_most=True)} |"
        )
    return lines


def gains_table(gains: list[Gain]) -> list[str]:
    lines = [
        "| workload | cubby 1 -> 2 processes, req/s | gain | ceiling 1 -> 2 workers, req/s | "
        "gain | cubby gain / ceiling gain | target | |",
        "|---|--:|--:|--:|--:|--:|--:|---|",
    ]
    for g in gains:
        lines.append(
            f"| {g.workload} | {g.cubby_1.rps:,.0f} -> {g.cubby_2.rps:,.0f} | "
            f"{g.cubby_gain:+.0%} | {g.ceiling_1.rps:,.0f} -> {g.ceiling_2.rps:,.0f} | "
            f"{g.ceiling_gain:+.0%} | {g.ratio:.2f} | >= {g.target:.2f} | "
            f"{_verdict(g.met, g.ratio, g.target) if g.met is not None else 'no yardstick'} |"
        )
    return lines


def mixed_table(rows: list[Mixed]) -> list[str]:
    lines = [
        "| action | share of requests | req/s | p50 ms | p99 ms | p99 / p50 | target | |",
        "|---|--:|--:|--:|--:|--:|--:|---|",
    ]
    for m in rows:
        r = m.result
        lines.append(
            f"| {m.action} | {m.share:.0%} | {r.rps:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | "
            f"{m.ratio:.1f} | <= {m.limit:.0f} | {_verdict(m.met, m.ratio, m.limit, True)} |"
        )
    return lines


def raw_table(results: list[LoadResult]) -> list[str]:
    lines = [
        "| run | requests | seconds | req/s | p50 ms | p99 ms | MiB/s read | failed |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {r.requests:,} | {r.seconds:.2f} | {r.rps:,.0f} | "
            f"{_ms(r, r.p50_ms)} | {_ms(r, r.p99_ms)} | {r.mib_per_s:,.1f} | {r.errors} |"
        )
    return lines


def results_section(pairs: list[Pair], checks: list[Scaling], results: list[LoadResult],
                    machine: str, command: str, elapsed: float,
                    gains: list[Gain] | None = None, mixed: list[Mixed] | None = None) -> str:
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    out = [
        "## Latest results",
        "",
        f"- Date: {stamp}",
        f"- Machine: {machine}",
        f"- Command: `{command}` ({elapsed:.0f} s in all)",
        "- Every number below comes from this one run; each ratio compares two runs made "
        "back to back. The machine is shared, so compare ratios, not absolute req/s, "
        "between runs.",
        "",
    ]
    if pairs:
        out += ["### Workloads against their baselines", "", *pairs_table(pairs), ""]
    if gains:
        out += ["### From 1 to 2 processes on PostgreSQL", "", *gains_table(gains), ""]
    if mixed:
        out += ["### Mixed load (80% reads / 20% writes, 1,000 namespaces, 1 worker)", "",
                *mixed_table(mixed), ""]
    if checks:
        out += ["### Scaling (1 worker)", "", *scaling_table(checks), ""]
    out += ["### Raw numbers (every wrk run, in order)", "", *raw_table(results), ""]
    return "\n".join(out)


def write_readme(section: str, readme: Path = README) -> None:
    text = readme.read_text() if readme.exists() else f"# cubby benchmarks\n\n{START}\n{END}\n"
    if START not in text or END not in text:
        text = text.rstrip("\n") + f"\n\n{START}\n{END}\n"
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{START}\n{section}\n{END}{tail}")


def write_raw(folder: Path, pairs: list[Pair], checks: list[Scaling],
              results: list[LoadResult], machine: str, gains: list[Gain] | None = None,
              mixed: list[Mixed] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / time.strftime("%Y%m%dT%H%M%SZ.json", time.gmtime())
    path.write_text(json.dumps({
        "machine": machine,
        "pairs": [{**asdict(p), "ratio": p.ratio} for p in pairs],
        "scaling": [{**asdict(c), "ratio": c.ratio} for c in checks],
        "gains": [{**asdict(g), "ratio": g.ratio} for g in gains or []],
        "mixed": [{**asdict(m), "ratio": m.ratio} for m in mixed or []],
        "runs": [asdict(r) for r in results],
    }, indent=1))
    return path

"""Scaling curves (matplotlib, PNG): load time, peak memory, p50 per query of each mix
(``scaling-latency.png``: the fixed mix, ``scaling-latency-varied.png``), validation."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the file backend)

from .report import LABELS  # noqa: E402

SERVERS = ["peerchange", "peerchange-nocache", "oxigraph", "virtuoso", "rdflib-endpoint"]


def _series(sizes: list[dict], name: str, get) -> tuple[list[int], list[float]]:
    xs, ys = [], []
    for size in sizes:
        r = size["servers"].get(name, {})
        value = get(r) if "error" not in r and "skipped" not in r else None
        if isinstance(value, (int, float)) and value > 0:
            xs.append(size["lines"])
            ys.append(value)
    return xs, ys


def _axes(ax, title: str, ylabel: str) -> None:
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("triples (lines of the file)")
    ax.set_ylabel(ylabel)
    ax.grid(True, which="both", alpha=0.3)


def _per_server(sizes, get, title, ylabel, path: Path, also=None) -> Path:
    """One line per server; ``also``: (label, getter) of a dashed line for peerchange."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for name in SERVERS:
        xs, ys = _series(sizes, name, get)
        if xs:
            ax.plot(xs, ys, marker="o", label=LABELS[name])
    if also:
        xs, ys = _series(sizes, "peerchange", also[1])
        if xs:
            ax.plot(xs, ys, marker="o", linestyle="--", color="C0", label=also[0])
    _axes(ax, title, ylabel)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _latency(sizes: list[dict], key: str, path: Path) -> Path | None:
    """p50 per query of one mix, one panel per query, one line per server."""
    queries = sorted({q for size in sizes for r in size["servers"].values()
                      for q in r.get(key, {}).get("per_query", {})})
    if not queries:
        return None
    cols = min(3, len(queries))
    rows = -(-len(queries) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows), squeeze=False)
    flat = list(axes.flat)
    for ax in flat[len(queries):]:
        ax.set_visible(False)
    for ax, q in zip(flat, queries, strict=False):
        for name in SERVERS:
            xs, ys = _series(sizes, name, lambda r, q=q: r.get(key, {}).get(
                "per_query", {}).get(q, {}).get("p50_ms"))
            if xs:
                ax.plot(xs, ys, marker="o", label=LABELS[name])
        _axes(ax, f"{q} ({'fixed' if key == 'mix' else 'varied'} mix)", "p50 ms")
    flat[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def draw(sizes: list[dict], folder: Path) -> list[Path]:
    """Write the four plots into ``folder``; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    sizes = sorted(sizes, key=lambda s: s["lines"])
    paths = [
        _per_server(sizes, lambda r: r.get("ready_s"),
                    "Load: first command to first answer", "seconds",
                    folder / "scaling-load.png"),
        _per_server(sizes, lambda r: r.get("peak_memory_mb"),
                    "Peak memory (RSS summed over the process tree)", "MB",
                    folder / "scaling-memory.png",
                    also=("peerchange, PSS (shared pages once)",
                          lambda r: r.get("peak_pss_mb"))),
    ]
    for key, name in (("mix", "scaling-latency.png"),
                      ("mix_varied", "scaling-latency-varied.png")):
        path = _latency(sizes, key, folder / name)
        if path:
            paths.append(path)
    fig, ax = plt.subplots(figsize=(6, 4))
    drawn = False
    for n, (key, label) in enumerate((
            ("validate", "peerchange validate"),
            ("validate_whole_graph", "peerchange validate --whole-graph (pySHACL)"))):
        done = [s for s in sizes  # runs that finished (not stopped at the timeout)
                if isinstance(s.get(key, {}).get("exit_code"), int)]
        if done:
            ax.plot([s["lines"] for s in done], [s[key]["seconds"] for s in done],
                    marker="o", color=f"C{n}", label=label + ", wall")
            cpu = [s for s in done if s[key].get("cpu_s")]
            if cpu:
                ax.plot([s["lines"] for s in cpu], [s[key]["cpu_s"] for s in cpu],
                        marker="x", linestyle=":", color=f"C{n}", label=label + ", CPU")
            drawn = True
    if drawn:
        _axes(ax, "Validation time", "seconds")
        ax.legend(fontsize=7)
        fig.tight_layout()
        path = folder / "scaling-validation.png"
        fig.savefig(path, dpi=100)
        paths.append(path)
    plt.close(fig)
    return paths

"""The results as Markdown tables, every peer's figure with its ratio to peerchange.

A ratio is always peerchange's figure divided by the peer's (as in the issue): above 1 is
better for throughput, below 1 is better for seconds, milliseconds, memory and disk.
"""

from __future__ import annotations

PEERS = ["oxigraph", "virtuoso", "rdflib-endpoint"]
LABELS = {"peerchange": "peerchange", "oxigraph": "Oxigraph server",
          "virtuoso": "Virtuoso 7", "rdflib-endpoint": "rdflib-endpoint"}

# (label, how to read the figure from one server's results)
METRICS = [
    ("mix req/s", lambda r: r.get("mix", {}).get("req_per_s")),
    ("mix p50 ms", lambda r: r.get("mix", {}).get("p50_ms")),
    ("mix p95 ms", lambda r: r.get("mix", {}).get("p95_ms")),
    ("mix p99 ms", lambda r: r.get("mix", {}).get("p99_ms")),
    ("mix errors", lambda r: r.get("mix", {}).get("errors")),
    ("load average before the mix (2 cores)", lambda r: r.get("load_average_1m")),
    ("first command to first answer, s", lambda r: r.get("ready_s")),
    ("the load command, s", lambda r: r.get("load_command_s")),
    ("restart on the built store, s", lambda r: r.get("restart_s")),
    ("peak memory, MB (RSS summed over the process tree)", lambda r: r.get("peak_memory_mb")),
    ("peak memory, MB (PSS: shared pages once)", lambda r: r.get("peak_pss_mb")),
    ("disk, MB", lambda r: r.get("disk_mb")),
]


def _cell(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def ratio(ours, theirs) -> str:
    if not isinstance(ours, (int, float)) or not isinstance(theirs, (int, float)) or not theirs:
        return "—"
    return f"{ours / theirs:.2f}x"


def _status(result: dict) -> str | None:
    if "skipped" in result:
        return "skipped: " + result["skipped"]
    if "error" in result:
        return "failed: " + result["error"].splitlines()[0][:200]
    return None


def size_table(size: dict) -> str:
    servers = size["servers"]
    ours = servers.get("peerchange", {})
    peers = [p for p in PEERS if p in servers]
    head = ["work", "peerchange"]
    for p in peers:
        head += [LABELS[p], "ratio"]
    lines = [f"#### {size['file']}: {size['lines']:,} lines",
             "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, get in METRICS:
        row = [label, _cell(get(ours))]
        for p in peers:
            theirs = get(servers[p])
            row += [_cell(theirs), "" if label.startswith("load average") else
                    ratio(get(ours), theirs)]
        lines.append("| " + " | ".join(row) + " |")
    notes = [f"- {LABELS[name]}: {msg}" for name, r in servers.items()
             if (msg := _status(r))]
    notes += [f"- {LABELS[name]}: a page failed when checked: "
              f"{r['page_error'].splitlines()[0][:120]}"
              for name, r in servers.items() if r.get("page_error")]
    notes += [f"- {LABELS[name]}: the restart failed: {r['restart_error'].splitlines()[-1]}"
              for name, r in servers.items() if r.get("restart_error")]
    notes += [f"- {LABELS[name]}: answers differ: {'; '.join(r['problems'])}"
              for name, r in servers.items() if r.get("problems")]
    for name, r in servers.items():
        for what in ("mix", "pages"):
            if r.get(what, {}).get("errors"):
                notes.append(f"- {LABELS[name]}, {what}: errors by status "
                             f"{r[what].get('error_statuses')}")
    if "validate" in size:
        v = size["validate"]
        notes.append(f"- `peerchange validate {v.get('file', '')}`: {v['seconds']} s "
                     f"(exit code {v['exit_code']})")
    elif size.get("validate_skipped"):
        notes.append(f"- `peerchange validate`: {size['validate_skipped']}")
    return "\n".join(lines + ([""] + notes if notes else []))


def per_query_table(size: dict) -> str:
    servers = {n: r for n, r in size["servers"].items() if "mix" in r}
    if not servers:
        return ""
    names = list(next(iter(servers.values()))["mix"]["per_query"])
    head = ["query (p50 / p99 ms)", *(LABELS[n] for n in servers)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for q in names:
        row = [q]
        for r in servers.values():
            s = r["mix"]["per_query"].get(q, {})
            row.append(f"{_cell(s.get('p50_ms'))} / {_cell(s.get('p99_ms'))}")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def pages_table(size: dict) -> str:
    pages = size["servers"].get("peerchange", {}).get("pages")
    if not pages:
        return ""
    lines = [f"peerchange's own pages, {pages['req_per_s']} req/s in all "
             f"({pages['errors']} errors):", "",
             "| page | requests | errors | p50 ms | p95 ms | p99 ms |", "|---|---|---|---|---|---|"]
    for name, s in pages["per_query"].items():
        lines.append(f"| {name} | {s['requests']} | {s['errors']} | {_cell(s['p50_ms'])} | "
                     f"{_cell(s['p95_ms'])} | {_cell(s['p99_ms'])} |")
    return "\n".join(lines)


def markdown(report: dict) -> str:
    parts = [headline(report), "",
             f"Run {report['date']} on {report['machine']}; {report['clients']} clients, "
             f"{report['seconds']:g} s per server; code at {report['commit']}. "
             "Ratio = peerchange / peer."]
    parts += [f"Merged with an earlier invocation ({e.get('date')}, {e.get('commit')}): "
              f"`{e.get('command')}`." for e in report.get("earlier", [])]
    parts.append("")
    for size in report["sizes"]:
        parts += [size_table(size), ""]
        for extra in (per_query_table(size), pages_table(size)):
            if extra:
                parts += [extra, ""]
    return "\n".join(parts)


def _mix(r: dict) -> str:
    m = r.get("mix")
    return f"{m['req_per_s']:,.0f} req/s, p99 {m['p99_ms']:.1f} ms" if m else "—"


def headline(report: dict) -> str:
    """The issue's table, as this run measured it: the mix per size, the load of the largest."""
    lines = ["| work | peerchange | peer | ratio (peerchange / peer) |", "|---|---|---|---|"]
    for size in report["sizes"]:
        servers = size["servers"]
        ours = servers.get("peerchange", {})
        for p in PEERS:
            theirs = servers.get(p, {})
            if "mix" not in ours or "mix" not in theirs:
                continue
            a, b = ours["mix"], theirs["mix"]
            lines.append(
                f"| mix, {size['lines']:,} lines, {report['clients']} clients | {_mix(ours)} | "
                f"{LABELS[p]} {_mix(theirs)} | {ratio(a['req_per_s'], b['req_per_s'])} "
                f"req/s, {ratio(a['p99_ms'], b['p99_ms'])} p99 |")
    if report["sizes"]:
        size = max(report["sizes"], key=lambda s: s["lines"])
        ours, ox = size["servers"].get("peerchange", {}), size["servers"].get("oxigraph", {})
        if "ready_s" in ours and "ready_s" in ox:
            lines.append(
                f"| `serve FILE --store DIR` of {size['file']} ({size['lines']:,} lines) until it "
                f"answers | {ours['ready_s']:,.0f} s; {ours['peak_memory_mb']:,.0f} MB peak "
                f"(PSS {ours['peak_pss_mb']:,.0f}); {ours['disk_mb']:,.0f} MB on disk | "
                f"`oxigraph load` + `serve` {ox['ready_s']:,.0f} s; "
                f"{ox['peak_memory_mb']:,.0f} MB; "
                f"{ox['disk_mb']:,.0f} MB | {ratio(ours['ready_s'], ox['ready_s'])} time, "
                f"{ratio(ours['peak_memory_mb'], ox['peak_memory_mb'])} memory "
                f"({ratio(ours['peak_pss_mb'], ox['peak_pss_mb'])} PSS), "
                f"{ratio(ours['disk_mb'], ox['disk_mb'])} disk |")
            if ours.get("restart_s") and ox.get("restart_s"):
                lines.append(f"| restart on the built store, {size['lines']:,} lines | "
                             f"{ours['restart_s']} s | Oxigraph server {ox['restart_s']} s | "
                             f"{ratio(ours['restart_s'], ox['restart_s'])} |")
    return "\n".join(lines)

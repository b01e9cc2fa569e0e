"""The results as Markdown tables, every peer's figure with its ratio to peerchange.

A ratio is always peerchange's figure divided by the peer's (as in the issue): above 1 is
better for throughput, below 1 is better for seconds, milliseconds, memory and disk. The
mixes are shown for peerchange and for "peerchange, no answer cache" (the same server on
the same store with ``PEERCHANGE_ANSWER_CACHE_MB=0``: the engine plus peerchange's
overhead), each with its ratio to every peer.
"""

from __future__ import annotations

PEERS = ["oxigraph", "virtuoso", "rdflib-endpoint"]
OURS = ["peerchange", "peerchange-nocache"]
LABELS = {"peerchange": "peerchange", "peerchange-nocache": "peerchange, no answer cache",
          "oxigraph": "Oxigraph server", "virtuoso": "Virtuoso 7",
          "rdflib-endpoint": "rdflib-endpoint"}
# (key in a server's results, name): the fixed mix repeats five requests, the varied one
# draws each round's parameters from the data
MIXES = [("mix", "fixed mix"), ("mix_varied", "varied mix")]

# (label, how to read the figure from one server's results): load, memory, disk
METRICS = [
    ("first command to first answer, s", lambda r: r.get("ready_s")),
    ("the load command, s", lambda r: r.get("load_command_s")),
    ("restart on the built store (first SPARQL answer), s", lambda r: r.get("restart_s")),
    ("restart until the pages answer too, s", lambda r: r.get("restart_served_s")),
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


def _load_average(r: dict, key: str):
    """The load average before this mix (older results hold one per server, before the
    fixed mix)."""
    m = r.get(key, {})
    if m.get("load_average_1m") is not None:
        return m["load_average_1m"]
    return r.get("load_average_1m") if key == "mix" else None


def _pair(ours: dict | None, theirs: dict) -> str:
    if not ours or ours is theirs:
        return ""
    return (f"{ratio(ours['req_per_s'], theirs['req_per_s'])}, "
            f"{ratio(ours['p99_ms'], theirs['p99_ms'])}")


def mix_table(size: dict) -> str:
    """Both mixes, one row per server: the figures and peerchange's ratios to them."""
    servers = size["servers"]
    head = ["mix", "server", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors",
            "distinct requests", "server CPU ms / request", "load average before (2 cores)",
            "peerchange ÷ this: req/s, p99", "peerchange without answer cache ÷ this"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key, label in MIXES:
        ours = [servers.get(name, {}).get(key) for name in OURS]
        for name, r in servers.items():
            m = r.get(key)
            if not m:
                continue
            distinct = m.get("distinct_requests")
            lines.append("| " + " | ".join([
                label, LABELS.get(name, name), _cell(m["req_per_s"]), _cell(m["p50_ms"]),
                _cell(m["p95_ms"]), _cell(m["p99_ms"]), _cell(m["errors"]),
                "—" if distinct is None else f"{distinct:,} of {m['requests']:,}",
                _cell(m.get("server_cpu_ms_per_request")), _cell(_load_average(r, key)),
                _pair(ours[0], m), _pair(ours[1], m)]) + " |")
    return "\n".join(lines) if len(lines) > 2 else ""


def load_table(size: dict) -> str:
    servers = {n: r for n, r in size["servers"].items() if n != "peerchange-nocache"}
    ours = servers.get("peerchange", {})
    peers = [p for p in PEERS if p in servers]
    head = ["work", "peerchange"]
    for p in peers:
        head += [LABELS[p], "ratio"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, get in METRICS:
        row = [label, _cell(get(ours))]
        for p in peers:
            row += [_cell(get(servers[p])), ratio(get(ours), get(servers[p]))]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def validation_notes(size: dict) -> list[str]:
    runs = [size[k] for k in ("validate", "validate_whole_graph") if k in size]
    notes = []
    for v in runs:
        extra = "" if v.get("mode", "default") == "default" else " " + v["mode"]
        cpu = v.get("cpu_s")
        cpu_text = "" if cpu is None else (
            f", CPU {cpu} s{' at least' if v.get('cpu_s_is_lower_bound') else ''}")
        memory = f", peak {v['peak_memory_mb']:,.0f} MB" if v.get("peak_memory_mb") else ""
        notes.append(f"- `peerchange validate {v.get('file', '')}{extra}`: {v['seconds']} s "
                     f"wall{cpu_text}{memory} (exit code {v['exit_code']})")
    if len(runs) == 2:
        default, whole = runs
        done = isinstance(whole["exit_code"], int)
        if isinstance(default["exit_code"], int) and default["seconds"]:
            factor = whole["seconds"] / default["seconds"]
            notes.append(f"- the default mode against one whole-graph pySHACL run: "
                         f"{'' if done else 'at least '}{factor:.1f}x faster (wall)"
                         + (f", {whole['cpu_s'] / default['cpu_s']:.1f}x less CPU"
                            if done and default.get("cpu_s") else ""))
    if not runs and size.get("validate_skipped"):
        notes.append(f"- `peerchange validate`: {size['validate_skipped']}")
    return notes


def size_table(size: dict) -> str:
    servers = size["servers"]
    parts = [f"#### {size['file']}: {size['lines']:,} lines", ""]
    varied = size.get("varied", {})
    if varied.get("studies"):
        parts += [f"The varied mix drew {varied['parameter_sets']:,} parameter sets (seed "
                  f"{varied['seed']}) from {varied['studies']:,} studies: "
                  f"{varied['distinct_mechanisms']:,} distinct mechanisms.", ""]
    table = mix_table(size)
    if table:
        parts += [table, ""]
    parts.append(load_table(size))
    notes = [f"- {LABELS.get(name, name)}: {msg}" for name, r in servers.items()
             if (msg := _status(r))]
    notes += [f"- peerchange, no answer cache: started on peerchange's built store in "
              f"{r['start_s']} s (its load, memory and disk are peerchange's)"
              for name, r in servers.items() if r.get("on_built_store") and "start_s" in r]
    notes += [f"- {LABELS.get(name, name)}: a page failed when checked: "
              f"{r['page_error'].splitlines()[0][:120]}"
              for name, r in servers.items() if r.get("page_error")]
    notes += [f"- {LABELS.get(name, name)}: the restart failed: "
              f"{r['restart_error'].splitlines()[-1]}"
              for name, r in servers.items() if r.get("restart_error")]
    notes += [f"- {LABELS.get(name, name)}: answers differ: {'; '.join(r['problems'])}"
              for name, r in servers.items() if r.get("problems")]
    for name, r in servers.items():
        for what in ("mix", "mix_varied", "pages"):
            if r.get(what, {}).get("errors"):
                notes.append(f"- {LABELS.get(name, name)}, {what}: errors by status "
                             f"{r[what].get('error_statuses')}")
    notes += validation_notes(size)
    return "\n".join(parts + ([""] + notes if notes else []))


def per_query_table(size: dict, key: str = "mix") -> str:
    servers = {n: r for n, r in size["servers"].items() if key in r}
    if not servers:
        return ""
    names = sorted({q for r in servers.values() for q in r[key]["per_query"]})
    label = dict(MIXES)[key]
    head = [f"{label}: query (p50 / p99 ms)", *(LABELS.get(n, n) for n in servers)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for q in names:
        row = [q]
        for r in servers.values():
            s = r[key]["per_query"].get(q, {})
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
             f"{report['seconds']:g} s per server and mix; code at {report['commit']}. "
             "Ratio = peerchange / peer."]
    parts += [f"Merged with an earlier invocation ({e.get('date')}, {e.get('commit')}): "
              f"`{e.get('command')}`." for e in report.get("earlier", [])]
    parts.append("")
    for size in report["sizes"]:
        parts += [size_table(size), ""]
        extras = [per_query_table(size, key) for key, _ in MIXES] + [pages_table(size)]
        for extra in extras:
            if extra:
                parts += [extra, ""]
    return "\n".join(parts)


def _mix(m: dict | None) -> str:
    return f"{m['req_per_s']:,.0f} req/s, p99 {m['p99_ms']:.1f} ms" if m else "—"


def _versus(m: dict | None, theirs: dict) -> str:
    if not m:
        return "—"
    return (f"{ratio(m['req_per_s'], theirs['req_per_s'])} req/s, "
            f"{ratio(m['p99_ms'], theirs['p99_ms'])} p99")


def headline(report: dict) -> str:
    """The issue's table, as this run measured it: both mixes per size (peerchange with and
    without its answer cache), the load of the largest size, validation."""
    lines = ["| work | peer | peerchange | ratio | peerchange, no answer cache | ratio |",
             "|---|---|---|---|---|---|"]
    for size in report["sizes"]:
        servers = size["servers"]
        for key, label in MIXES:
            ours, bare = (servers.get(n, {}).get(key) for n in OURS)
            if not ours and not bare:
                continue
            for p in PEERS:
                theirs = servers.get(p, {}).get(key)
                if not theirs:
                    continue
                lines.append(
                    f"| {label}, {size['lines']:,} lines, {report['clients']} clients | "
                    f"{LABELS[p]} {_mix(theirs)} | {_mix(ours)} | {_versus(ours, theirs)} | "
                    f"{_mix(bare)} | {_versus(bare, theirs)} |")
    if report["sizes"]:
        size = max(report["sizes"], key=lambda s: s["lines"])
        ours, ox = size["servers"].get("peerchange", {}), size["servers"].get("oxigraph", {})
        if "ready_s" in ours and "ready_s" in ox:
            lines.append(
                f"| `serve FILE --store DIR` of {size['file']} ({size['lines']:,} lines) until "
                f"it answers | `oxigraph load` + `serve` {ox['ready_s']:,.0f} s; "
                f"{ox['peak_memory_mb']:,.0f} MB; {ox['disk_mb']:,.0f} MB | "
                f"{ours['ready_s']:,.0f} s; {ours['peak_memory_mb']:,.0f} MB peak "
                f"(PSS {ours['peak_pss_mb']:,.0f}); {ours['disk_mb']:,.0f} MB on disk | "
                f"{ratio(ours['ready_s'], ox['ready_s'])} time, "
                f"{ratio(ours['peak_memory_mb'], ox['peak_memory_mb'])} memory "
                f"({ratio(ours['peak_pss_mb'], ox['peak_pss_mb'])} PSS), "
                f"{ratio(ours['disk_mb'], ox['disk_mb'])} disk | | |")
            if ours.get("restart_s") and ox.get("restart_s"):
                lines.append(f"| restart on the built store, {size['lines']:,} lines | "
                             f"Oxigraph server {ox['restart_s']} s | {ours['restart_s']} s | "
                             f"{ratio(ours['restart_s'], ox['restart_s'])} | | |")
    for size in report["sizes"]:
        default, whole = size.get("validate"), size.get("validate_whole_graph")
        if default and whole:
            lines.append(
                f"| validation, {size['lines']:,} lines | one whole-graph pySHACL run "
                f"{_validation(whole)} | default mode {_validation(default)} | "
                f"{ratio(default['seconds'], whole['seconds'])} wall"
                f"{'' if isinstance(whole['exit_code'], int) else ' (at most)'} | | |")
    return "\n".join(lines)


def _validation(v: dict) -> str:
    stopped = not isinstance(v["exit_code"], int)
    return (f"{'stopped after ' if stopped else ''}{v['seconds']:,.0f} s"
            + (f" (CPU {v['cpu_s']:,.0f} s)" if v.get("cpu_s") is not None else ""))

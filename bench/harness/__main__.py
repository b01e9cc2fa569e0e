"""Command line of the harness: ``python -m bench.harness [FILES...] [options]``.

Each FILE (N-Triples or N-Quads) is one size; a missing file named ``synth-N.nt`` or
``synth-N.nq`` is first written by ``peerchange synth -n N``. ``--smoke`` is the CI form:
a fresh 10^4-triple file (``peerchange synth -n 7``), every server started, every query of
both mixes (the varied one with its first three parameter sets) and every peerchange page
answered once, non-empty and equal to peerchange's; nothing is driven and the exit code
says whether all passed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .plots import draw
from .report import markdown
from .run import VALIDATE_MODES, count_lines, run_size, synthesize
from .servers import ROOT, SERVERS

RESULTS = Path("bench/results")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.harness",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("files", nargs="*", type=Path, help="data files, one per size")
    p.add_argument("--servers", default=",".join(SERVERS),
                   help="comma-separated, of: " + ", ".join(SERVERS))
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--seconds", type=float, default=20, help="driving time per server")
    p.add_argument("--rdflib-max-lines", type=int, default=1_100_000,
                   help="skip rdflib-endpoint above this many lines (it loads into memory)")
    p.add_argument("--validate-max-lines", type=int, default=1_100_000,
                   help="time 'peerchange validate' only up to this many lines (0: never)")
    p.add_argument("--validate-timeout", type=float, default=3600,
                   help="stop each 'peerchange validate' run after this many seconds")
    p.add_argument("--validate-modes", default=",".join(VALIDATE_MODES),
                   help="comma-separated, of: " + ", ".join(VALIDATE_MODES))
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the varied mix's parameters (the same for every server)")
    p.add_argument("--no-restart", action="store_true",
                   help="do not time a restart on the built store")
    p.add_argument("--lock", type=Path,
                   help="for files above --big-lines, hold this folder as a lock (mkdir)")
    p.add_argument("--big-lines", type=int, default=5_000_000)
    p.add_argument("--work", type=Path, help="folder for the stores (default: a temp folder)")
    p.add_argument("--keep", action="store_true", help="keep the work folder")
    p.add_argument("--out", type=Path, default=RESULTS / "harness.json")
    p.add_argument("--markdown", type=Path, default=RESULTS / "harness.md")
    p.add_argument("--plots", type=Path, default=RESULTS, help="folder of the PNGs")
    p.add_argument("--append", action="store_true",
                   help="keep what --out holds that this run does not measure again "
                        "(other sizes, other servers of a size)")
    p.add_argument("--smoke", action="store_true", help="the CI smoke run (see above)")
    p.add_argument("--redraw", action="store_true",
                   help="measure nothing: write the Markdown and the plots from --out again")
    args = p.parse_args(argv)
    if args.smoke:
        args.seconds, args.validate_max_lines, args.no_restart = 0, 0, True
    if not args.files and not args.smoke and not args.redraw:
        p.error("give data files (or --smoke)")
    args.validate_modes = [m.strip() for m in args.validate_modes.split(",") if m.strip()]
    if set(args.validate_modes) - set(VALIDATE_MODES):
        p.error("--validate-modes: of " + ", ".join(VALIDATE_MODES))
    return args


def commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                              capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=ROOT, text=True, capture_output=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" with uncommitted changes" if dirty else "")


def portable(argv: list[str]) -> str:
    """The command line without this machine's folders: absolute paths become file names."""
    out = []
    for arg in argv:
        path = Path(arg)
        if path.is_absolute():
            try:
                arg = str(path.relative_to(ROOT))
            except ValueError:
                arg = path.name
        out.append(arg)
    return " ".join(out)


@contextlib.contextmanager
def big_lock(folder: Path | None, needed: bool):
    """Hold ``folder`` (created atomically) while a big file runs; wait while another does."""
    if folder is None or not needed:
        yield
        return
    while True:
        try:
            folder.mkdir()
            break
        except FileExistsError:
            print(f"waiting for {folder}", file=sys.stderr)
            time.sleep(30)
    try:
        yield
    finally:
        folder.rmdir()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.redraw:
        report = json.loads(args.out.read_text())
        args.markdown.write_text(markdown(report) + "\n")
        for path in draw(report["sizes"], args.plots):
            print(f"wrote {path}", file=sys.stderr)
        return 0
    names = [n.strip() for n in args.servers.split(",") if n.strip()]
    unknown = set(names) - set(SERVERS)
    if unknown:
        raise SystemExit(f"unknown servers: {', '.join(sorted(unknown))}")
    servers = [SERVERS[n] for n in SERVERS if n in names]  # peerchange first
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-harness-"))
    work.mkdir(parents=True, exist_ok=True)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    files = [work / "synth-7.nt"] if args.smoke else args.files
    sizes = []
    try:
        for data in files:
            match = re.fullmatch(r"synth-(\d+)\.n[tq]", data.name)
            if not data.exists() and match:
                log(f"writing {data} (peerchange synth -n {match[1]})")
                synthesize(data, int(match[1]))
            lines = count_lines(data)
            skip = {}
            if lines > args.rdflib_max_lines:
                skip["rdflib-endpoint"] = (f"above {args.rdflib_max_lines:,} lines "
                                           "(it parses the file into Python objects)")
            validate = 0 < lines <= args.validate_max_lines
            twin = data.with_suffix(".nq")
            if validate and match and data.suffix == ".nt" and not twin.exists():
                log(f"writing {twin} (peerchange synth -n {match[1]}), to validate")
                synthesize(twin, int(match[1]))
            with big_lock(args.lock, lines > args.big_lines):
                size = run_size(data.absolute(), work, servers, clients=args.clients,
                                seconds=args.seconds, restart=not args.no_restart,
                                validate=args.validate_timeout if validate else None,
                                validate_modes=args.validate_modes, seed=args.seed,
                                skip=skip, log=log)
            if not validate and not args.smoke:
                size["validate_skipped"] = (
                    f"not timed (--validate-max-lines {args.validate_max_lines:,})")
            sizes.append(size)
            if not args.keep:  # the stores of a size go before the next size's
                shutil.rmtree(work / data.stem, ignore_errors=True)
    finally:
        if not args.keep and args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    report = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                   f"Python {platform.python_version()}",
        "commit": commit(),
        "clients": args.clients,
        "seconds": args.seconds,
        "command": "python -m bench.harness " + portable(sys.argv[1:] if argv is None else argv),
        "sizes": sizes,
    }
    if args.append and args.out.exists():
        old = json.loads(args.out.read_text())
        merged = {s["file"]: s for s in old["sizes"]}
        for size in sizes:  # a server measured again replaces its old entry, others stay
            if size["file"] in merged:
                servers = {**merged[size["file"]]["servers"], **size["servers"]}
                size = {**merged[size["file"]], **size, "servers": servers}
            merged[size["file"]] = size
        report["sizes"] = sorted(merged.values(), key=lambda s: s["lines"])
        report["earlier"] = old.get("earlier", []) + [
            {k: old[k] for k in ("date", "commit", "command") if k in old}]
    if not args.smoke:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")
        args.markdown.write_text(markdown(report) + "\n")
        for path in draw(report["sizes"], args.plots):
            log(f"wrote {path}")
        log(f"wrote {args.out} and {args.markdown}")
    else:
        print(json.dumps(report, indent=2))
    failed = [f"{name}: {r.get('error') or '; '.join(r['problems'])}"
              for size in sizes for name, r in size["servers"].items()
              if r.get("error") or r.get("problems")]
    for line in failed:
        log("FAILED " + line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

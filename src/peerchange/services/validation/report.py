"""The validation report: findings from the three phases, and how to print them."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from peerchange.core.namespaces import shorten

VIOLATION = "Violation"
WARNING = "Warning"
INFO = "Info"

PASSED = "passed"
FAILED = "failed"
SKIPPED = "skipped"


@dataclass(frozen=True)
class Finding:
    """One problem: where (``focus``, ``path``, ``value``), which rule, and what to do.

    :param phase: ``shacl``, ``owl`` or ``checks``.
    :param rule: the shape or constraint, the reasoner test, or the check query's name.
    """

    phase: str
    severity: str
    focus: str
    rule: str
    message: str
    path: str | None = None
    value: str | None = None

    def sort_key(self) -> tuple[int, str, str, str]:
        order = {VIOLATION: 0, WARNING: 1, INFO: 2}
        return (order.get(self.severity, 3), self.focus, self.rule, self.message)


@dataclass
class Phase:
    """One phase of validation and what it found."""

    name: str
    title: str
    status: str = PASSED
    seconds: float = 0.0
    note: str = ""
    findings: list[Finding] = field(default_factory=list)

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)


@dataclass
class Report:
    """All phases plus a summary of what was validated."""

    phases: list[Phase] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def findings(self) -> list[Finding]:
        return [f for p in self.phases for f in p.findings]

    def count(self, severity: str) -> int:
        return sum(p.count(severity) for p in self.phases)

    def conforms(self, *, strict: bool = False) -> bool:
        """``True`` when there is no violation (and, if ``strict``, no warning)."""
        if self.count(VIOLATION):
            return False
        return not (strict and self.count(WARNING))

    def exit_code(self, *, strict: bool = False) -> int:
        """0 conforms, 1 violations (or warnings under ``strict``)."""
        return 0 if self.conforms(strict=strict) else 1

    def to_dict(self, *, strict: bool = False) -> dict[str, Any]:
        return {
            "conforms": self.conforms(strict=strict),
            "strict": strict,
            "violations": self.count(VIOLATION),
            "warnings": self.count(WARNING),
            "summary": self.summary,
            "phases": [
                {
                    "name": p.name,
                    "title": p.title,
                    "status": p.status,
                    "seconds": round(p.seconds, 3),
                    "note": p.note,
                    "findings": [asdict(f) for f in sorted(p.findings, key=Finding.sort_key)],
                }
                for p in self.phases
            ],
        }


def render_json(report: Report, *, strict: bool = False) -> str:
    """Return the report as indented JSON."""
    return json.dumps(report.to_dict(strict=strict), indent=2, ensure_ascii=False)


def render_text(report: Report, *, strict: bool = False) -> str:
    """Return the report as text for a terminal: findings by phase, then the summary."""
    out: list[str] = []
    for phase in report.phases:
        head = f"{phase.title}: {phase.status}"
        if phase.status != SKIPPED:
            head += (
                f" ({phase.count(VIOLATION)} violations, {phase.count(WARNING)} warnings,"
                f" {phase.seconds:.1f} s)"
            )
        out.append(head)
        if phase.note:
            out.append(f"  {phase.note}")
        for f in sorted(phase.findings, key=Finding.sort_key):
            out.append(f"  {f.severity}: {shorten(f.focus) if f.focus else '(graph)'}")
            out.append(f"    rule: {f.rule}")
            if f.path:
                out.append(f"    path: {shorten(f.path)}")
            if f.value:
                out.append(f"    value: {f.value}")
            out.append(f"    {f.message}")
        out.append("")
    s = report.summary
    if s:
        out.append("Summary")
        width = max(len(k) for k in _summary_lines(s)) + 2
        for key, value in _summary_lines(s).items():
            out.append(f"  {key:<{width}}{value}")
        out.append("")
    verdict = "CONFORMS" if report.conforms(strict=strict) else "DOES NOT CONFORM"
    out.append(
        f"{verdict}: {report.count(VIOLATION)} violations, {report.count(WARNING)} warnings"
        + (" (--strict: warnings fail)" if strict else "")
    )
    return "\n".join(out) + "\n"


def _summary_lines(s: dict[str, Any]) -> dict[str, str]:
    lines: dict[str, str] = {}
    for key, value in s.items():
        key = key.replace("_", " ")
        if isinstance(value, dict):
            inner = ", ".join(
                f"{k} {v:,}" if isinstance(v, int) else f"{k} {v}" for k, v in value.items()
            )
            lines[key] = inner or "none"
        elif isinstance(value, int):
            lines[key] = f"{value:,}"
        else:
            lines[key] = str(value)
    return lines


def render_turtle(report: Report, *, strict: bool = False) -> str:
    """Return the report as a SHACL ``sh:ValidationReport`` in Turtle.

    Findings of the OWL and check phases become ``sh:ValidationResult`` nodes too, with
    ``sh:sourceShape`` naming the reasoner test or the check query.
    """
    from rdflib import BNode, Graph, Literal, Namespace, URIRef
    from rdflib.namespace import RDF, SH, XSD

    from peerchange.core.namespaces import PREFIXES, SHAPES

    pcsh = Namespace(SHAPES)
    g = Graph()
    for prefix in ("sh", "pcsh", "pcm", "xsd"):
        g.bind(prefix, PREFIXES[prefix])
    root = BNode()
    g.add((root, RDF.type, SH.ValidationReport))
    g.add((root, SH.conforms, Literal(report.conforms(strict=strict))))
    severities = {VIOLATION: SH.Violation, WARNING: SH.Warning, INFO: SH.Info}

    def node(value: str) -> URIRef | BNode | Literal:
        if value.startswith("_:"):
            return BNode(value[2:])
        if ":" in value and " " not in value:
            return URIRef(value)
        return Literal(value)

    for f in report.findings:
        r = BNode()
        g.add((root, SH.result, r))
        g.add((r, RDF.type, SH.ValidationResult))
        g.add((r, SH.resultSeverity, severities.get(f.severity, SH.Info)))
        if f.focus:
            g.add((r, SH.focusNode, node(f.focus)))
        g.add((r, SH.resultMessage, Literal(f.message)))
        rule = f.rule if f.phase == "shacl" and f.rule.startswith("http") else pcsh[
            f"{f.phase}/{f.rule}"
        ]
        g.add((r, SH.sourceShape, URIRef(rule)))
        if f.path:
            g.add((r, SH.resultPath, node(f.path)))
        if f.value:
            g.add((r, SH.value, node(f.value)))
    for key, value in report.summary.items():
        if isinstance(value, int):
            g.add((root, pcsh[f"summary/{key}"], Literal(value, datatype=XSD.integer)))
    return g.serialize(format="turtle")

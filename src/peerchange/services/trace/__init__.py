"""The reviewer's trace: from a change mechanism to everything that supports it.

A trace starts at a mechanism and follows its claims: where the mechanism sits in the
change model, its components, the theories and constructs it is linked to (and each
theory's family and founding texts), the outcomes it leads to and the downstream outcomes
those lead to (with measures), and the links to other mechanisms. Every link is shown as
its claim, with the claim's evidence status (stated in the source, reported in a companion
paper, curated inference), its locator or rationale, its evidence lines and the works it
cites with their CiTO role. The evidence gaps that concern the mechanism, the resources
and claims of the trace, and the study and change model as a whole come with it, so that a
missing link is never read as absent evidence.

The reverse trace of a work lists every claim that cites it, in which role, and the
mechanisms those claims (or the theories the work founds) lead back to.

Both faces use this package: the web (``/trace``, ``/cited``, ``/references``) and the
command line (``peerchange trace``). Its modules, each importing only those above it:

- :mod:`.model` — the building blocks (``Claim``, ``Node``, ``Work``, ``Gap`` ...);
- :mod:`.traces` — the two documents (``Trace``, ``ReverseTrace``) and their links;
- :mod:`.lookup` — finding a mechanism or a work, and the not-found errors;
- :mod:`.rows` — the rows of the tables read once per data version → model objects;
- :mod:`.neighbourhood` — the rows of one trace query, read as claims, nodes and triples;
- :mod:`.builder` — building a trace and a reverse trace;
- :mod:`.rdf` — their triples and Turtle documents (and the documents' titles);
- :mod:`.json` — their JSON forms;
- :mod:`.service` — :class:`TraceService`: the queries, and the caches per data version;
- :mod:`.documents` — the renderers both faces use (JSON, Turtle, bibliographies),
  imported from there (not from this package, see its docstring).

The SPARQL lives in ``queries/internal/trace/``.
"""

from peerchange.services.trace.json import work_dict
from peerchange.services.trace.lookup import MechanismNotFound, TraceNotFound, WorkNotFound
from peerchange.services.trace.model import (
    ROLE_NOTES,
    STATUS_ORDER,
    Citation,
    Claim,
    EvidenceLine,
    Gap,
    Node,
    Ref,
    Status,
    Work,
    kind_of,
    local_path,
    slug_of,
)
from peerchange.services.trace.service import TraceService
from peerchange.services.trace.traces import (
    CitedWork,
    CitingClaim,
    MechanismReach,
    OutcomeLink,
    ReverseTrace,
    Trace,
)

__all__ = [
    "ROLE_NOTES",
    "STATUS_ORDER",
    "Citation",
    "CitedWork",
    "CitingClaim",
    "Claim",
    "EvidenceLine",
    "Gap",
    "MechanismNotFound",
    "MechanismReach",
    "Node",
    "OutcomeLink",
    "Ref",
    "ReverseTrace",
    "Status",
    "Trace",
    "TraceNotFound",
    "TraceService",
    "Work",
    "WorkNotFound",
    "kind_of",
    "local_path",
    "slug_of",
    "work_dict",
]

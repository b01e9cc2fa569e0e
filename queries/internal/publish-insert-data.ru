#+ summary: Insert one batch of triples into a staging graph (peerchange publish)
#+ description: >
#+   One bounded batch of the SPARQL 1.1 Update path of `peerchange publish`. The line
#+   `#@data` is replaced by the batch's triples in N-Triples (blank nodes skolemised).
#+ params:
#+   graph:
#+     type: iri
#+     description: The staging graph (placeholder urn:peerchange:param:graph).
#+     required: true
INSERT DATA {
  GRAPH <urn:peerchange:param:graph> {
#@data
  }
}

#+ summary: Drop a graph if it exists (peerchange publish drops staging graphs and graphs no longer published)
#+ params:
#+   graph:
#+     type: iri
#+     description: The graph to drop (placeholder urn:peerchange:param:graph).
#+     required: true
DROP SILENT GRAPH <urn:peerchange:param:graph>

#+ summary: Replace a target graph with its complete staging graph (peerchange publish)
#+ params:
#+   staging:
#+     type: iri
#+     description: The staging graph, checked complete (placeholder urn:peerchange:param:staging).
#+     required: true
#+   target:
#+     type: iri
#+     description: The graph it replaces (placeholder urn:peerchange:param:target).
#+     required: true
MOVE <urn:peerchange:param:staging> TO <urn:peerchange:param:target>

// The Node clients of issue 13 against a running `peerchange serve`: jsonld.js and
// Comunica 4. Run by node-clients.sh (which installs them); prints one line per check and
// exits 1 if one fails. Usage: node check.mjs http://127.0.0.1:8000
import jsonld from "jsonld";
import { QueryEngine } from "@comunica/query-sparql";

const base = (process.argv[2] || "http://127.0.0.1:8000").replace(/\/$/, "");
let failed = 0;
async function check(name, run) {
  try {
    console.log(`ok   ${name}: ${await run()}`);
  } catch (e) {
    failed += 1;
    console.log(`FAIL ${name}: ${e.message || e}`);
  }
}
async function quads(doc) {
  const nquads = await jsonld.toRDF(doc, { format: "application/n-quads" });
  const n = nquads.split("\n").filter((l) => l.trim()).length;
  if (n === 0) throw new Error("no quads");
  return n;
}
const getJson = async (url, accept = "application/ld+json") =>
  (await fetch(url, { headers: { Accept: accept } })).json();
const embedded = async (url) => {
  const html = await (await fetch(url, { headers: { Accept: "text/html" } })).text();
  const m = html.match(/<script type="application\/ld\+json">([\s\S]*?)<\/script>/);
  if (!m) throw new Error("no JSON-LD block");
  return JSON.parse(m[1]);
};

// jsonld.js: documents, the JSON-LD dump, and the blocks embedded in the HTML pages
await check("jsonld.js resource document", async () =>
  `${await quads(await getJson(`${base}/id/mechanism/role-modelling.jsonld`))} quads`);
await check("jsonld.js JSON-LD dump", async () =>
  `${await quads(await getJson(`${base}/dumps/latest/peerchange.jsonld`))} quads`);
for (const path of ["/", "/dataset", "/id/theory/social-learning.html"]) {
  await check(`jsonld.js embedded JSON-LD on ${path}`, async () =>
    `${await quads(await embedded(base + path))} quads`);
}

// Comunica: the endpoint as a SPARQL source, and the dumps as files read from their URL
const engine = new QueryEngine();
const MECHANISMS = `PREFIX pcm: <https://w3id.org/peerchange/onto/>
  PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
  SELECT ?m ?label WHERE { ?m a pcm:ChangeMechanism ; rdfs:label ?label }`;
await check("Comunica over the SPARQL endpoint", async () => {
  const rows = await (await engine.queryBindings(MECHANISMS, {
    sources: [{ type: "sparql", value: `${base}/sparql` }] })).toArray();
  if (rows.length !== 3) throw new Error(`${rows.length} mechanisms, not 3`);
  const lang = rows[0].get("label").language;
  return `3 mechanisms; label language tag: ${lang ? JSON.stringify(lang) : "dropped"}`;
});
for (const name of ["peerchange.ttl", "peerchange.nt.gz", "peerchange.nq.gz", "peerchange.jsonld"]) {
  await check(`Comunica reads dumps/latest/${name}`, async () => {
    // N-Quads keep their named graphs, which Comunica leaves out of the default graph
    const pattern = name.includes(".nq") ? "GRAPH ?g { ?s ?p ?o }" : "?s ?p ?o";
    const rows = await (await engine.queryBindings(
      `SELECT (COUNT(*) AS ?n) WHERE { ${pattern} }`,
      { sources: [`${base}/dumps/latest/${name}`] })).toArray();
    const n = Number(rows[0].get("n").value);
    if (n === 0) throw new Error("no statements");
    return `${n} statements`;
  });
}
process.exit(failed ? 1 : 0);

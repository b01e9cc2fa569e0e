/* The SPARQL query editor of /sparql: YASGUI (static/vendor/yasgui.min.js) set up from the
 * page's data attributes and JSON blocks (templates/sparql.html). No request leaves this
 * server: queries go to the page's own endpoint, the vocabulary autocompleters that ask
 * Linked Open Vocabularies are removed, prefixes come from YASGUI's bundled list (never
 * prefix.cc) and the endpoint catalogue lists only this endpoint.
 */
(function () {
  "use strict";

  var root = document.getElementById("yasgui");
  if (!root || typeof window.Yasgui === "undefined") {
    return; // the plain form stays: it works without the editor
  }
  var Yasgui = window.Yasgui;
  var Yasqe = Yasgui.Yasqe;
  var Yasr = Yasgui.Yasr;

  function readJson(id, fallback) {
    var el = document.getElementById(id);
    if (!el) return fallback;
    try {
      return JSON.parse(el.textContent);
    } catch (e) {
      return fallback;
    }
  }

  var endpointPath = root.getAttribute("data-endpoint") || "/sparql";
  var endpoint = new URL(endpointPath, window.location.href).href;
  var namespace = root.getAttribute("data-namespace") || "";
  var localRoot = root.getAttribute("data-local-root") || "/";
  var prefixes = readJson("prefixes", {});
  var examples = readJson("examples", []);
  var plainForm = document.getElementById("plain-query");
  var opening = plainForm ? plainForm.elements.query.value : "";

  /* --- no request to another host ----------------------------------------------------- */
  // "property" and "class" complete terms from lov.linkeddata.es: remove them (in place:
  // YASGUI merges array options index by index, so a shorter list would not replace them)
  var completers = Yasqe.defaults.autocompleters;
  for (var i = completers.length - 1; i >= 0; i--) {
    if (completers[i] === "property" || completers[i] === "class") completers.splice(i, 1);
  }
  delete Yasqe.Autocompleters.property;
  delete Yasqe.Autocompleters["class"];
  Yasqe.defaults.prefixCcApi = null; // the bundled prefix list, not prefix.cc

  /* --- results: links to this server, errors in place --------------------------------- */
  Yasr.plugins.table.defaults.openIriInNewWindow = false;
  Yasr.defaults.prefixes = prefixes;
  Yasr.defaults.errorRenderers = [renderError];

  // the endpoint answers errors as JSON ({"error", "message"}); YASGUI passes the body on
  function renderError(error) {
    var text = (error && error.text) || "The query failed.";
    var kind = "";
    var message = text;
    try {
      var body = JSON.parse(text);
      if (body && typeof body.message === "string") {
        message = body.message;
        kind = body.error || "";
      }
    } catch (e) {
      /* not JSON: show the text as it came */
    }
    var box = document.createElement("div");
    box.className = "query-error";
    box.setAttribute("role", "alert");
    if (error && error.status) {
      var status = document.createElement("span");
      status.className = "error-kind";
      status.textContent = (kind || "Error") + " (HTTP " + error.status + "): ";
      box.appendChild(status);
    } else if (kind) {
      var k = document.createElement("span");
      k.className = "error-kind";
      k.textContent = kind + ": ";
      box.appendChild(k);
    }
    var msg = document.createElement("span");
    msg.className = "error-message";
    msg.textContent = message;
    box.appendChild(msg);
    return Promise.resolve(box);
  }

  // IRIs of the site's namespace link to this server's pages (…/id/x → /id/x)
  function localise(scope) {
    if (!namespace) return;
    var links = scope.querySelectorAll('a[href^="' + namespace + '"]');
    for (var j = 0; j < links.length; j++) {
      var a = links[j];
      var iri = a.getAttribute("href");
      a.setAttribute("href", localRoot + iri.substring(namespace.length));
      a.setAttribute("title", iri);
      a.removeAttribute("target");
    }
  }
  // names for controls YASGUI draws without one (CodeMirror's input, the page-size select,
  // the row-number column of the table)
  function label(scope) {
    var inputs = scope.querySelectorAll(".CodeMirror textarea:not([aria-label])");
    for (var j = 0; j < inputs.length; j++) {
      inputs[j].setAttribute("aria-label", "SPARQL query (Ctrl+Enter runs it)");
    }
    var sizers = scope.querySelectorAll("select.tableSizer:not([aria-label])");
    for (j = 0; j < sizers.length; j++) sizers[j].setAttribute("aria-label", "Rows per page");
    // a tablist may hold only tabs: YASGUI's own "add tab" button (inside the list) is
    // hidden, and a button just after the list presses it
    var adders = scope.querySelectorAll(".tabsList > * > button.addTab");
    for (j = 0; j < adders.length; j++) {
      var wrapper = adders[j].parentNode, list = wrapper.parentNode;
      if (wrapper.hidden) continue;
      wrapper.hidden = true;
      var mine = list.nextElementSibling;
      if (!mine || !mine.classList.contains("addTabOutside")) {
        mine = document.createElement("button");
        mine.type = "button";
        mine.className = "addTab addTabOutside";
        mine.textContent = "+";
        mine.title = "Add tab";
        mine.setAttribute("aria-label", "Add a new tab");
        list.parentNode.insertBefore(mine, list.nextSibling);
      }
      mine.onclick = (function (original) {
        return function () { original.click(); };
      })(adders[j]);
    }
    // CodeMirror's scroller must be reachable by keyboard to scroll a long query
    var scrollers = scope.querySelectorAll(".CodeMirror-scroll[tabindex='-1']");
    for (j = 0; j < scrollers.length; j++) {
      scrollers[j].setAttribute("tabindex", "0");
      scrollers[j].setAttribute("aria-label", "Query text (scroll with the arrow keys)");
    }
    var heads = scope.querySelectorAll("table.dataTable thead th:first-child");
    for (j = 0; j < heads.length; j++) {
      if (!heads[j].textContent.trim()) heads[j].insertBefore(document.createTextNode("#"),
                                                               heads[j].firstChild);
    }
  }
  new MutationObserver(function () {
    localise(root);
    label(root);
  }).observe(root, { childList: true, subtree: true });

  /* --- permalink: /sparql#query=… ------------------------------------------------------- */
  function permalinkFor(query) {
    return window.location.origin + window.location.pathname + "#query=" +
      encodeURIComponent(query);
  }
  Yasgui.Tab.prototype.getShareableLink = function () {
    return permalinkFor(this.getQuery());
  };

  var yasgui = new Yasgui(root, {
    persistenceId: "peerchange-sparql",
    copyEndpointOnNewTab: false,
    requestConfig: { endpoint: endpoint, method: "POST" },
    endpointCatalogueOptions: {
      getData: function () {
        return [{ endpoint: endpoint }];
      }
    },
    // a permalink (#query=…) opens in a tab of its own, always against this endpoint
    populateFromUrl: function (tab) {
      tab.requestConfig.endpoint = endpoint;
      return tab;
    },
    yasqe: { value: opening },
    yasr: { prefixes: prefixes }
  });
  // tabs restored from an earlier visit keep their queries but use this endpoint
  Object.keys(yasgui._tabs).forEach(function (id) {
    var tab = yasgui._tabs[id];
    if (tab.getEndpoint() !== endpoint) tab.setEndpoint(endpoint);
  });
  if (plainForm) plainForm.hidden = true;

  /* --- the tools: examples, permalink, downloads --------------------------------------- */
  var tools = document.getElementById("editor-tools");
  var downloads = document.getElementById("downloads");
  var links = document.getElementById("download-links");
  var permalink = document.getElementById("permalink");
  var select = document.getElementById("example-select");
  var open = document.getElementById("example-open");
  var resultFormats = (links && links.getAttribute("data-result-formats") || "").split(" ");
  var graphFormats = (links && links.getAttribute("data-graph-formats") || "").split(" ");
  var extensions = { json: "srj", xml: "srx", csv: "csv", tsv: "tsv", turtle: "ttl",
                     ntriples: "nt", rdfxml: "rdf", jsonld: "jsonld" };

  function currentQuery() {
    var tab = yasgui.getTab();
    return tab ? tab.getQuery() : "";
  }

  function queryForm() {
    var tab = yasgui.getTab();
    var yasqe = tab && tab.getYasqe ? tab.getYasqe() : null;
    try {
      return yasqe ? yasqe.getQueryType() : "SELECT";
    } catch (e) {
      return "SELECT";
    }
  }

  function refresh() {
    var query = currentQuery();
    if (permalink) permalink.href = permalinkFor(query);
    if (!links) return;
    var graph = /^(CONSTRUCT|DESCRIBE)$/i.test(queryForm() || "");
    var anchors = links.querySelectorAll("a.download");
    for (var j = 0; j < anchors.length; j++) {
      var a = anchors[j];
      var name = a.getAttribute("data-format");
      a.hidden = graph ? graphFormats.indexOf(name) < 0 : resultFormats.indexOf(name) < 0;
      a.href = endpointPath + "?query=" + encodeURIComponent(query) + "&format=" + name;
      a.setAttribute("download", "results." + (extensions[name] || name));
    }
  }

  if (links) {
    // the query may have changed since the last refresh: take it at the moment of the click
    links.addEventListener("click", refresh, true);
  }
  if (permalink) permalink.addEventListener("click", refresh, true);
  ["tabSelect", "tabChange", "tabAdd", "query", "queryResponse"].forEach(function (event) {
    yasgui.on(event, function () {
      window.setTimeout(refresh, 0);
    });
  });

  // as the opening query: the front matter (#+ lines) gives way to one summary line
  function editorText(example) {
    var body = example.query.split("\n").filter(function (line) {
      return !/^\s*#\+/.test(line);
    });
    return "# " + example.summary + " (queries/api/" + example.name + ".rq)\n" +
      body.join("\n");
  }

  if (open && select) {
    open.addEventListener("click", function () {
      var name = select.value;
      var example = examples.filter(function (ex) { return ex.name === name; })[0];
      if (!example) return;
      yasgui.addTab(true, {
        name: name.split("/").pop(),
        yasqe: { value: editorText(example) },
        requestConfig: { endpoint: endpoint }
      });
    });
  }

  if (tools) tools.hidden = false;
  if (downloads) downloads.hidden = false;
  refresh();
})();

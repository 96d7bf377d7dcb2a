"""``/docs``: one self-contained HTML page that renders ``/openapi.json`` for people.

No CDN, fonts or frameworks (the machines that run this have no internet): a few lines of
vanilla JavaScript fetch the document and render, per service, each operation's method, path,
description, parameters, request and response schemas (linked to the schema list at the end)
and a ready-to-paste curl command. All text is inserted as text, never as HTML.
"""

from __future__ import annotations

DOCS_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API documentation</title>
<style>
 body { font: 15px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 72rem; padding: 1rem 2rem;
        color: #1d2330; }
 h1 { margin-bottom: 0; } h2 { border-bottom: 2px solid #d0d5df; padding-bottom: .2rem; }
 code, pre { font: 13px/1.4 ui-monospace, monospace; background: #f3f5f8; }
 pre { padding: .6rem; overflow-x: auto; white-space: pre-wrap; }
 details.op { border: 1px solid #d0d5df; border-radius: 6px; margin: .5rem 0; }
 details.op > summary { cursor: pointer; padding: .5rem; list-style: none; }
 details.op > div { padding: 0 1rem 1rem; }
 .verb { display: inline-block; min-width: 4.5rem; text-align: center; border-radius: 4px;
         color: #fff; font-weight: 600; margin-right: .6rem; }
 .get { background: #2f7d4f; } .post { background: #2b5fad; } .put { background: #a86b12; }
 .delete { background: #b03a3a; } .patch { background: #6b4fa8; }
 .path { font-family: ui-monospace, monospace; font-weight: 600; }
 .summary { color: #555; margin-left: .6rem; }
 table { border-collapse: collapse; width: 100%; margin: .3rem 0 1rem; }
 th, td { border: 1px solid #e1e5ec; padding: .25rem .5rem; text-align: left; vertical-align: top; }
 th { background: #f3f5f8; } .desc { white-space: pre-wrap; }
</style>
</head>
<body>
<h1 id="title">API documentation</h1>
<p id="version"></p>
<div id="intro" class="desc"></div>
<div id="api">Loading <a href="openapi.json">openapi.json</a>...</div>
<h2>Schemas</h2>
<div id="schemas"></div>
<script>
"use strict";
const REF = "#/components/schemas/";
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  for (const child of children) {
    if (child !== null && child !== undefined) {
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
  }
  return node;
}
function inline(text) {
  // `code` and **bold** of the proto comments, as elements; everything else stays text
  const span = el("span", {});
  for (const [i, part] of (text || "").split(/(`[^`]+`|[*][*][^*]+[*][*])/).entries()) {
    if (i % 2 === 0) span.append(part);
    else if (part.startsWith("`")) span.append(el("code", {}, part.slice(1, -1)));
    else span.append(el("strong", {}, part.slice(2, -2)));
  }
  return span;
}
function typeOf(schema) {
  if (!schema) return "any";
  if (schema.$ref) {
    const name = schema.$ref.slice(REF.length);
    return el("a", {href: "#schema-" + name}, name);
  }
  if (schema.allOf) return typeOf(schema.allOf[0]);
  if (schema.type === "array") return el("span", {}, "array of ", typeOf(schema.items));
  if (schema.type === "object" && schema.additionalProperties &&
      schema.additionalProperties !== true) {
    return el("span", {}, "map of string to ", typeOf(schema.additionalProperties));
  }
  return (schema.type || "any") + (schema.format ? " (" + schema.format + ")" : "");
}
function propertiesTable(schema) {
  if (schema.enum) return el("p", {}, "One of: " + schema.enum.join(", "));
  const rows = Object.entries(schema.properties || {}).map(([name, prop]) =>
    el("tr", {}, el("td", {}, el("code", {}, name)), el("td", {}, typeOf(prop)),
       el("td", {class: "desc"}, inline(prop.description),
          prop.properties ? propertiesTable(prop) : null)));
  if (!rows.length) return el("p", {}, "No fields.");
  return el("table", {}, el("tr", {}, el("th", {}, "field"), el("th", {}, "type"),
                                el("th", {}, "description")), ...rows);
}
function curlFor(method, path, op) {
  let cmd = "curl -sS -X " + method.toUpperCase();
  if (op.requestBody) cmd += " -H 'Content-Type: application/json' -d '{}'";
  return cmd + " \\"$GATEWAY" + path + "\\"";
}
function operation(path, method, op) {
  const body = el("div", {});
  body.append(el("p", {class: "desc"}, inline(op.description)));
  const params = op.parameters || [];
  if (params.length) {
    body.append(el("h4", {}, "Parameters"), el("table", {},
      el("tr", {}, el("th", {}, "name"), el("th", {}, "in"), el("th", {}, "type"),
         el("th", {}, "description")),
      ...params.map(p => el("tr", {}, el("td", {}, el("code", {}, p.name)), el("td", {}, p.in),
                            el("td", {}, typeOf(p.schema)),
                            el("td", {class: "desc"}, inline(p.description))))));
  }
  if (op.requestBody) {
    const media = Object.values(op.requestBody.content)[0];
    body.append(el("h4", {}, "Request body (JSON): ", typeOf(media.schema)));
  }
  for (const [status, response] of Object.entries(op.responses || {})) {
    const media = Object.entries(response.content || {})[0];
    body.append(el("h4", {}, "Response " + status + (media ? " (" + media[0] + "): " : ""),
                   media ? typeOf(media[1].schema) : ""),
                el("p", {class: "desc"}, inline(response.description)));
  }
  body.append(el("h4", {}, "Example"), el("pre", {}, curlFor(method, path, op)));
  const details = el("details", {class: "op", id: op.operationId},
    el("summary", {}, el("span", {class: "verb " + method}, method.toUpperCase()),
       el("span", {class: "path"}, path), el("span", {class: "summary"}, inline(op.summary))),
    body);
  details.open = location.hash === "#" + op.operationId;  // deep links open the operation
  return details;
}
function render(doc) {
  document.title = doc.info.title;
  document.getElementById("title").textContent = doc.info.title;
  document.getElementById("version").textContent = "Version " + doc.info.version +
    " \\u00b7 OpenAPI " + doc.openapi;
  document.getElementById("intro").append(inline(doc.info.description));
  const api = document.getElementById("api");
  api.textContent = "";
  for (const tag of doc.tags || []) {
    api.append(el("h2", {id: "tag-" + tag.name}, tag.name),
               el("p", {class: "desc"}, inline(tag.description)));
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        if ((op.tags || []).includes(tag.name)) api.append(operation(path, method, op));
      }
    }
  }
  const schemas = document.getElementById("schemas");
  for (const [name, schema] of Object.entries(doc.components.schemas).sort()) {
    schemas.append(el("h3", {id: "schema-" + name}, name),
                   el("p", {class: "desc"}, inline(schema.description)), propertiesTable(schema));
  }
}
fetch("openapi.json").then(r => r.json()).then(render).catch(err => {
  document.getElementById("api").textContent = "Could not load openapi.json: " + err;
});
</script>
</body>
</html>
"""

import Hummingbird

/// A self-contained documentation page: it fetches /api/openapi.json and lists every operation
/// with its parameters. No CDN, no framework, so it works offline.
enum DocsPage {
    /// The page, at /api/docs and at each unit's docs path.
    static func response(head: Bool) -> Response {
        let body = ByteBuffer(string: html)
        var response = Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: body))
        if head { response = CatalogMiddleware.withoutBody(response) }
        return response
    }

    static let html = #"""
    <!doctype html>
    <html lang="en"><head><meta charset="utf-8"><title>API documentation</title>
    <style>
      body { font: 15px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1d2433; }
      h1 { margin-bottom: 0 } .op { border: 1px solid #d8dde6; border-radius: 6px; margin: .6rem 0; padding: .5rem .8rem; }
      .m { display: inline-block; min-width: 4.5rem; font-weight: 700; } .GET { color: #0a6 } .POST { color: #06c }
      .PUT, .PATCH { color: #a60 } .DELETE { color: #c22 } code { background: #f3f5f8; padding: 0 .25rem; border-radius: 3px; }
      table { border-collapse: collapse; margin-top: .3rem } td, th { text-align: left; padding: .1rem .6rem .1rem 0; font-size: 14px; }
      .lock { color: #888; font-size: 13px } h2 { margin-top: 2rem; text-transform: capitalize }
    </style></head>
    <body><h1>API documentation</h1><p id="about">Loading <a href="/api/openapi.json">/api/openapi.json</a>…</p><div id="ops"></div>
    <script>
    const esc = s => String(s ?? "").replace(/[&<>"]/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]));
    fetch("/api/openapi.json").then(r => r.json()).then(doc => {
      document.getElementById("about").innerHTML = esc(doc.info.description) + ' — <a href="/api/openapi.json">OpenAPI document</a>';
      const byTag = {};
      for (const [path, methods] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(methods)) {
        (byTag[(op.tags || ["other"])[0]] ??= []).push({path, method: method.toUpperCase(), op});
      }
      let html = "";
      for (const [tag, ops] of Object.entries(byTag).sort()) {
        html += `<h2>${esc(tag)}</h2>`;
        for (const {path, method, op} of ops) {
          const params = (op.parameters || []).map(p => `<tr><td><code>${esc(p.name)}</code></td><td>${esc(p.in)}</td><td>${esc(p.schema?.type ?? "any")}</td><td>${p.required ? "required" : ""}</td></tr>`).join("");
          const body = op.requestBody ? Object.entries(op.requestBody.content["application/json"].schema.properties || {})
            .map(([n, s]) => `<tr><td><code>${esc(n)}</code></td><td>body</td><td>${esc(s.type ?? "any")}</td><td></td></tr>`).join("") : "";
          html += `<div class="op"><span class="m ${method}">${method}</span><code>${esc(path)}</code> ${op.security ? '<span class="lock">🔒 bearer token</span>' : ""}
            <div>${esc(op.summary)}</div>${op.description ? `<div><small>${esc(op.description)}</small></div>` : ""}
            ${params || body ? `<table><tr><th>name</th><th>in</th><th>type</th><th></th></tr>${params}${body}</table>` : ""}</div>`;
        }
      }
      document.getElementById("ops").innerHTML = html;
    }).catch(e => { document.getElementById("about").textContent = "Could not load the OpenAPI document: " + e; });
    </script></body></html>
    """#
}

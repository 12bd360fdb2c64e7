/**
 * A self-contained page that renders /openapi.json: no script or style from
 * elsewhere, so it works on a machine without internet and under a strict CSP.
 */
export const docsPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Messaging gateway API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#222}
h1{margin-bottom:0}.op{border:1px solid #ddd;border-radius:6px;margin:1rem 0;padding:.5rem 1rem}
.m{display:inline-block;min-width:4.5em;font-weight:700;text-transform:uppercase}.get{color:#0a6}.post{color:#06c}.delete{color:#c33}
pre{background:#f6f6f6;padding:.5rem;overflow:auto;font-size:13px}small{color:#666}
</style></head><body>
<h1>Messaging gateway API</h1><p id="info"><small>loading /openapi.json ...</small></p><div id="ops"></div>
<script>
fetch("/openapi.json").then(r => r.json()).then(doc => {
  const esc = s => String(s).replace(/[&<>"]/g, c => ({"&":"&amp;","<":"&lt;",">":"&gt;","\\"":"&quot;"}[c]));
  document.getElementById("info").innerHTML = esc(doc.info.description) + " <small>v" + esc(doc.info.version) + "</small>";
  const out = [];
  for (const [path, item] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(item)) {
    const params = (op.parameters || []).map(p => "<li><code>" + esc(p.name) + "</code> (" + esc(p.in) + ")" + (p.description ? " - " + esc(p.description) : "") + "</li>").join("");
    const body = op.requestBody ? "<pre>" + esc(JSON.stringify(op.requestBody.content["application/json"].schema.$ref ? doc.components.schemas[op.requestBody.content["application/json"].schema.$ref.split("/").pop()] : op.requestBody, null, 2)) + "</pre>" : "";
    const res = Object.entries(op.responses).map(([code, r]) => "<li><b>" + esc(code) + "</b> " + esc(r.description) + "</li>").join("");
    out.push('<div class="op"><span class="m ' + method + '">' + method + "</span> <code>" + esc(path) + "</code>" + (op.security ? " <small>API key</small>" : "") +
      "<p>" + esc(op.summary || "") + "</p>" + (params ? "<ul>" + params + "</ul>" : "") + body + "<ul>" + res + "</ul></div>");
  }
  document.getElementById("ops").innerHTML = out.join("");
});
</script></body></html>`;

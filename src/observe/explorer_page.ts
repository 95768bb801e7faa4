/**
 * The explorer page's own style and script (inlined into the page: it must work offline,
 * with no CDN and no build step). The script reads the API description from the page,
 * builds a form per method, and calls methods over JSON-RPC.
 *
 * @module
 */

/** The page's style sheet. */
export const EXPLORER_STYLE = `
:root { color-scheme: light dark; --fg: #1d2330; --muted: #5b6475; --line: #d7dbe3;
  --bg: #fff; --card: #f6f7fa; --accent: #2357c6; --ok: #17753a; --err: #b3261e; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e8ee; --muted: #9aa3b5; --line: #343b4a;
  --bg: #14171d; --card: #1c2029; --accent: #7aa2ff; --ok: #5fd08a; --err: #ff8a80; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header { padding: 16px 24px; border-bottom: 1px solid var(--line); position: sticky; top: 0;
  background: var(--bg); display: flex; gap: 16px; align-items: baseline; flex-wrap: wrap; }
h1 { margin: 0; font-size: 20px; } h1 small { color: var(--muted); font-weight: 400; }
nav { color: var(--muted); } a { color: var(--accent); }
#filter { margin-left: auto; padding: 6px 10px; border: 1px solid var(--line); border-radius: 6px;
  background: var(--card); color: var(--fg); min-width: 220px; }
main { padding: 8px 24px 40px; max-width: 1100px; }
h2 { font-size: 17px; margin: 24px 0 4px; } .doc { color: var(--muted); margin: 0 0 8px; }
details { border: 1px solid var(--line); border-radius: 8px; margin: 8px 0; background: var(--card); }
summary { cursor: pointer; padding: 8px 12px; font-family: ui-monospace, monospace; }
summary .sig { color: var(--muted); }
.body { padding: 4px 12px 12px; }
form { display: grid; grid-template-columns: max-content 1fr; gap: 6px 12px; align-items: center; }
label { font-family: ui-monospace, monospace; } label .type { color: var(--muted); }
input, select, textarea { font: 13px ui-monospace, monospace; padding: 5px 8px; color: var(--fg);
  border: 1px solid var(--line); border-radius: 5px; background: var(--bg); }
textarea { min-height: 3.2em; resize: vertical; }
button { grid-column: 2; justify-self: start; padding: 6px 16px; border: 0; border-radius: 6px;
  background: var(--accent); color: #fff; font-weight: 600; cursor: pointer; }
.errors { color: var(--muted); font-size: 13px; margin: 6px 0; }
pre.outcome { margin: 10px 0 0; padding: 8px 10px; border-radius: 6px; white-space: pre-wrap;
  border-left: 4px solid var(--line); background: var(--bg); overflow-x: auto; }
pre.outcome.streaming { border-color: var(--accent); } pre.outcome.cancelled { color: var(--muted); }
form.call > div { grid-column: 2; }
button.cancel { grid-column: auto; background: var(--err); margin-left: 8px; }
pre.outcome.ok { border-color: var(--ok); } pre.outcome.error { border-color: var(--err); color: var(--err); }
`;

/**
 * The page's script. `call` is the one place that talks to the server: it uses the
 * bundled browser client when the server offers it at `client.js`, and a plain JSON-RPC
 * POST otherwise; both fail with `{ code, name, message, data }`.
 */
export const EXPLORER_SCRIPT = `
const api = JSON.parse(document.getElementById("api").textContent);
const codes = JSON.parse(document.getElementById("codes").textContent);
let seq = 0;
const SHOWN_ITEMS = 500;
async function postCall(method, params) {
  const response = await fetch("rpc", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: ++seq, method, params }),
  });
  const reply = await response.json();
  if (reply.error) {
    throw { ...reply.error, name: reply.error.name ?? codes[reply.error.code] ?? "RpcError" };
  }
  return reply.result;
}
const caller = (async () => {
  try {
    const { connect } = await import("./client.js");
    const client = connect(location.origin);
    return (method, params) => client.call(method, params);
  } catch {
    return postCall;
  }
})();
const call = async (method, params) => (await caller)(method, params);

/**
 * A streamed result, item by item: POSTed asking for NDJSON, each item handed to onItem as
 * it arrives. Resolves with the count at the end; aborting signal drops the connection,
 * which cancels the producer at the server.
 */
async function streamCall(method, params, onItem, signal) {
  const response = await fetch("rpc", {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/x-ndjson" },
    body: JSON.stringify({ jsonrpc: "2.0", id: ++seq, method, params }),
    signal,
  });
  const named = (error) => ({ ...error, name: error.name ?? codes[error.code] ?? "RpcError" });
  if (!(response.headers.get("content-type") ?? "").startsWith("application/x-ndjson")) {
    const reply = await response.json();
    if (reply.error) throw named(reply.error);
    for (const item of reply.result) onItem(item);
    return reply.result.length;
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let text = "", items = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) {
      throw { code: -32005, name: "Unavailable", message: "the stream was cut after " + items + " items" };
    }
    text += value;
    let at;
    while ((at = text.indexOf("\\n")) >= 0) {
      const line = JSON.parse(text.slice(0, at));
      text = text.slice(at + 1);
      if (line.error) throw named(line.error);
      if (line.end) return line.count;
      items++;
      onItem(line.item);
    }
  }
}

const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  for (const child of children) node.append(child);
  return node;
};

function input(param, id) {
  const common = { id, name: param.name, required: !param.optional && param.input !== "string" };
  switch (param.input) {
    case "bool": {
      const select = el("select", common);
      if (param.optional) select.append(el("option", { value: "", textContent: "(omit)" }));
      for (const v of ["true", "false"]) select.append(el("option", { value: v, textContent: v }));
      return select;
    }
    case "choice": {
      const select = el("select", common);
      if (param.optional) select.append(el("option", { value: "", textContent: "(omit)" }));
      param.choices.forEach((v, i) =>
        select.append(el("option", { value: String(i), textContent: JSON.stringify(v) })));
      return select;
    }
    case "json":
      return el("textarea", { ...common, placeholder: "JSON" });
    default:
      return el("input", {
        ...common,
        type: "text",
        inputMode: param.input === "string" ? "text" : "decimal",
        placeholder: param.optional ? "(optional)" : param.input === "string" ? "" : "0",
      });
  }
}

/** Reads the form into named params: numbers as numbers (the server checks their kind). */
function readParams(form, method) {
  const params = {};
  for (const param of method.params) {
    const raw = form.elements[param.name].value;
    if (raw === "" && param.optional) continue;
    switch (param.input) {
      case "int":
      case "float": {
        const n = Number(raw);
        params[param.name] = raw.trim() === "" ? null : Number.isNaN(n) ? raw : n;
        break;
      }
      case "bool":
        params[param.name] = raw === "true";
        break;
      case "choice":
        params[param.name] = param.choices[Number(raw)];
        break;
      case "json":
        try {
          params[param.name] = JSON.parse(raw);
        } catch (error) {
          throw { code: -32602, name: "InvalidParams",
            message: "params." + param.name + ": not JSON (" + error.message + ")" };
        }
        break;
      default:
        params[param.name] = raw;
    }
  }
  return params;
}

function methodCard(method) {
  const short = method.name.slice(method.name.indexOf(".") + 1);
  const sig = "(" + method.params.map((p) => p.name + (p.optional ? "?" : "") + ": " +
    p.type.replace(/\\?$/, "")).join(", ") + ") → " + method.result;
  const form = el("form", { className: "call" });
  form.dataset.method = method.name;
  method.params.forEach((param, i) => {
    const id = method.name + "-" + i;
    form.append(
      el("label", { htmlFor: id, title: param.doc ?? "" }, param.name + " ",
        el("span", { className: "type", textContent: param.type })),
      input(param, id),
    );
  });
  const outcome = el("pre", { className: "outcome", hidden: true });
  outcome.setAttribute("aria-live", "polite");
  const cancel = el("button", { type: "button", className: "cancel", textContent: "Cancel", hidden: true });
  form.append(el("div", {}, el("button", { type: "submit", textContent: "Call" }), cancel));
  const showError = (error) => {
    outcome.className = "outcome error";
    outcome.textContent += (error.name ?? "Error") + " (" + (error.code ?? "?") + "): " +
      error.message + (error.data === undefined ? "" : "\\n" + JSON.stringify(error.data, null, 2));
  };
  // A streamed result shows each item as it comes; Cancel aborts it (and the producer).
  let running;
  cancel.addEventListener("click", () => running?.abort());
  const stream = async () => {
    running?.abort();
    const controller = running = new AbortController();
    outcome.className = "outcome streaming";
    outcome.textContent = "";
    outcome.dataset.items = "0";
    cancel.hidden = false;
    const started = performance.now();
    const took = () => (performance.now() - started).toFixed(1) + " ms";
    // The last SHOWN_ITEMS items are shown: an endless stream must not grow the page forever.
    const shown = [];
    try {
      const count = await streamCall(method.name, readParams(form, method), (item) => {
        if (controller.signal.aborted) return;
        shown.push(JSON.stringify(item));
        if (shown.length > SHOWN_ITEMS) shown.shift();
        outcome.textContent = shown.join("\\n") + "\\n";
        outcome.dataset.items = String(Number(outcome.dataset.items) + 1);
      }, controller.signal);
      outcome.className = "outcome ok";
      outcome.textContent += "\\n(" + count + " items, " + took() + ")";
    } catch (error) {
      if (controller.signal.aborted) {
        outcome.className = "outcome cancelled";
        outcome.textContent += "\\n(cancelled after " + outcome.dataset.items + " items, " + took() + ")";
      } else showError(error);
    } finally {
      if (running === controller) cancel.hidden = true;
    }
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (method.stream) {
      outcome.hidden = false;
      return stream();
    }
    outcome.hidden = false;
    outcome.className = "outcome pending";
    outcome.textContent = "calling " + method.name + "…";
    const started = performance.now();
    try {
      const result = await call(method.name, readParams(form, method));
      outcome.className = "outcome ok";
      outcome.textContent = JSON.stringify(result, null, 2) +
        "\\n\\n(" + (performance.now() - started).toFixed(1) + " ms)";
    } catch (error) {
      outcome.textContent = "";
      showError(error);
    }
  });
  const body = el("div", { className: "body" });
  if (method.doc) body.append(el("p", { className: "doc", textContent: method.doc }));
  body.append(form);
  if (method.errors.length) {
    body.append(el("p", { className: "errors", textContent: "errors: " + method.errors.join(", ") }));
  }
  body.append(outcome);
  const card = el("details", {},
    el("summary", {}, short + " ", el("span", { className: "sig", textContent: sig })), body);
  card.dataset.method = method.name;
  return card;
}

const main = document.getElementById("interfaces");
if (api.length === 0) main.append(el("p", { textContent: "No interfaces are served here." }));
for (const iface of api) {
  const section = el("section", {}, el("h2", { textContent: iface.name }));
  section.dataset.interface = iface.name;
  if (iface.doc) section.append(el("p", { className: "doc", textContent: iface.doc }));
  for (const method of iface.methods) section.append(methodCard(method));
  main.append(section);
}
document.getElementById("filter").addEventListener("input", (event) => {
  const wanted = event.target.value.toLowerCase();
  for (const card of document.querySelectorAll("details[data-method]")) {
    card.hidden = !card.dataset.method.toLowerCase().includes(wanted);
  }
});
`;

/**
 * Profiles Switchboard's server under one benchmark cell: starts `switchboard_server.ts`
 * with `--cpu-prof`, drives it with the load generator, stops it, and prints the
 * functions with the most self time. The `.cpuprofile` is kept for Chrome DevTools.
 *
 * `deno run -A scripts/bench/profile.ts [--suite http|xmlrpc|tcp] [--method add|payload]
 *   [--callers 32] [--depth 1] [--duration 4000] [--dir /tmp/switchboard-prof]
 *   [--server scripts/bench/bare_http.ts] [--interval 100] [--args "--metrics --log"]`
 *
 * `--args` passes flags to the server (e.g. `--metrics --log` to see what observing costs).
 * `--server` profiles another server script (one that prints its ports like
 * `switchboard_server.ts`), e.g. a ceiling, to compare JS time per call side by side.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { runHttpCell, runTcpCell } from "./load.ts";
import { type BenchMethod, JSON_BODIES, XML_BODIES } from "./workload.ts";

const flags: Record<string, string> = {
  suite: "http",
  method: "add",
  callers: "32",
  depth: "1",
  duration: "4000",
  dir: "/tmp/switchboard-prof",
  top: "30",
  server: fileURLToPath(new URL("./switchboard_server.ts", import.meta.url)),
  interval: "100",
  args: "",
};
for (let i = 0; i < Deno.args.length; i += 2) {
  flags[Deno.args[i].replace(/^--/, "")] = Deno.args[i + 1];
}

await Deno.remove(flags.dir, { recursive: true }).catch(() => {});
await Deno.mkdir(flags.dir, { recursive: true });
const child = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "-A",
    "--quiet",
    "--cpu-prof",
    `--cpu-prof-dir=${flags.dir}`,
    `--cpu-prof-interval=${flags.interval}`,
    flags.server,
    ...flags.args.split(" ").filter((a) => a !== ""),
  ],
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
let line = "";
while (!line.includes("\n")) {
  const { done, value } = await reader.read();
  if (done) throw new Error("server exited");
  line += value;
}
const ports = JSON.parse(line);
const method = flags.method as BenchMethod;
const timing = { warmupMs: 500, durationMs: Number(flags.duration) };
const result = flags.suite === "tcp"
  ? await runTcpCell({
    port: ports.tcp,
    method,
    connections: Number(flags.callers),
    depth: Number(flags.depth),
    ...timing,
  })
  : await runHttpCell({
    port: ports.http,
    path: flags.suite === "http" ? "/rpc" : "/RPC2",
    format: flags.suite === "http" ? "json" : "xml",
    contentType: flags.suite === "http" ? "application/json" : "text/xml",
    body: (flags.suite === "http" ? JSON_BODIES : XML_BODIES)[method],
    method,
    callers: Number(flags.callers),
    ...timing,
  });
console.log(result);
child.kill("SIGTERM");
await child.status;
await reader.cancel().catch(() => {});

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
const file = [...Deno.readDirSync(flags.dir)].find((e) => e.name.endsWith(".cpuprofile"));
if (!file) throw new Error("no profile written");
const profile = JSON.parse(Deno.readTextFileSync(`${flags.dir}/${file.name}`)) as {
  nodes: Node[];
  samples: number[];
};
const self = new Map<number, number>();
for (const id of profile.samples) self.set(id, (self.get(id) ?? 0) + 1);
const byFunction = new Map<string, number>();
for (const node of profile.nodes) {
  const f = node.callFrame;
  const where = f.url.replace(/^.*\/(node_modules|registry\.npmjs\.org)\//, "npm:").replace(
    /^file:\/\/.*\/main\//,
    "",
  );
  const name = `${f.functionName || "(anonymous)"}  ${where}:${f.lineNumber + 1}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + (self.get(node.id) ?? 0));
}
const total = profile.samples.length;
console.log(`profile: ${flags.dir}/${file.name} (${total} samples); top self time:`);
for (const [name, n] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, Number(flags.top))) {
  console.log(`${(100 * n / total).toFixed(1).padStart(5)}%  ${name}`);
}

// The gRPC side of the load generator (Node, as @grpc/grpc-js is a Node client): the same
// cells as scripts/bench/load.ts — N channels (own connections), each with `depth` unary
// calls in flight, a warm-up, then a measured window. Prints one JSON line.
"use strict";
const { grpc, Bench } = require("./grpc_service.js");

const cell = JSON.parse(process.argv[2]);
const request = cell.method === "add" ? { a: 20, b: 22 } : { order: cell.order };
const rpc = cell.method === "add" ? "Add" : "Payload";
const ok = (reply) =>
  cell.method === "add"
    ? reply.sum === 42
    : reply.items.length === 50 && reply.id === cell.order.id;

let measuring = false;
let stopped = false;
let errors = 0;
let wrong;
const latencies = [];

function channel() {
  // A local subchannel pool gives each caller its own connection, like the TCP cells.
  const client = new Bench(`127.0.0.1:${cell.port}`, grpc.credentials.createInsecure(), {
    "grpc.use_local_subchannel_pool": 1,
  });
  let checked = false;
  let inFlight = 0;
  return new Promise((resolve) => {
    const send = () => {
      inFlight++;
      const t0 = performance.now();
      client[rpc](request, (error, reply) => {
        const t1 = performance.now();
        inFlight--;
        if (error || (!checked && !ok(reply))) {
          wrong ??= error ? error.message : `unexpected: ${JSON.stringify(reply).slice(0, 160)}`;
          if (measuring) errors++;
        } else {
          checked = true;
          if (measuring) latencies.push(t1 - t0);
        }
        if (!stopped) send();
        else if (inFlight === 0) {
          client.close();
          resolve();
        }
      });
    };
    for (let i = 0; i < cell.depth; i++) send();
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
(async () => {
  const channels = Array.from({ length: cell.connections }, channel);
  await sleep(cell.warmupMs);
  latencies.length = 0;
  errors = 0;
  measuring = true;
  process.stdout.write("window open\n");
  const start = performance.now();
  await sleep(cell.durationMs);
  measuring = false;
  const elapsed = performance.now() - start;
  process.stdout.write("window closed\n");
  stopped = true;
  await Promise.all(channels);
  const sorted = Float64Array.from(latencies).sort();
  const at = (q) =>
    sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN;
  console.log(JSON.stringify({
    cps: sorted.length / (elapsed / 1000),
    p50: at(0.5),
    p99: at(0.99),
    calls: sorted.length,
    errors,
    wrong,
  }));
})();

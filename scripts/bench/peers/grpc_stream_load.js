// The gRPC side of the stream benchmarks (Node, @grpc/grpc-js's own client): `streams`
// server-streaming Items calls at once on one channel (one HTTP/2 connection), each read to
// its end and opened again, a warm-up, then a measured window counting the items. Prints
// "window open", "window closed", then one JSON line (child_generator.ts).
"use strict";
const { grpc, Bench } = require("./grpc_service.js");

const cell = JSON.parse(process.argv[2]);
const client = new Bench(`127.0.0.1:${cell.port}`, grpc.credentials.createInsecure());
const N = 1e9;

let measuring = false;
let stopped = false;
let items = 0;
let errors = 0;
let wrong;
/** The calls open now, cancelled when the window closes. */
const open = new Set();

/** One stream after another until stopped; resolves once the last has ended. */
function reader() {
  return new Promise((resolve) => {
    const start = () => {
      const call = client.Items({ n: N });
      open.add(call);
      let next = 0;
      call.on("data", (item) => {
        if (item.i !== next++ || item.s !== `item ${item.i}`) {
          wrong ??= `unexpected item ${JSON.stringify(item)} (expected i ${next - 1})`;
        }
        if (measuring) items++;
      });
      call.on("error", (error) => {
        if (error.code !== grpc.status.CANCELLED) {
          wrong ??= error.message;
          if (measuring) errors++;
        }
      });
      call.on("status", () => {
        open.delete(call);
        stopped ? resolve() : start();
      });
    };
    start();
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
(async () => {
  const readers = Array.from({ length: cell.streams }, reader);
  await sleep(cell.warmupMs);
  items = 0;
  errors = 0;
  measuring = true;
  process.stdout.write("window open\n");
  const start = performance.now();
  await sleep(cell.durationMs);
  measuring = false;
  const elapsed = performance.now() - start;
  const counted = items;
  process.stdout.write("window closed\n");
  stopped = true;
  for (const call of open) call.cancel();
  await Promise.all(readers);
  client.close();
  console.log(JSON.stringify({
    cps: counted / (elapsed / 1000),
    p50: null,
    p99: null,
    calls: counted,
    errors,
    wrong,
  }));
})();

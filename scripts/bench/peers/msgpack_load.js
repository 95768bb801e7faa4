// The msgpack-rpc load generator (Node + msgpackr), a process of its own so that it can sit on
// the other core than the server: N connections, each keeping `depth` calls in flight, a
// warm-up, then a measured window. Requests are pre-encoded (`tail`, the bytes after the id,
// comes from scripts/bench/workload.ts); each read's answers are decoded with msgpackr's
// unpackMultiple and replaced by as many new calls in one write. Announces "window open" and
// "window closed", then prints one JSON line (the fields of load.ts's CellResult).
"use strict";
const net = require("node:net");
const { Unpackr } = require("msgpackr");

const cell = JSON.parse(process.argv[2]);
const tail = Buffer.from(cell.tail, "base64");
const size = 7 + tail.length;
const expected = cell.expected;

let measuring = false;
let stopped = false;
let errors = 0;
let wrong;
const latencies = [];

function sameAnswer(result) {
  if (cell.method === "add") return result === expected;
  return typeof result === "object" && result !== null && result.id === expected.id &&
    Array.isArray(result.items) && result.items.length === expected.items.length &&
    result.total === expected.total;
}

function connection() {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port: cell.port });
    socket.setNoDelay(true);
    const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
    const sentAt = new Float64Array(65536);
    let nextId = 1;
    let inFlight = 0;
    let checked = false;
    let pending;
    const requests = (count) => {
      const out = Buffer.allocUnsafe(size * count);
      const now = performance.now();
      for (let k = 0; k < count; k++) {
        const at = k * size;
        const id = nextId;
        nextId = (nextId + 1) >>> 0 || 1;
        out[at] = 0x94;
        out[at + 1] = 0x00;
        out[at + 2] = 0xce;
        out.writeUInt32BE(id, at + 3);
        tail.copy(out, at + 7);
        sentAt[id & 0xffff] = now;
      }
      inFlight += count;
      return out;
    };
    const fail = (why) => {
      wrong ??= why;
      if (measuring) errors++;
    };
    socket.on("connect", () => socket.write(requests(cell.depth)));
    socket.on("data", (chunk) => {
      let data = chunk;
      if (pending) {
        data = Buffer.concat([pending, chunk]);
        pending = undefined;
      }
      let done = 0;
      const now = performance.now();
      try {
        unpackr.unpackMultiple(data, (msg) => {
          done++;
          const [type, id, error, result] = msg;
          if (type !== 1 || (error !== null && error !== undefined)) {
            return fail(`error reply: ${JSON.stringify(msg).slice(0, 160)}`);
          }
          if (!checked) {
            checked = true;
            if (!sameAnswer(result)) {
              return fail(`unexpected: ${JSON.stringify(result).slice(0, 160)}`);
            }
          }
          if (measuring) latencies.push(now - sentAt[id & 0xffff]);
        });
      } catch (error) {
        if (!error.incomplete) {
          fail(String(error));
          socket.destroy();
          return;
        }
        pending = data.subarray(error.lastPosition ?? 0);
      }
      inFlight -= done;
      if (done > 0 && !stopped) socket.write(requests(done));
      else if (stopped && inFlight === 0) socket.end();
    });
    socket.on("error", (error) => fail(`connection: ${error.message}`));
    socket.on("close", () => resolve());
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
(async () => {
  const connections = Array.from({ length: cell.connections }, connection);
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
  // A server that stopped answering must not hold the generator: close what is left.
  const closing = setTimeout(() => process.exit(3), 10_000);
  await Promise.all(connections);
  clearTimeout(closing);
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

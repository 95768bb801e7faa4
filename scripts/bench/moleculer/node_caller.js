// The Moleculer caller: its broker balances `bench.work` over the service nodes (the default
// round-robin strategy, or the one named), CONCURRENCY loops for MS ms; prints JSON.
// node_caller.js PORT PEERS_JSON NODES CONCURRENCY MS ROUNDS [STRATEGY]
import { ServiceBroker } from "moleculer";

const [port, peers, nodes, concurrency, ms, rounds, strategy] = process.argv.slice(2);
const broker = new ServiceBroker({
  nodeID: "caller",
  logger: false,
  registry: { strategy: strategy ?? "RoundRobin" },
  transporter: {
    type: "TCP",
    options: { udpDiscovery: false, port: Number(port), urls: JSON.parse(peers) },
  },
});
await broker.start();
await broker.waitForServices("bench");
// Every node is known before the clock starts.
for (let i = 0; i < 200; i++) {
  if (
    broker.registry.getServiceList({ onlyAvailable: true }).filter((s) => s.name === "bench")
      .length >= Number(nodes)
  ) break;
  await new Promise((r) => setTimeout(r, 50));
}
const params = { rounds: Number(rounds) };
const warm = Date.now() + 300;
while (Date.now() < warm) await broker.call("bench.work", params);
let calls = 0, failures = 0;
const end = Date.now() + Number(ms);
const started = performance.now();
await Promise.all(Array.from({ length: Number(concurrency) }, async () => {
  while (Date.now() < end) {
    try {
      await broker.call("bench.work", params);
      calls++;
    } catch {
      failures++;
    }
  }
}));
const seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({ callsPerSecond: calls / seconds, failures }));
await broker.stop();
process.exit(0);

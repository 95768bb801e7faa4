// One Moleculer node serving `bench.work`, on the TCP transporter at PORT with static peers
// (no UDP discovery): node_service.js NODE_ID PORT PEERS_JSON.
import { ServiceBroker } from "moleculer";
import { work } from "./work.js";

const [nodeID, port, peers] = process.argv.slice(2);
const broker = new ServiceBroker({
  nodeID,
  logger: false,
  transporter: {
    type: "TCP",
    options: { udpDiscovery: false, port: Number(port), urls: JSON.parse(peers) },
  },
});
broker.createService({
  name: "bench",
  actions: { work: (ctx) => ({ x: work(ctx.params.rounds) }) },
});
await broker.start();
console.log("ready");
process.on("SIGTERM", () => broker.stop().then(() => process.exit(0)));

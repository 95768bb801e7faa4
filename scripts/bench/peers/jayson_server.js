// jayson's HTTP server (Node), serving add(a, b) and payload(order) as JSON-RPC 2.0.
"use strict";
const jayson = require("jayson");

const server = new jayson.Server({
  "Bench.add": (args, callback) => callback(null, args.a + args.b),
  "Bench.payload": (args, callback) => callback(null, args.order),
});
const http = server.http();
http.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ http: http.address().port })));
process.on("SIGTERM", () => process.exit(0));

// The npm xmlrpc package's server (Node), serving add(a, b) and payload(order).
"use strict";
const xmlrpc = require("xmlrpc");

const server = xmlrpc.createServer({ host: "127.0.0.1", port: 0 }, () => {
  console.log(JSON.stringify({ http: server.httpServer.address().port }));
});
server.on("Bench.add", (_err, params, callback) => callback(null, params[0] + params[1]));
server.on("Bench.payload", (_err, params, callback) => callback(null, params[0]));
process.on("SIGTERM", () => process.exit(0));

// json-rpc-2.0's JSONRPCServer on Node's http module, serving add(a, b) and payload(order).
"use strict";
const http = require("node:http");
const { JSONRPCServer } = require("json-rpc-2.0");

const rpc = new JSONRPCServer();
rpc.addMethod("Bench.add", ({ a, b }) => a + b);
rpc.addMethod("Bench.payload", ({ order }) => order);

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", async () => {
    const reply = await rpc.receive(JSON.parse(Buffer.concat(chunks).toString("utf8")));
    if (reply === null) {
      res.writeHead(204).end();
      return;
    }
    const body = JSON.stringify(reply);
    res.writeHead(200, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
    });
    res.end(body);
  });
});
server.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ http: server.address().port })));
process.on("SIGTERM", () => process.exit(0));

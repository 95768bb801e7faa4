// msgpack5rpc sessions (Node) on a net server, serving add(a, b) and payload(order).
"use strict";
const net = require("node:net");
const Session = require("msgpack5rpc");

const server = net.createServer((socket) => {
  socket.on("error", () => {});
  const session = new Session();
  session.attach(socket, socket);
  session.on("request", (method, args, response) => {
    if (method === "Bench.add") response.send(args[0] + args[1]);
    else if (method === "Bench.payload") response.send(args[0]);
    else response.send(`no method ${method}`, true);
  });
});
server.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ tcp: server.address().port })));
process.on("SIGTERM", () => process.exit(0));

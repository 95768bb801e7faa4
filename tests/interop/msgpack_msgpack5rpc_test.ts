// A msgpack-rpc client we did not write: npm's msgpack5rpc (runs under Deno via node:net).
import assert from "node:assert/strict";
import { once } from "node:events";
import net from "node:net";
import Session from "msgpack5rpc";
import { connect, defineInterface, method, t } from "../../mod.ts";
import { demoServer } from "../server/tcp_fixture.ts";
import "../../tcp.ts"; // connect() speaks tcp

interface ResponseLike {
  send(value: unknown, isError?: boolean): void;
}

interface Reply {
  err: unknown;
  res: unknown;
}

async function session(port: number) {
  const socket = net.connect(port, "127.0.0.1");
  await once(socket, "connect");
  const s = new Session();
  s.attach(socket, socket);
  return {
    request: (method: string, args: unknown[]) =>
      new Promise<Reply>((resolve) =>
        s.request(method, args, (err: unknown, res: unknown) => resolve({ err, res }))
      ),
    notify: (method: string, args: unknown[]) => s.notify(method, args),
    async close() {
      socket.destroy();
      if (!socket.closed) await once(socket, "close");
    },
  };
}

Deno.test("msgpack5rpc: requests, pipelined out-of-order completion, notifications, errors", async () => {
  const { tcp, close } = await demoServer();
  const client = await session(tcp.port);
  try {
    assert.deepEqual(await client.request("Demo.echo", [{ a: [1, "x"] }]), {
      err: null,
      res: { a: [1, "x"] },
    });

    const order: string[] = [];
    const track = (p: Promise<Reply>) => p.then((r) => void order.push(r.res as string));
    await Promise.all([
      track(client.request("Demo.sleep", [300, "slow"])),
      track(client.request("Demo.sleep", [100, "medium"])),
      track(client.request("Demo.echo", ["fast"])),
    ]);
    assert.deepEqual(order, ["fast", "medium", "slow"]);

    client.notify("Demo.note", ["from msgpack5rpc"]);
    assert.deepEqual(await client.request("Demo.notes", []), {
      err: null,
      res: ["from msgpack5rpc"],
    });

    // A plain peer (no $/hello) gets errors as [type, message], the form Neovim shows.
    assert.deepEqual(await client.request("Demo.nope", []), {
      err: [1, "Method not found: Demo.nope"],
      res: null,
    });
    assert.deepEqual(await client.request("Demo.fail", ["broken"]), {
      err: [0, "NotFound: broken"],
      res: null,
    });
    const bytes = await client.request("Demo.echo", [new Uint8Array([1, 2, 255])]);
    assert.deepEqual([...(bytes.res as Uint8Array)], [1, 2, 255]);
  } finally {
    await client.close();
    await close();
  }
});

Deno.test("a Switchboard client talks to a msgpack5rpc server by the spec alone", async () => {
  const sockets = new Set<net.Socket>();
  const seen: string[] = [];
  const server = net.createServer((socket) => {
    sockets.add(socket);
    const s = new Session();
    s.attach(socket, socket);
    s.on("request", (method: string, args: unknown[], response: ResponseLike) => {
      seen.push(method);
      if (method === "add") response.send((args[0] as number) + (args[1] as number));
      else response.send(`no such method: ${method}`, true);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as net.AddressInfo;
  const client = connect(`tcp://127.0.0.1:${port}`);
  try {
    assert.equal(await client.call("add", [2, 3]), 5);
    await assert.rejects(client.call("sub", [2, 3]), {
      name: "RpcError",
      message: "no such method: sub",
    });
    // It said $/hello once, got an error, and from then on spoke plain msgpack-rpc.
    assert.deepEqual(seen, ["$/hello", "add", "sub"]);
  } finally {
    await client.close();
    for (const socket of sockets) socket.destroy();
    server.close();
    await once(server, "close");
  }
});

Deno.test("a typed proxy sends a msgpack5rpc server its params as an array, in declared order", async () => {
  const Calc = defineInterface("Calc", {
    add: method({ params: { a: t.int, b: t.int }, result: t.int }),
    label: method({
      params: { text: t.string, width: t.optional(t.int), fill: t.optional(t.string) },
      result: t.string,
    }),
    zero: method({ result: t.int }),
  });
  const sockets = new Set<net.Socket>();
  const seen: [string, unknown][] = [];
  const server = net.createServer((socket) => {
    sockets.add(socket);
    const s = new Session();
    s.attach(socket, socket);
    s.on("request", (method: string, args: unknown, response: ResponseLike) => {
      seen.push([method, args]);
      if (method === "$/hello") response.send("no such method", true);
      else if (!Array.isArray(args)) response.send("params must be an array", true);
      else if (method === "Calc.add") response.send(args[0] + args[1]);
      else if (method === "Calc.label") response.send(JSON.stringify(args));
      else response.send(0);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as net.AddressInfo;
  const client = connect(`tcp://127.0.0.1:${port}`);
  try {
    const calc = client.proxy(Calc);
    assert.equal(await calc.add({ b: 3, a: 2 }), 5);
    // An absent optional param in the middle is nil; trailing absent ones are left out.
    assert.equal(await calc.label({ text: "x", fill: "-" }), '["x",null,"-"]');
    assert.equal(await calc.label({ text: "y" }), '["y"]');
    assert.equal(await calc.zero(), 0);
    assert.deepEqual(seen.slice(1), [
      ["Calc.add", [2, 3]],
      ["Calc.label", ["x", null, "-"]],
      ["Calc.label", ["y"]],
      ["Calc.zero", []],
    ]);
  } finally {
    await client.close();
    for (const socket of sockets) socket.destroy();
    server.close();
    await once(server, "close");
  }
});

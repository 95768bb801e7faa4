// A msgpack-rpc client we did not write: npm's msgpack5rpc (runs under Deno via node:net).
import assert from "node:assert/strict";
import { once } from "node:events";
import net from "node:net";
import Session from "msgpack5rpc";
import { demoServer } from "../transports/tcp_fixture.ts";

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

    assert.deepEqual(await client.request("Demo.nope", []), {
      err: { code: -32601, name: "MethodNotFound", message: "Method not found: Demo.nope" },
      res: null,
    });
    assert.deepEqual(await client.request("Demo.fail", ["broken"]), {
      err: { code: -32000, name: "NotFound", message: "broken", data: { hint: "try another" } },
      res: null,
    });
    const bytes = await client.request("Demo.echo", [new Uint8Array([1, 2, 255])]);
    assert.deepEqual([...(bytes.res as Uint8Array)], [1, 2, 255]);
  } finally {
    await client.close();
    await close();
  }
});

// What a plain msgpack-rpc peer's calls get from the declaration (str as bytes, floats) is
// worked out once per method name and kept until the registrations change.

import assert from "node:assert/strict";
import { encode } from "@msgpack/msgpack";
import { defineInterface, implement, method, t } from "../../mod.ts";
import { Server } from "../../server.ts";
import { msgpackSocket } from "../fixtures/msgpack_socket.ts";

const First = defineInterface("Store", {
  put: method({ params: { data: t.string }, result: t.int }),
});
const Second = defineInterface("Blobs", {
  put: method({ params: { data: t.bytes }, result: t.float }),
});

Deno.test("tcp: a name's declaration is looked up again once registrations change what it means", async () => {
  const server = new Server({ logger: { error: () => {}, warn: () => {} } });
  // One interface: `put` alone means Store.put (str in, int out).
  server.register(implement(First, { put: ({ data }) => data.length }));
  const listener = await server.listenTcp({ hostname: "127.0.0.1", port: 0 });
  const socket = await msgpackSocket(listener.url);
  try {
    await socket.write(encode([0, 1, "put", ["héllo"]]));
    // Not registered yet: what the name means is looked up (nothing) and kept.
    await socket.write(encode([0, 2, "Blobs.put", ["héllo"]]));
    await socket.waitFor(() => socket.responses.has(2), 5000, "the first answers");
    assert.equal(socket.responses.get(1)?.result, 5);
    assert.match(String(socket.responses.get(2)?.error), /Blobs\.put/);
    // Registered now: Blobs.put takes bytes, so a plain peer's str there is its UTF-8 bytes
    // (six of them), and its float result goes out as a float.
    server.register(implement(Second, { put: ({ data }) => data.length }));
    await socket.write(encode([0, 3, "Blobs.put", ["héllo"]]));
    await socket.write(encode([0, 4, "Blobs.put", ["héllo"]]));
    await socket.waitFor(() => socket.responses.has(4), 5000, "the last answers");
    for (const msgid of [3, 4]) {
      assert.equal(socket.responses.get(msgid)?.error, null, `call ${msgid}`);
      assert.equal(socket.responses.get(msgid)?.result, 6);
    }
  } finally {
    await socket.close();
    await server.close();
  }
});

/**
 * The TCP ceiling: the thinnest Deno server doing msgpack-rpc's I/O. A `Deno.listen` loop
 * decodes each read with msgpackr's `unpackMultiple`, answers every request with `pack`, and
 * writes one buffer per read; no router, no validation.
 *
 * @module
 */

import { pack, unpackMultiple } from "msgpackr";

async function serve(conn: Deno.TcpConn): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  let pending: Uint8Array | undefined;
  try {
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) return;
      let data = buffer.subarray(0, n);
      if (pending) {
        const joined = new Uint8Array(pending.length + n);
        joined.set(pending);
        joined.set(data, pending.length);
        data = joined;
        pending = undefined;
      }
      const replies: Uint8Array[] = [];
      try {
        unpackMultiple(data, (msg: unknown) => {
          const [, id, method, params] = msg as [number, number, string, unknown[]];
          const result = method === "Bench.add"
            ? (params[0] as number) + (params[1] as number)
            : params[0];
          replies.push(pack([1, id, null, result]));
        });
      } catch (error) {
        const e = error as { incomplete?: boolean; lastPosition?: number };
        if (!e.incomplete) throw error;
        pending = data.slice(e.lastPosition ?? 0);
      }
      if (replies.length) await writeAll(conn, replies.length === 1 ? replies[0] : join(replies));
    }
  } catch {
    // a closed connection ends the loop
  } finally {
    try {
      conn.close();
    } catch { /* already closed */ }
  }
}

async function writeAll(conn: Deno.TcpConn, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) done += await conn.write(bytes.subarray(done));
}

function join(parts: Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
console.log(JSON.stringify({ tcp: listener.addr.port }));
Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
for await (const conn of listener) serve(conn);

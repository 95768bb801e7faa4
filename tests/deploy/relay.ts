// A TCP relay for tests: forwards every connection to a target and records every byte
// that passes, in both directions.

/** A running relay. */
export interface Relay {
  /** The port it listens on. */
  port: number;
  /** Bytes seen client → target. */
  upstream(): Uint8Array;
  /** Bytes seen target → client. */
  downstream(): Uint8Array;
  /** Stops listening and closes every relayed connection. */
  close(): Promise<void>;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) all.set(c, at), at += c.length;
  return all;
}

/** Relays 127.0.0.1:(free port) → 127.0.0.1:`target`. */
export function relay(target: number): Relay {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const up: Uint8Array[] = [];
  const down: Uint8Array[] = [];
  const conns = new Set<Deno.Conn>();
  const pipes: Promise<void>[] = [];
  const pipe = async (from: Deno.Conn, to: Deno.Conn, log: Uint8Array[]) => {
    const buffer = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await from.read(buffer);
        if (n === null) break;
        log.push(buffer.slice(0, n));
        let written = 0;
        while (written < n) written += await to.write(buffer.subarray(written, n));
      }
    } catch {
      // either side went away
    }
    for (const c of [from, to]) {
      if (conns.delete(c)) {
        try {
          c.close();
        } catch {
          // already closed
        }
      }
    }
  };
  const accepting = (async () => {
    for await (const client of listener) {
      let server: Deno.Conn;
      try {
        server = await Deno.connect({ hostname: "127.0.0.1", port: target });
      } catch {
        client.close();
        continue;
      }
      conns.add(client);
      conns.add(server);
      pipes.push(pipe(client, server, up), pipe(server, client, down));
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    upstream: () => concat(up),
    downstream: () => concat(down),
    async close() {
      listener.close();
      await accepting;
      for (const c of conns) {
        try {
          c.close();
        } catch {
          // already closed
        }
      }
      conns.clear();
      await Promise.all(pipes);
    },
  };
}

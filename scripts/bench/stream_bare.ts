/**
 * The stream benchmarks' bare readers: the thinnest Deno clients reading `Streams.items` from
 * the same Switchboard server, with no typed client (the reach of the server, as bare_tcp.ts
 * is the reach of a generator). TCP: msgpack-rpc by hand with msgpackr (`$/hello`, the call
 * with `stream: true`, the same credit as the typed client: 16 at first, topped up by 8),
 * one write per read; HTTP: `fetch` with `Accept: application/x-ndjson`, counting lines.
 * Items are checked as the typed client checks them (`i` in order).
 *
 * @module
 */

import { pack, unpackMultiple } from "msgpackr";
import { MAX_STREAM_WINDOW } from "../../src/core/stream/consumer.ts";
import { MAX_ITEMS } from "./stream_component.ts";

/** What a bare reader reports while it runs. */
export interface Counter {
  /** Counts only while set. */
  measuring: boolean;
  /** Once set, every stream is cancelled and the reader returns. */
  stopped: boolean;
  items: number;
  wrong?: string;
}

type Message = [number, ...unknown[]];

/** Reads `streams` streams at once over one msgpack-rpc connection until `counter.stopped`. */
export async function bareTcp(url: string, streams: number, counter: Counter): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(new URL(url).port) });
  const top = Math.ceil(MAX_STREAM_WINDOW / 2);
  /** Open streams by id: the next `i` expected, items read since the last grant. */
  const open = new Map<number, { next: number; read: number }>();
  let msgid = 1, opened = 0;
  let out: Uint8Array[] = [];
  const call = () => {
    opened++;
    out.push(pack([0, msgid++, "Streams.items", [MAX_ITEMS], { stream: true }]));
  };
  const handle = (msg: Message) => {
    if (msg[0] === 1) {
      const [, id, error, result] = msg as [1, number, unknown, { $stream?: number }];
      if (id === 0) return; // $/hello's answer
      if (error || typeof result?.$stream !== "number") {
        counter.wrong ??= `no stream handle: ${JSON.stringify(error ?? result)}`;
        return;
      }
      open.set(result.$stream, { next: 0, read: 0 });
      out.push(
        pack([2, "$/stream.credit", [{ stream: result.$stream, n: MAX_STREAM_WINDOW }]]),
      );
      return;
    }
    if (msg[0] === 0) {
      // A request from the server (a `$/ping` asked as one): answered, as the typed client does.
      out.push(pack([1, msg[1], null, "pong"]));
      return;
    }
    const [, method, params] = msg as [2, string, [{ stream: number; item?: { i: number } }]];
    if (!method.startsWith("$/stream.")) return; // `$/ping` heartbeats
    const p = params[0];
    const s = open.get(p.stream);
    if (!s) return; // a late item of a stream cancelled
    if (method === "$/stream.item") {
      if (p.item?.i !== s.next++) counter.wrong ??= `unexpected item ${JSON.stringify(p.item)}`;
      if (counter.measuring) counter.items++;
      if (counter.stopped) {
        open.delete(p.stream);
        out.push(pack([2, "$/stream.cancel", [{ stream: p.stream }]]));
      } else if (++s.read >= top) {
        out.push(pack([2, "$/stream.credit", [{ stream: p.stream, n: s.read }]]));
        s.read = 0;
      }
    } else if (method === "$/stream.end" || method === "$/stream.error") {
      open.delete(p.stream);
      opened--;
      if (method === "$/stream.error") counter.wrong ??= JSON.stringify(p);
      if (!counter.stopped) call();
    }
  };
  out.push(pack([0, 0, "$/hello", [{ id: null }]]));
  for (let i = 0; i < streams; i++) call();
  const buffer = new Uint8Array(64 * 1024);
  let pending: Uint8Array | undefined;
  try {
    while (!counter.stopped || open.size) {
      if (out.length) {
        const bytes = join(out);
        out = [];
        let done = 0;
        while (done < bytes.length) done += await conn.write(bytes.subarray(done));
      }
      if (counter.stopped) {
        for (const stream of open.keys()) out.push(pack([2, "$/stream.cancel", [{ stream }]]));
        open.clear();
        continue;
      }
      const n = await conn.read(buffer);
      if (n === null) break;
      let data: Uint8Array = buffer.subarray(0, n);
      if (pending) {
        data = join([pending, data]);
        pending = undefined;
      }
      try {
        unpackMultiple(data, (msg: unknown) => void handle(msg as Message));
      } catch (error) {
        const e = error as { incomplete?: boolean; lastPosition?: number };
        if (!e.incomplete) throw error;
        pending = data.slice(e.lastPosition ?? 0);
      }
    }
    if (out.length) await conn.write(join(out)); // the last cancels
  } finally {
    conn.close();
  }
}

/** Reads `streams` NDJSON streams at once until `counter.stopped`. */
export async function bareHttp(url: string, streams: number, counter: Counter): Promise<void> {
  const body = JSON.stringify({
    jsonrpc: "2.0",
    id: 1,
    method: "Streams.items",
    params: { n: MAX_ITEMS },
  });
  const reader = async () => {
    while (!counter.stopped) {
      const controller = new AbortController();
      const response = await fetch(`${url}/rpc`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/x-ndjson" },
        body,
        signal: controller.signal,
      });
      const lines = response.body!.getReader();
      let tail = "";
      const decoder = new TextDecoder();
      let next = 0, checked = false;
      try {
        for (;;) {
          const { done, value } = await lines.read();
          if (done || counter.stopped) break;
          const text = tail + decoder.decode(value, { stream: true });
          const last = text.lastIndexOf("\n");
          tail = text.slice(last + 1);
          let count = 0;
          for (
            let at = text.indexOf("\n");
            at >= 0 && at <= last;
            at = text.indexOf("\n", at + 1)
          ) {
            count++;
          }
          if (!checked && count) {
            // The first line only, as the other generators check their first answer.
            const first = JSON.parse(text.slice(0, text.indexOf("\n")));
            if (first.item?.i !== next) {
              counter.wrong ??= `unexpected line ${JSON.stringify(first)}`;
            }
            checked = true;
          }
          next += count;
          if (counter.measuring) counter.items += count;
        }
      } finally {
        controller.abort();
        await lines.cancel().catch(() => {});
      }
    }
  };
  await Promise.all(Array.from({ length: streams }, reader));
}

function join(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  let size = 0;
  for (const p of parts) size += p.length;
  const joined = new Uint8Array(size);
  let offset = 0;
  for (const p of parts) {
    joined.set(p, offset);
    offset += p.length;
  }
  return joined;
}

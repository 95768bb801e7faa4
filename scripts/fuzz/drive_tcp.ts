/**
 * msgpack-rpc fuzz traffic over TCP: many frames per write, then a sentinel request
 * (`$/ping`) whose answer proves the server kept framing; at most one frame per write that
 * should make the server drop the connection goes after the sentinel, and the connection
 * is reopened once dropped. Incomplete mutated frames are padded to whole ones.
 *
 * @module
 */

import { type Message, MessageDecoder, toErrorShape } from "../../src/wire/msgpackrpc/codec.ts";
import type { ServerChild } from "./child.ts";
import { KnownCaller } from "./known_call.ts";
import { frameFate } from "./msgpack_frame.ts";
import { messageBytes, plainRequest } from "./msgpack_gen.ts";
import { concat } from "./mutate_bytes.ts";
import type { Rng } from "./rng.ts";
import type { Driver, RoundResult } from "./runner.ts";
import type { SavedInput, Stats } from "./stats.ts";

const MAX_MESSAGE = 16 * 1024 * 1024;
const MAX_PAD = 64 * 1024;
const SENTINEL_BASE = 0xf000_0000;

/** One fuzz connection with its response reader. */
class Lane {
  conn?: Deno.Conn;
  #closed?: PromiseWithResolvers<void>;
  #waiting = new Map<number, (m: Message) => void>();

  constructor(readonly port: number, readonly onResponse: (m: Message) => void) {}

  async open(): Promise<void> {
    if (this.conn) return;
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: this.port });
    this.conn = conn;
    const closed = this.#closed = Promise.withResolvers();
    void (async () => {
      const decoder = new MessageDecoder(MAX_MESSAGE);
      const buf = new Uint8Array(64 * 1024);
      try {
        for (;;) {
          const n = await conn.read(buf);
          if (n === null) break;
          decoder.push(buf.subarray(0, n));
          for (let d = decoder.next(); d; d = decoder.next()) {
            if (!d.ok || d.message.type !== 1) continue;
            const waiter = this.#waiting.get(d.message.msgid);
            if (waiter) {
              this.#waiting.delete(d.message.msgid);
              waiter(d.message);
            } else this.onResponse(d.message);
          }
        }
      } catch {
        // reset by the server
      }
      this.close();
      closed.resolve();
    })();
  }

  /** Writes bytes, then waits for the response to `msgid` (or the drop, or the time limit). */
  async send(
    bytes: Uint8Array,
    msgid: number,
    ms: number,
    onAnswer?: (m: Message) => void,
  ): Promise<"answered" | "dropped" | "timeout"> {
    await this.open();
    const conn = this.conn!, closed = this.#closed!.promise;
    const answered = new Promise<"answered">((resolve) =>
      this.#waiting.set(msgid, (m) => {
        onAnswer?.(m);
        resolve("answered");
      })
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) =>
      timer = setTimeout(() => resolve("timeout"), ms)
    );
    void (async () => {
      try {
        for (let done = 0; done < bytes.length;) done += await conn.write(bytes.subarray(done));
      } catch {
        // dropped mid-write: the reader sees it
      }
    })();
    const fate = await Promise.race([answered, closed.then(() => "dropped" as const), timeout]);
    clearTimeout(timer);
    this.#waiting.delete(msgid);
    return fate;
  }

  /** Waits until the server closes the connection, at most `ms`; true when it did. */
  async dropped(ms: number): Promise<boolean> {
    if (!this.#closed) return true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const r = await Promise.race([
      this.#closed.promise.then(() => true),
      new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(false), ms)),
    ]);
    clearTimeout(timer);
    return r;
  }

  close(): void {
    try {
      this.conn?.close();
    } catch {
      // already closed
    }
    this.conn = undefined;
  }
}

/** Whether a frame, decoded alone, leaves the connection usable (locally predicted). */
function keepsConnection(frame: Uint8Array): boolean {
  const decoder = new MessageDecoder(MAX_MESSAGE);
  decoder.push(frame);
  for (let d = decoder.next(); d; d = decoder.next()) {
    if (!d.ok && (d.error.fatal || d.error.msgid === undefined)) return false;
  }
  return decoder.buffered === 0;
}

/** The msgpack-rpc fuzz traffic. */
export class TcpDriver implements Driver {
  #lanes: Lane[] = [];
  #port = 0;
  readonly #known = new KnownCaller();
  #msgid = 1;
  #sentinel = SENTINEL_BASE;

  constructor(
    readonly rng: Rng,
    readonly stats: Stats,
    server: ServerChild,
    readonly lanes: number,
    readonly framesPerWrite: number,
    readonly latencyBoundMs: number,
  ) {
    this.reset(server);
  }

  reset(server: ServerChild): void {
    for (const lane of this.#lanes) lane.close();
    this.#port = server.info.tcpPort;
    const count = (m: Message) => this.#count(m);
    this.#lanes = Array.from({ length: this.lanes }, () => new Lane(server.info.tcpPort, count));
  }

  #count(m: Message): void {
    if (m.type !== 1) return;
    this.stats.count(m.error == null ? "ok" : toErrorShape(m.error).name);
  }

  async round(lane: number, budget: number): Promise<RoundResult> {
    const keep: Uint8Array[] = [];
    let dropper: Uint8Array | undefined;
    let dropperWhy = "";
    const result: RoundResult = { sent: [], unexpected: [] };
    while (keep.length + (dropper ? 1 : 0) < Math.min(budget, this.framesPerWrite)) {
      const frame = messageBytes(this.rng, this.#msgid++ & 0x7fff_ffff);
      const fate = frameFate(frame, MAX_PAD, MAX_MESSAGE);
      const padded = fate.kind === "complete" && fate.padding > 0
        ? concat(frame, new Uint8Array(fate.padding))
        : frame;
      if (fate.kind === "complete" && keepsConnection(padded)) keep.push(padded);
      else if (!dropper) {
        dropper = padded;
        dropperWhy = fate.kind === "complete" ? "malformed without msgid" : fate.why;
      } // else: left for a later round
    }
    const sentinel = this.#sentinel++;
    const frames = [...keep, plainRequest(sentinel, "$/ping", [])];
    if (dropper) frames.push(dropper);
    result.sent = frames.map((bytes): SavedInput => ({ target: "tcp", bytes }));
    const fate = await this.#lanes[lane].send(concat(...frames), sentinel, 30_000);
    this.stats.inputs += keep.length;
    if (fate === "answered") {
      this.stats.count("sentinel answered");
    } else {
      this.stats.count(
        fate === "timeout" ? "sentinel lost (stall)" : "unexpected drop before sentinel",
      );
      this.#lanes[lane].close();
      const all: SavedInput = { target: "tcp", note: "the whole write", bytes: concat(...frames) };
      if (fate === "timeout") result.timedOut = true;
      else {result.unexpected.push({
          input: all,
          why: "the server dropped a connection on frames it should have answered",
        });}
      return result;
    }
    if (dropper) {
      this.stats.inputs++;
      const dropped = await this.#lanes[lane].dropped(fateWait(dropperWhy));
      this.stats.count(
        dropped
          ? `connection dropped (${dropperWhy.replace(/\d+/g, "N")})`
          : "incomplete frame, closed by fuzzer",
      );
      this.#lanes[lane].close();
    }
    return result;
  }

  normal(): Promise<number> {
    const msgid = 0x7fff_fff0;
    const bytes = plainRequest(msgid, "Calculator.add", [2, 3]);
    return this.#known.call({ kind: "tcp", port: this.#port, bytes, msgid });
  }

  close(): Promise<void> {
    for (const lane of this.#lanes) lane.close();
    this.#known.close();
    return Promise.resolve();
  }
}

/** How long to wait for a drop: an incomplete frame never makes one, so do not wait long. */
function fateWait(why: string): number {
  return /needs/.test(why) ? 50 : 5_000;
}

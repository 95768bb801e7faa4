/**
 * The JavaScript load generator, running in the benchmark's own process: raw HTTP/1.1
 * keep-alive connections (JSON-RPC and XML-RPC, pre-encoded requests) and raw msgpack-rpc
 * over TCP (1 or more connections, each with N calls in flight). It measures calls per second
 * and latency percentiles over a fixed window after a warm-up. `deno task bench` uses it
 * only where `wrk` or the Node generator is missing (see generators.ts); `instructions.ts`
 * and `profile.ts` use it throughout.
 *
 * Raw sockets rather than `fetch`, so the generator's own cost stays small and equal for
 * every server (the same bytes are sent to each).
 *
 * @module
 */

import { Unpackr } from "msgpackr";
import { type BenchMethod, isExpected, MSGPACK_TAILS } from "./workload.ts";
import type { Share } from "./processes.ts";

/** What one cell of the table measured. */
export interface CellResult {
  /** Completed calls per second over the window. */
  cps: number;
  /** Median latency, milliseconds. */
  p50: number;
  /** 99th percentile latency, milliseconds. */
  p99: number;
  /** Calls that completed in the window. */
  calls: number;
  /** Calls that failed (bad status, error reply, broken connection). */
  errors: number;
  /** Why the first answer was not the expected one, if it was not. */
  wrong?: string;
  /** The load generator's share of its core in the window, when it is a process of its own. */
  generator?: Share;
}

/** How long to load a server. */
export interface Timing {
  /** Warm-up before measuring, ms. */
  warmupMs: number;
  /** Measured window, ms. */
  durationMs: number;
  /** Called when the measured window opens (`true`) and closes (`false`). */
  onWindow?: (open: boolean) => void;
}

/** Collects one cell's figures while its load runs. */
class Recorder {
  measuring = false;
  stopped = false;
  latencies: number[] = [];
  errors = 0;
  wrong?: string;
  #start = 0;
  #elapsed = 0;

  /** Runs the warm-up and the window; resolves when the window closes. */
  async run(timing: Timing): Promise<void> {
    await sleep(timing.warmupMs);
    this.latencies = [];
    this.errors = 0;
    this.measuring = true;
    timing.onWindow?.(true);
    this.#start = performance.now();
    await sleep(timing.durationMs);
    this.measuring = false;
    this.#elapsed = performance.now() - this.#start;
    timing.onWindow?.(false);
    this.stopped = true;
  }

  record(ms: number): void {
    if (this.measuring) this.latencies.push(ms);
  }

  fail(): void {
    if (this.measuring) this.errors++;
  }

  result(): CellResult {
    const sorted = Float64Array.from(this.latencies).sort();
    const at = (q: number) =>
      sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN;
    return {
      cps: sorted.length / (this.#elapsed / 1000),
      p50: at(0.5),
      p99: at(0.99),
      calls: sorted.length,
      errors: this.errors,
      wrong: this.wrong,
    };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) done += await conn.write(bytes.subarray(done));
}

// ---------------------------------------------------------------------------------------
// HTTP/1.1

/** One HTTP cell: `callers` keep-alive connections, one request in flight on each. */
export interface HttpCell extends Timing {
  /** Server port on 127.0.0.1. */
  port: number;
  /** Request path (`/rpc`, `/RPC2`). */
  path: string;
  /** Request content type. */
  contentType: string;
  /** The request body. */
  body: string;
  /** Which method the body calls (to check the first answer). */
  method: BenchMethod;
  /** How the answer is read: JSON-RPC or XML-RPC. */
  format: "json" | "xml";
  /** Concurrent callers. */
  callers: number;
}

const CRLFCRLF = [13, 10, 13, 10];
const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder();

/** One HTTP/1.1 connection that reconnects when the server closes it. */
class HttpConnection {
  #conn?: Deno.TcpConn;
  #buf = new Uint8Array(64 * 1024);
  #start = 0;
  #end = 0;

  constructor(readonly port: number) {}

  async #connect(): Promise<Deno.TcpConn> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: this.port });
    conn.setNoDelay(true);
    this.#start = this.#end = 0;
    return conn;
  }

  /** Sends a request and returns the status and body (valid until the next call). */
  async request(bytes: Uint8Array): Promise<{ status: number; body: Uint8Array }> {
    const conn = this.#conn ??= await this.#connect();
    await writeAll(conn, bytes);
    let headEnd: number;
    while ((headEnd = this.#find(CRLFCRLF)) < 0) await this.#fill();
    const head = latin1.decode(this.#buf.subarray(this.#start, headEnd));
    this.#start = headEnd + 4;
    const status = Number(head.slice(9, 12));
    const lower = head.toLowerCase();
    const close = lower.includes("\r\nconnection: close") ||
      (lower.startsWith("http/1.0") && !lower.includes("\r\nconnection: keep-alive"));
    let body: Uint8Array;
    const length = /\r\ncontent-length:\s*(\d+)/.exec(lower);
    if (length) {
      body = await this.#take(Number(length[1]));
    } else if (lower.includes("\r\ntransfer-encoding: chunked")) {
      body = await this.#chunked();
    } else {
      body = await this.#untilClose();
    }
    if (close) this.close();
    return { status, body };
  }

  #find(pattern: number[]): number {
    const buf = this.#buf;
    outer: for (let i = this.#start; i <= this.#end - pattern.length; i++) {
      for (let j = 0; j < pattern.length; j++) if (buf[i + j] !== pattern[j]) continue outer;
      return i;
    }
    return -1;
  }

  async #fill(): Promise<void> {
    if (!this.#conn) throw new Error("connection closed");
    if (this.#start > 0 && this.#start === this.#end) this.#start = this.#end = 0;
    if (this.#end === this.#buf.length) {
      // Full: compact, or grow when the message fills the whole buffer.
      const size = this.#end - this.#start;
      if (this.#start > 0) {
        this.#buf.copyWithin(0, this.#start, this.#end);
      } else {
        const grown = new Uint8Array(this.#buf.length * 2);
        grown.set(this.#buf);
        this.#buf = grown;
      }
      this.#start = 0;
      this.#end = size;
    }
    const n = await this.#conn.read(this.#buf.subarray(this.#end));
    if (n === null) throw new Error("connection closed by the server");
    this.#end += n;
  }

  async #take(n: number): Promise<Uint8Array> {
    while (this.#end - this.#start < n) await this.#fill();
    const body = this.#buf.subarray(this.#start, this.#start + n);
    this.#start += n;
    return body;
  }

  async #chunked(): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    for (;;) {
      let lineEnd: number;
      while ((lineEnd = this.#find([13, 10])) < 0) await this.#fill();
      const size = parseInt(latin1.decode(this.#buf.subarray(this.#start, lineEnd)), 16);
      this.#start = lineEnd + 2;
      const chunk = (await this.#take(size + 2)).slice(0, size);
      if (size === 0) return concat(parts);
      parts.push(chunk);
    }
  }

  async #untilClose(): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    try {
      for (;;) {
        parts.push(this.#buf.slice(this.#start, this.#end));
        this.#start = this.#end;
        await this.#fill();
      }
    } catch {
      return concat(parts);
    }
  }

  close(): void {
    try {
      this.#conn?.close();
    } catch { /* already closed */ }
    this.#conn = undefined;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
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

/** Checks one HTTP answer body; returns the problem, if any. */
export function checkHttpAnswer(
  cell: Pick<HttpCell, "format" | "method">,
  status: number,
  body: Uint8Array,
): string | undefined {
  const text = utf8.decode(body);
  if (status !== 200) return `HTTP ${status}: ${text.slice(0, 120)}`;
  if (cell.format === "json") {
    let reply: { result?: unknown; error?: unknown };
    try {
      reply = JSON.parse(text);
    } catch {
      return `not JSON: ${text.slice(0, 120)}`;
    }
    return isExpected(cell.method, reply.result) ? undefined : `unexpected: ${text.slice(0, 160)}`;
  }
  if (text.includes("<fault>")) return `fault: ${text.slice(0, 200)}`;
  const ok = cell.method === "add"
    ? /<(int|i4)>42<\/(int|i4)>/.test(text)
    : text.includes("S-0049") && text.includes("Ada Lovelace");
  return ok ? undefined : `unexpected: ${text.slice(0, 160)}`;
}

/** Loads an HTTP server with `callers` keep-alive connections. */
export async function runHttpCell(cell: HttpCell): Promise<CellResult> {
  const body = new TextEncoder().encode(cell.body);
  const head = new TextEncoder().encode(
    `POST ${cell.path} HTTP/1.1\r\nHost: 127.0.0.1:${cell.port}\r\n` +
      `Content-Type: ${cell.contentType}\r\nContent-Length: ${body.length}\r\n\r\n`,
  );
  const request = concat([head, body]);
  const recorder = new Recorder();
  const caller = async () => {
    const connection = new HttpConnection(cell.port);
    let first = true;
    try {
      while (!recorder.stopped) {
        const t0 = performance.now();
        let answer: { status: number; body: Uint8Array };
        try {
          answer = await connection.request(request);
        } catch (error) {
          recorder.fail();
          recorder.wrong ??= `${error instanceof Error ? error.message : error}`;
          connection.close();
          await sleep(10);
          continue;
        }
        const t1 = performance.now();
        if (first || answer.status !== 200) {
          const problem = checkHttpAnswer(cell, answer.status, answer.body);
          if (problem) {
            recorder.wrong ??= problem;
            recorder.fail();
            continue;
          }
          first = false;
        }
        recorder.record(t1 - t0);
      }
    } finally {
      connection.close();
    }
  };
  const callers = Array.from({ length: cell.callers }, caller);
  await recorder.run(cell);
  await Promise.all(callers);
  return recorder.result();
}

// ---------------------------------------------------------------------------------------
// msgpack-rpc over TCP

/** One TCP cell: `connections` connections, each keeping `depth` calls in flight. */
export interface TcpCell extends Timing {
  /** Server port on 127.0.0.1. */
  port: number;
  /** Which method to call. */
  method: BenchMethod;
  /** Connections (concurrent callers). */
  connections: number;
  /** Calls in flight on each connection (1 = a caller waiting for each answer). */
  depth: number;
}

/** Loads a msgpack-rpc server. */
export async function runTcpCell(cell: TcpCell): Promise<CellResult> {
  const recorder = new Recorder();
  const tail = MSGPACK_TAILS[cell.method];
  const size = 7 + tail.length;

  const connection = async () => {
    let conn: Deno.TcpConn;
    try {
      conn = await Deno.connect({ hostname: "127.0.0.1", port: cell.port });
    } catch (error) {
      recorder.wrong ??= `connect: ${error instanceof Error ? error.message : error}`;
      recorder.fail();
      return;
    }
    conn.setNoDelay(true);
    const sentAt = new Float64Array(65536);
    const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
    let nextId = 1;
    let inFlight = 0;
    let checked = false;
    /** Encodes `count` calls into one buffer (one write). */
    const requests = (count: number): Uint8Array => {
      const out = new Uint8Array(size * count);
      const view = new DataView(out.buffer);
      const now = performance.now();
      for (let k = 0; k < count; k++) {
        const at = k * size;
        const id = nextId;
        nextId = (nextId + 1) >>> 0 || 1;
        out[at] = 0x94;
        out[at + 1] = 0x00;
        out[at + 2] = 0xce;
        view.setUint32(at + 3, id);
        out.set(tail, at + 7);
        sentAt[id & 0xffff] = now;
      }
      inFlight += count;
      return out;
    };
    const buffer = new Uint8Array(256 * 1024);
    let pending: Uint8Array | undefined;
    try {
      await writeAll(conn, requests(cell.depth));
      while (inFlight > 0) {
        const n = await conn.read(buffer);
        if (n === null) throw new Error("connection closed by the server");
        let data: Uint8Array = buffer.subarray(0, n);
        if (pending) {
          data = concat([pending, data]);
          pending = undefined;
        }
        let done = 0;
        const now = performance.now();
        try {
          unpackr.unpackMultiple(data, (msg: unknown) => {
            const [type, id, error, result] = msg as [number, number, unknown, unknown];
            done++;
            if (type !== 1 || (error !== null && error !== undefined)) {
              recorder.wrong ??= `error reply: ${JSON.stringify(msg).slice(0, 160)}`;
              recorder.fail();
              return;
            }
            if (!checked) {
              checked = true;
              if (!isExpected(cell.method, result)) {
                recorder.wrong ??= `unexpected: ${JSON.stringify(result).slice(0, 160)}`;
                recorder.fail();
                return;
              }
            }
            recorder.record(now - sentAt[id & 0xffff]);
          });
        } catch (error) {
          const e = error as { incomplete?: boolean; lastPosition?: number };
          if (!e.incomplete) throw error;
          pending = data.slice(e.lastPosition ?? 0);
        }
        inFlight -= done;
        if (done > 0 && !recorder.stopped) await writeAll(conn, requests(done));
      }
    } catch (error) {
      recorder.wrong ??= `${error instanceof Error ? error.message : error}`;
      recorder.fail();
    } finally {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
  };
  const connections = Array.from({ length: cell.connections }, connection);
  await recorder.run(cell);
  await Promise.all(connections);
  return recorder.result();
}

/** Opens `count` idle TCP connections; returns a function closing them all. */
export async function openIdle(port: number, count: number): Promise<() => void> {
  const conns: Deno.TcpConn[] = [];
  for (let i = 0; i < count; i++) {
    conns.push(await Deno.connect({ hostname: "127.0.0.1", port }));
  }
  return () => {
    for (const c of conns) {
      try {
        c.close();
      } catch { /* already closed */ }
    }
  };
}

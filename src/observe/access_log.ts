/**
 * The access log: one structured line per call — time, protocol, peer, caller identity,
 * method, duration and outcome code — as JSON lines or as text. Params and results only
 * when asked for, and even then never a field whose name says it is a secret. Logins
 * (`$/auth.*`) and HTTP credentials never reach the router, so they cannot be logged.
 *
 * @module
 */

import { OpenStream } from "../core/stream/open_stream.ts";
import type { Call, Outcome } from "../core/context.ts";
import type { CallObserver, Logger } from "../core/router/router.ts";
import { timedObserver } from "./call_timer.ts";
import { LineBuffer, utf8 } from "./line_buffer.ts";

/** Severity of a line. */
export type LogLevel = "debug" | "info" | "warn" | "error";
/** How lines are written. */
export type LogFormat = "json" | "text";

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Whether `value` is a log level. */
export function isLogLevel(value: string): value is LogLevel {
  return value in RANK;
}

/** Options of an {@linkcode AccessLog}: where lines go is `write` or `sink`. */
export interface AccessLogOptions {
  /** Where lines go, one call per line (each ends with a newline). */
  write?: (text: string) => void;
  /**
   * Where lines go as UTF-8, in batches of whole lines (at most 50 ms after a line, or at
   * once past 64 KiB; {@linkcode AccessLog.flush} for the rest): the array is reused once
   * the call returns, so write it synchronously. Cheaper than `write`: the common line is
   * written as bytes, no string made.
   */
  sink?: (bytes: Uint8Array) => void;
  /** `json` (default) or `text`. */
  format?: LogFormat;
  /** Lines below this level are dropped (default `info`: every call). */
  level?: LogLevel;
  /** Also log params and results (secret-looking fields redacted). */
  params?: boolean;
}

/** A JSON string; plain ASCII names skip the general encoder. */
function quote(text: string): string {
  return /^[\w.:@\-/$ ]*$/.test(text) ? `"${text}"` : JSON.stringify(text);
}

/** `"000"` … `"999"` with trailing zeros dropped: the fraction of a millisecond. */
const FRACTIONS = Array.from(
  { length: 1000 },
  (_, i) => String(i).padStart(3, "0").replace(/0+$/, ""),
);

/**
 * `micros / 1000` as JSON writes it, from integers: formatting a fraction costs several
 * times as much as formatting two integers.
 */
function millis(micros: number): string {
  if (!(micros >= 0 && micros < 2 ** 31)) return String(micros / 1000);
  const whole = (micros / 1000) | 0;
  const fraction = micros - whole * 1000;
  return fraction === 0 ? `${whole}` : `${whole}.${FRACTIONS[fraction]}`;
}

/** The parts of the common line after its prefix, as UTF-8. */
const MS = utf8(`,"ms":`);
const OK_END = utf8(`,"code":0}\n`);

/** Where `SS.mmm` starts in `{"time":"YYYY-MM-DDTHH:MM:SS.mmmZ"…`. */
const SECONDS_AT = 26;

/** Writes `ms` (milliseconds within the minute) over a stamped prefix's `SS.mmm`. */
function stampSeconds(bytes: Uint8Array, ms: number): void {
  const seconds = (ms / 1000) | 0;
  let millis = ms - seconds * 1000;
  bytes[SECONDS_AT] = 48 + ((seconds / 10) | 0);
  bytes[SECONDS_AT + 1] = 48 + seconds % 10;
  bytes[SECONDS_AT + 5] = 48 + millis % 10;
  millis = (millis / 10) | 0;
  bytes[SECONDS_AT + 4] = 48 + millis % 10;
  bytes[SECONDS_AT + 3] = 48 + ((millis / 10) | 0);
}

/** `text` as one flat string (it is concatenated onto on every line). */
function flat(text: string): string {
  // Reading a character makes V8 flatten a concatenated string in place.
  text.charCodeAt(0);
  return text;
}

/** Field names whose values are never logged. */
const SECRET = /pass|secret|token|proof|credential|authorization|cookie|api[-_]?key|private/i;
const REDACTED = "[redacted]";

/** A copy of `value` with secret-looking fields replaced (bounded depth). */
export function redact(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== "object") return value;
  if (depth > 8) return "[…]";
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value instanceof Uint8Array) return `[${value.byteLength} bytes]`;
  if (value instanceof Date) return value.toISOString();
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET.test(k) ? REDACTED : redact(v, depth + 1);
  }
  return out;
}

/** The level and names a call's line starts with; consecutive lines mostly repeat them. */
class LineNames {
  level = "";
  protocol = "";
  peer = "";
  caller = "";
  method = "";

  /** Whether `call` at `level` names differ from the last ones (which it then replaces). */
  changed(level: LogLevel, call: Call): boolean {
    const protocol = call.protocol ?? "local";
    const peer = call.remote ?? call.peer?.id ?? "";
    const caller = call.caller?.id ?? "";
    if (
      this.method === call.method && this.peer === peer && this.level === level &&
      this.protocol === protocol && this.caller === caller
    ) return false;
    this.level = level;
    this.protocol = protocol;
    this.peer = peer;
    this.caller = caller;
    this.method = call.method;
    return true;
  }

  /** The line from its start to its method, at time `iso`. */
  lineStart(iso: string): string {
    return `{"time":"${iso}","level":"${this.level}","msg":"call","protocol":${
      quote(this.protocol)
    }` + (this.peer === "" ? "" : `,"peer":${quote(this.peer)}`) +
      (this.caller === "" ? "" : `,"caller":${quote(this.caller)}`) +
      `,"method":${quote(this.method)}`;
  }
}

/**
 * Writes access lines and the router's own error reports in one format.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Router } from "../core/router/router.ts";
 * import { AccessLog } from "./access_log.ts";
 *
 * const lines: string[] = [];
 * const router = new Router();
 * router.observe(new AccessLog({ write: (t) => lines.push(t) }).observer());
 * await router.dispatch({ method: "Nope.x", protocol: "jsonrpc", remote: "127.0.0.1" });
 * assert.equal(JSON.parse(lines[0]).code, -32601);
 * ```
 */
export class AccessLog implements Logger {
  readonly #write: (text: string) => void;
  readonly #lines?: LineBuffer;
  readonly #json: boolean;
  readonly #level: number;
  readonly #params: boolean;

  /** A log writing to `options.write` or `options.sink`. */
  constructor(options: AccessLogOptions) {
    if ((options.write === undefined) === (options.sink === undefined)) {
      throw new TypeError("AccessLog: give exactly one of write and sink");
    }
    if (options.sink) {
      const lines = new LineBuffer(options.sink);
      this.#lines = lines;
      this.#write = (text) => lines.text(text);
    } else {
      this.#write = options.write!;
    }
    this.#json = (options.format ?? "json") === "json";
    this.#level = RANK[options.level ?? "info"];
    this.#params = options.params ?? false;
  }

  /** Hands the lines waiting in a `sink`'s batch to it now (before exiting, say). */
  flush(): void {
    this.#lines?.flush();
  }

  /** The router observer writing one line per call. */
  observer(): CallObserver {
    return timedObserver<undefined>({
      begin: () => undefined,
      end: (call, _state, ms, outcome, at) => this.record(call, ms, outcome, at),
    });
  }

  /** Reports an unexpected failure (the router's logger). */
  error(message: string): void {
    this.line("error", { msg: message });
  }

  /** Reports a failure nobody waits for (the router's logger). */
  warn(message: string): void {
    this.line("warn", { msg: message });
  }

  /** Writes one line at `level` with `fields`, unless the level is filtered out. */
  line(level: LogLevel, fields: Record<string, unknown>): void {
    if (RANK[level] < this.#level) return;
    const time = new Date().toISOString();
    if (this.#json) {
      this.#write(JSON.stringify({ time, level, ...fields }) + "\n");
      return;
    }
    let text = `${time} ${level.toUpperCase()}`;
    for (const [k, v] of Object.entries(fields)) {
      if (v === undefined) continue;
      text += ` ${k}=${typeof v === "string" && !/[\s"=]/.test(v) ? v : JSON.stringify(v)}`;
    }
    this.#write(text + "\n");
  }

  /**
   * The wall-clock time at `performance.now()` reading `at`, as ISO 8601, formatted once
   * per millisecond: the caller's clock reading serves, as a second one would cost as much
   * again (clock reads are slow on virtual machines; docs/benchmarks-history.md). The
   * offset is re-read now and then, so the two clocks cannot drift apart for long.
   */
  #time(at: number): string {
    const ms = this.#wallMs(at);
    if (ms !== this.#lastMs) {
      this.#lastMs = ms;
      this.#lastIso = new Date(ms).toISOString();
    }
    return this.#lastIso;
  }
  #lastMs = 0;
  #lastIso = "";

  /** The wall-clock millisecond of reading `at`; the offset is re-read once a second. */
  #wallMs(at: number): number {
    const ms = Math.floor(at + this.#offset);
    if (ms < this.#refreshAt) return ms;
    this.#offset = Date.now() - performance.now();
    this.#refreshAt = ms + 1000;
    return Math.floor(at + this.#offset);
  }
  #offset = Date.now() - performance.now();
  #refreshAt = 0;

  /**
   * For a `sink`'s lines: the line up to its method and `,"id":` as UTF-8, for the last names and level
   * written. Encoded again only when those or the minute change; within the minute the
   * seconds and milliseconds are patched in place (re-encoding every millisecond cost more
   * than the rest of a line).
   */
  #stamped = { minute: -Infinity, wall: -1, bytes: new Uint8Array(0) as Uint8Array };
  #stampedNames = new LineNames();
  #stampedPrefixOf(wall: number, level: LogLevel, call: Call): Uint8Array {
    const last = this.#stamped;
    if (
      this.#stampedNames.changed(level, call) || wall < last.minute || wall - last.minute >= 60000
    ) {
      last.minute = wall - wall % 60000;
      last.wall = wall;
      last.bytes = utf8(this.#stampedNames.lineStart(new Date(wall).toISOString()) + `,"id":`);
    } else if (wall !== last.wall) {
      last.wall = wall;
      stampSeconds(last.bytes, wall - last.minute);
    }
    return last.bytes;
  }

  /**
   * The line up to and including its method, for the last (time, level, names) written:
   * consecutive lines mostly repeat all of them, so a line is one short concatenation
   * onto a flat string.
   */
  #prefix = { iso: "", text: "" };
  #prefixNames = new LineNames();

  #prefixOf(iso: string, level: LogLevel, call: Call): string {
    const last = this.#prefix;
    if (this.#prefixNames.changed(level, call) || last.iso !== iso) {
      last.iso = iso;
      last.text = flat(this.#prefixNames.lineStart(iso));
    }
    return last.text;
  }

  /**
   * Writes the line of a call that took `ms` and ended with `outcome`; `at` is the
   * `performance.now()` reading it ended at (for the line's time).
   */
  record(call: Call, ms: number, outcome: Outcome, at: number = performance.now()): void {
    // Failures the server caused (internal errors) are errors; refused calls warnings.
    const code = outcome.ok ? 0 : outcome.error.code;
    const level: LogLevel = outcome.ok ? "info" : code === -32603 ? "error" : "warn";
    if (RANK[level] < this.#level) return;
    const micros = Math.round(ms * 1000);
    if (this.#json && !this.#params) {
      // The common line, written by hand: a generic stringify of an object costs
      // several times more, on every call.
      const id = call.id;
      const lines = this.#lines;
      if (
        lines && outcome.ok && !call.notification && typeof id === "number" &&
        id >= 0 && id <= 0x7fffffff && Number.isInteger(id) && micros >= 0 && micros <= 0x7fffffff
      ) {
        const prefix = this.#stampedPrefixOf(this.#wallMs(at), level, call);
        lines.numbersLine(prefix, id, MS, micros, OK_END);
        return;
      }
      let line = this.#prefixOf(this.#time(at), level, call);
      if (typeof id === "number") line = `${line},"id":${id}`;
      else if (id !== undefined && id !== null) line += `,"id":${JSON.stringify(id)}`;
      if (outcome.ok && !call.notification) {
        this.#write(`${line},"ms":${millis(micros)},"code":0}\n`);
        return;
      }
      line += `,"ms":${millis(micros)},"code":${code}`;
      if (!outcome.ok) line += `,"error":${quote(outcome.error.name)}`;
      if (call.notification) line += `,"notification":true`;
      this.#write(line + "}\n");
      return;
    }
    ms = micros / 1000;
    const fields: Record<string, unknown> = {
      msg: "call",
      protocol: call.protocol ?? "local",
      peer: call.remote ?? call.peer?.id,
      caller: call.caller?.id,
      method: call.method,
      id: call.id ?? undefined,
      ms,
      code,
    };
    if (!outcome.ok) fields.error = outcome.error.name;
    if (call.notification) fields.notification = true;
    if (this.#params) {
      fields.params = redact(call.params);
      if (outcome.ok) {
        // A stream's items are not the call's to log (they come after this line).
        fields.result = outcome.value instanceof OpenStream ? "[stream]" : redact(outcome.value);
      }
    }
    this.line(level, fields);
  }
}

/**
 * `system.multicall` fuzz traffic (`--protocol multicall`) over pipelined keep-alive HTTP:
 * every answer is checked against what the multicall rules allow (docs/wire.md,
 * "multicall"): a fault naming the limit past the batch limit or the answer budget, else
 * one entry per call, each `[value]` or a fault struct, nested and malformed entries
 * faulted; no answer over the budget; and, for small multicalls, each entry's answer the
 * same as the same call's answer alone. Entries count as inputs.
 *
 * @module
 */

import { readMethodResponse } from "../../src/wire/xmlrpc/reader.ts";
import { nameOfCode } from "../../src/core/errors.ts";
import { DEFAULT_MAX_RESPONSE_BYTES } from "../../src/wire/batch_limits.ts";
import type { ServerChild } from "./child.ts";
import { KnownCaller } from "./known_call.ts";
import { type HttpRequest, type HttpResponse, PipelinedHttp } from "./http_client.ts";
import { MAX_CALLS, type MulticallInput, multicallInput, singleCall } from "./multicall_gen.ts";
import type { Rng } from "./rng.ts";
import type { Driver, RoundResult } from "./runner.ts";
import type { SavedInput, Stats } from "./stats.ts";
import { NORMAL_CALL } from "./xmlrpc_gen.ts";

const ROUND_TIMEOUT_MS = 60_000;
/** The request body limit of the server under fuzz (its default). */
const MAX_BODY_BYTES = 1024 * 1024;
/** Multicalls of at most this many entries are sometimes checked against the calls alone. */
const COMPARED = 8;

type Fault = { faultCode?: unknown; faultString?: unknown };

/** One multicall of a round, and the entries sent alone after it. */
interface Probe {
  input: MulticallInput;
  alone: number[];
}

/** The multicall fuzz traffic. */
export class MulticallDriver implements Driver {
  #lanes: PipelinedHttp[] = [];
  #url = "";
  readonly #known = new KnownCaller();

  constructor(
    readonly rng: Rng,
    readonly stats: Stats,
    server: ServerChild,
    readonly lanes: number,
    readonly pipeline: number,
  ) {
    this.reset(server);
  }

  reset(server: ServerChild): void {
    for (const lane of this.#lanes) lane.close();
    this.#url = server.info.http;
    const url = new URL(server.info.http);
    this.#lanes = Array.from(
      { length: this.lanes },
      () => new PipelinedHttp(url.hostname, Number(url.port)),
    );
  }

  async round(lane: number, budget: number): Promise<RoundResult> {
    const probes: Probe[] = [];
    const requests: HttpRequest[] = [];
    let inputs = 0;
    for (let i = 0; i < this.pipeline && inputs < budget; i++) {
      const input = multicallInput(this.rng, Math.max(1, budget - inputs));
      const small = input.strict && input.entries.length <= COMPARED;
      const alone = small && this.rng.chance(0.5)
        ? input.entries.flatMap((e, j) => e.kind === "call" ? [j] : [])
        : [];
      probes.push({ input, alone });
      requests.push({ path: "/RPC2", contentType: "text/xml", body: input.body });
      for (const j of alone) {
        requests.push({
          path: "/RPC2",
          contentType: "text/xml",
          body: singleCall(input.entries[j]),
        });
      }
      inputs += input.entries.length + alone.length;
    }
    const result: RoundResult = { sent: [], unexpected: [] };
    result.sent = requests.map((r): SavedInput => ({
      target: r.path,
      note: r.contentType,
      bytes: r.body,
    }));
    const ex = await this.#lanes[lane].exchange(requests, ROUND_TIMEOUT_MS);
    let at = 0;
    for (const probe of probes) {
      const weight = probe.input.entries.length + probe.alone.length;
      const responses = ex.responses.slice(at, at + 1 + probe.alone.length);
      const sent = result.sent[at];
      at += 1 + probe.alone.length;
      if (responses.length < 1 + probe.alone.length) {
        this.stats.inputs += weight;
        this.stats.count(ex.timedOut ? "no answer in time" : "connection dropped", weight);
        result.timedOut ||= ex.timedOut;
        break;
      }
      this.stats.inputs += weight;
      const bad = this.#check(probe, responses);
      if (bad) result.unexpected.push({ input: sent, why: bad });
    }
    return result;
  }

  /** Counts a probe's answers; returns why they are not allowed, if they are not. */
  #check(probe: Probe, [response, ...alone]: HttpResponse[]): string | undefined {
    const { input } = probe;
    const n = input.entries.length;
    if (response.status !== 200) {
      this.stats.count(`HTTP ${response.status}`, n);
      if (response.status === 413 && input.body.length > MAX_BODY_BYTES) return;
      return `HTTP ${response.status}: ${response.body.slice(0, 200)}`;
    }
    if (response.body.length > DEFAULT_MAX_RESPONSE_BYTES + 4096) {
      return `an answer of ${response.body.length} characters, over the answer budget`;
    }
    let answer;
    try {
      answer = readMethodResponse(response.body);
    } catch (error) {
      this.stats.count("bad reply");
      return `reply is not a methodResponse (${error}): ${response.body.slice(0, 200)}`;
    }
    if (!answer.ok) return this.#whole(answer.fault as Fault, input);
    if (input.strict && n > MAX_CALLS) return `a multicall of ${n} calls was answered`;
    const entries = answer.value;
    if (!Array.isArray(entries)) return "a multicall answered with something not an array";
    if (input.strict && entries.length !== n) {
      return `${n} calls answered with ${entries.length} entries`;
    }
    for (const [i, entry] of entries.entries()) {
      const why = this.#entry(entry, input.strict ? input.entries[i].kind : undefined);
      if (why) return `entry ${i}: ${why}`;
    }
    for (const [k, i] of probe.alone.entries()) {
      const why = this.#same(entries[i], alone[k]);
      if (why) return `entry ${i} (${input.entries[i].method}): ${why}`;
    }
  }

  /** A fault for the whole multicall: allowed only for the limits (or a broken document). */
  #whole(fault: Fault, input: MulticallInput): string | undefined {
    const why = this.#fault(fault, "multicall");
    if (why || !input.strict) return why;
    const text = fault.faultString as string;
    if (input.entries.length > MAX_CALLS) {
      return fault.faultCode === -32600 && text.includes(`limit of ${MAX_CALLS} calls`)
        ? undefined
        : `over the batch limit, but: ${text.slice(0, 200)}`;
    }
    if (fault.faultCode === -32600 && /limit of \d+ bytes \(maxResponseBytes\)/.test(text)) return;
    return `a multicall within the limits faulted whole: ${text.slice(0, 200)}`;
  }

  /** One entry: `[value]`, or a fault struct (and a fault where its kind must be one). */
  #entry(entry: unknown, kind: string | undefined): string | undefined {
    if (Array.isArray(entry) && entry.length === 1) {
      this.stats.count("entry ok");
      return kind === "call" || kind === undefined ? undefined : `a ${kind} entry ran`;
    }
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
      return `neither [value] nor a fault: ${JSON.stringify(entry)?.slice(0, 100)}`;
    }
    const keys = Object.keys(entry).sort().join(",");
    if (keys !== "faultCode,faultString") return `a fault with members ${keys}`;
    const why = this.#fault(entry as Fault, "entry");
    if (why) return why;
    if (kind !== undefined && kind !== "call" && (entry as Fault).faultCode !== -32600) {
      return `a ${kind} entry faulted ${(entry as Fault).faultCode}, not -32600`;
    }
  }

  #fault(fault: Fault, what: string): string | undefined {
    const code = fault?.faultCode;
    if (!Number.isInteger(code) || typeof fault.faultString !== "string") {
      this.stats.count("bad reply");
      return "malformed fault";
    }
    this.stats.count(`${what} ${nameOfCode(code as number) ?? `fault ${code}`}`);
    if (code === -32603 && !/cannot travel over XML-RPC/.test(fault.faultString)) {
      return `internal error: ${fault.faultString.slice(0, 200)}`;
    }
  }

  /** An entry's answer against the same call's answer alone. */
  #same(entry: unknown, response: HttpResponse | undefined): string | undefined {
    if (!response || response.status !== 200) return `alone: HTTP ${response?.status}`;
    const alone = readMethodResponse(response.body);
    const entryOk = Array.isArray(entry);
    if (entryOk !== alone.ok) {
      return `${entryOk ? "ok" : "a fault"} in the multicall, ${alone.ok ? "ok" : "a fault"} alone`;
    }
    if (alone.ok) return;
    const a = JSON.stringify(entry), b = JSON.stringify(alone.fault);
    this.stats.count("entry compared with the call alone");
    return a === b
      ? undefined
      : `fault ${a.slice(0, 200)} in the multicall, ${b.slice(0, 200)} alone`;
  }

  normal(): Promise<number> {
    return this.#known.call({
      kind: "http",
      url: `${this.#url}/RPC2`,
      contentType: "text/xml",
      body: NORMAL_CALL,
      expect: "<int>5</int>",
    });
  }

  close(): Promise<void> {
    for (const lane of this.#lanes) lane.close();
    this.#known.close();
    return Promise.resolve();
  }
}

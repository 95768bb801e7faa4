/**
 * JSON-RPC and XML-RPC fuzz traffic over pipelined keep-alive HTTP connections. JSON-RPC
 * carries many inputs per request as batch members; every answer is checked against what
 * the protocol allows and counted by error class.
 *
 * @module
 */

import { readMethodResponse } from "../../src/wire/xmlrpc/reader.ts";
import { nameOfCode } from "../../src/core/errors.ts";
import type { ServerChild } from "./child.ts";
import { KnownCaller } from "./known_call.ts";
import { type HttpRequest, type HttpResponse, PipelinedHttp } from "./http_client.ts";
import { batchBody, memberText, NORMAL_CALL as JSON_NORMAL, wholeBody } from "./jsonrpc_gen.ts";
import type { Rng } from "./rng.ts";
import type { Driver, RoundResult } from "./runner.ts";
import type { SavedInput, Stats } from "./stats.ts";
import { NORMAL_CALL as XML_NORMAL, xmlBody } from "./xmlrpc_gen.ts";

const ROUND_TIMEOUT_MS = 60_000;

/** Why a JSON-RPC response member is not one the server may send, or its class. */
function jsonClass(value: unknown): { name: string; bad?: string } {
  if (typeof value !== "object" || value === null) {
    return { name: "bad reply", bad: "not an object" };
  }
  const r = value as Record<string, unknown>;
  if (r.jsonrpc !== "2.0" || !("id" in r)) {
    return { name: "bad reply", bad: "not a JSON-RPC response" };
  }
  if ("result" in r) return { name: "ok" };
  const e = r.error as Record<string, unknown> | undefined;
  if (!e || !Number.isInteger(e.code) || typeof e.message !== "string") {
    return { name: "bad reply", bad: "malformed error object" };
  }
  const name = typeof e.name === "string"
    ? e.name
    : nameOfCode(e.code as number) ?? `code ${e.code}`;
  if (e.code === -32603 && !/cannot be encoded/.test(e.message)) {
    return { name, bad: `internal error: ${e.message.slice(0, 200)}` };
  }
  return { name };
}

/** The fuzz traffic of one HTTP protocol. */
export class HttpDriver implements Driver {
  #lanes: PipelinedHttp[] = [];
  #url = "";
  readonly #known = new KnownCaller();
  #id = 0;

  constructor(
    readonly protocol: "jsonrpc" | "xmlrpc",
    readonly rng: Rng,
    readonly stats: Stats,
    server: ServerChild,
    readonly lanes: number,
    readonly pipeline: number,
    readonly latencyBoundMs: number,
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

  /** Builds a round: requests and how many inputs each carries. */
  #build(budget: number): { requests: HttpRequest[]; weights: number[] } {
    const requests: HttpRequest[] = [];
    const weights: number[] = [];
    let inputs = 0;
    for (let i = 0; i < this.pipeline && inputs < budget; i++) {
      if (this.protocol === "xmlrpc") {
        const type = this.rng.chance(0.97)
          ? "text/xml"
          : this.rng.pick(["application/xml", "text/plain", ""]);
        requests.push({ path: "/RPC2", contentType: type, body: xmlBody(this.rng) });
        weights.push(1);
        inputs++;
      } else if (this.rng.chance(0.75)) {
        const n = Math.min(budget - inputs, this.rng.range(20, 150));
        const members = Array.from({ length: n }, () => memberText(this.rng, ++this.#id));
        requests.push({ path: "/rpc", contentType: "application/json", body: batchBody(members) });
        weights.push(n);
        inputs += n;
      } else {
        const type = this.rng.chance(0.97)
          ? "application/json"
          : this.rng.pick(["text/plain", "application/json-rpc", ""]);
        requests.push({ path: "/rpc", contentType: type, body: wholeBody(this.rng, ++this.#id) });
        weights.push(1);
        inputs++;
      }
    }
    return { requests, weights };
  }

  async round(lane: number, budget: number): Promise<RoundResult> {
    const { requests, weights } = this.#build(budget);
    const result: RoundResult = { sent: [], unexpected: [] };
    result.sent = requests.map((r): SavedInput => ({
      target: r.path,
      note: r.contentType,
      bytes: r.body,
    }));
    const ex = await this.#lanes[lane].exchange(requests, ROUND_TIMEOUT_MS);
    for (const [i, response] of ex.responses.entries()) {
      this.stats.inputs += weights[i];
      const bad = this.#check(response, weights[i]);
      if (bad) result.unexpected.push({ input: result.sent[i], why: bad });
    }
    if (ex.responses.length < requests.length) {
      const i = ex.responses.length;
      this.stats.inputs += weights[i];
      this.stats.count(ex.timedOut ? "no answer in time" : "connection dropped", weights[i]);
      result.timedOut = ex.timedOut;
    }
    return result;
  }

  /** Counts a response's classes; returns why it is not allowed, if it is not. */
  #check(response: HttpResponse, inputs: number): string | undefined {
    const { status, body } = response;
    if (status !== 200) {
      this.stats.count(`HTTP ${status}`, inputs);
      return status >= 500 ? `HTTP ${status}: ${body.slice(0, 200)}` : undefined;
    }
    if (this.protocol === "xmlrpc") return this.#checkXml(body);
    // Notifications alone are answered with an empty 200.
    if (body === "") return void this.stats.count("notification (no reply)", inputs);
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      this.stats.count("bad reply", inputs);
      return `reply is not JSON: ${body.slice(0, 200)}`;
    }
    const members = Array.isArray(value) ? value : [value];
    let bad: string | undefined;
    for (const m of members) {
      const c = jsonClass(m);
      this.stats.count(c.name);
      bad ??= c.bad;
    }
    if (inputs > members.length) {
      this.stats.count("notification (no reply)", inputs - members.length);
    }
    return bad;
  }

  #checkXml(body: string): string | undefined {
    try {
      const r = readMethodResponse(body);
      if (r.ok) return void this.stats.count("ok");
      const f = r.fault as Record<string, unknown>;
      const code = f?.faultCode as number;
      const name = typeof f?.faultName === "string"
        ? f.faultName
        : nameOfCode(code) ?? `fault ${code}`;
      this.stats.count(name);
      if (!Number.isInteger(code) || typeof f.faultString !== "string") return "malformed fault";
      if (code === -32603 && !/cannot travel over XML-RPC/.test(f.faultString)) {
        return `internal error: ${f.faultString.slice(0, 200)}`;
      }
    } catch (error) {
      this.stats.count("bad reply");
      return `reply is not a methodResponse (${error}): ${body.slice(0, 200)}`;
    }
  }

  normal(): Promise<number> {
    const xml = this.protocol === "xmlrpc";
    return this.#known.call({
      kind: "http",
      url: `${this.#url}${xml ? "/RPC2" : "/rpc"}`,
      contentType: xml ? "text/xml" : "application/json",
      body: xml ? XML_NORMAL : JSON_NORMAL,
      expect: xml ? "<int>5</int>" : '"result":5',
    });
  }

  close(): Promise<void> {
    for (const lane of this.#lanes) lane.close();
    this.#known.close();
    return Promise.resolve();
  }
}

/**
 * Component fuzz traffic: each input is a message the component posts to its host (see
 * component_gen.ts), made inside the component from a seed the driver sends with
 * `Forger.forge`, so every one crosses the real worker (or component process) boundary.
 * The host must stay up (a crash is its exit), keep answering (the known call), and
 * answer each forge call with a JSON-RPC response, whatever the messages did to it.
 *
 * @module
 */

import { nameOfCode } from "../../src/core/errors.ts";
import type { ServerChild } from "./child.ts";
import type { Rng } from "./rng.ts";
import type { Driver, RoundResult } from "./runner.ts";
import type { SavedInput, Stats } from "./stats.ts";

const ROUND_TIMEOUT_MS = 60_000;

/** The fuzz traffic of one component placement (worker or process). */
export class ComponentDriver implements Driver {
  #url = "";

  constructor(
    readonly rng: Rng,
    readonly stats: Stats,
    server: ServerChild,
    readonly perRound: number,
    readonly latencyBoundMs: number,
  ) {
    this.reset(server);
  }

  reset(server: ServerChild): void {
    this.#url = `${server.info.http}/rpc`;
  }

  async round(_lane: number, budget: number): Promise<RoundResult> {
    const count = Math.max(1, Math.min(budget, this.rng.range(1, this.perRound)));
    const seed = this.rng.u32();
    const body = JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "Forger.forge",
      params: { seed, count },
    });
    const input: SavedInput = {
      target: "Forger.forge",
      note: `seed ${seed}, count ${count} (replay: forgeMessages(new Rng(seed), count))`,
      bytes: new TextEncoder().encode(body),
    };
    const result: RoundResult = { sent: [input], unexpected: [] };
    this.stats.inputs += count;
    let reply: unknown;
    try {
      const response = await fetch(this.#url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        signal: AbortSignal.timeout(ROUND_TIMEOUT_MS),
      });
      const text = await response.text();
      if (response.status !== 200) {
        this.stats.count(`HTTP ${response.status}`, count);
        if (response.status >= 500) {
          result.unexpected.push({ input, why: `HTTP ${response.status}: ${text.slice(0, 200)}` });
        }
        return result;
      }
      reply = JSON.parse(text);
    } catch (error) {
      const timedOut = error instanceof DOMException && error.name === "TimeoutError";
      this.stats.count(timedOut ? "no answer in time" : "connection failed", count);
      result.timedOut = timedOut;
      return result;
    }
    const r = reply as { result?: unknown; error?: { name?: unknown; message?: unknown } };
    if (typeof reply !== "object" || reply === null || !("result" in r || "error" in r)) {
      this.stats.count("bad reply", count);
      result.unexpected.push({ input, why: "not a JSON-RPC response" });
    } else if ("result" in r) {
      this.stats.count("forge answered", count);
    } else {
      // Unavailable when the messages got the worker replaced; a forged result may carry
      // any name (the component chose it).
      // (InternalError when a forged result does not match the declared result type).
      const e = r.error as { name?: unknown; code?: unknown } | undefined;
      const name = typeof e?.name === "string"
        ? e.name
        : (typeof e?.code === "number" && nameOfCode(e.code)) || "error without name";
      this.stats.count(name, count);
    }
    return result;
  }

  /** The server answers an inline call, and the component answers (with a fresh worker). */
  async normal(): Promise<number> {
    const started = performance.now();
    const add = await this.#call("Calculator.add", { a: 2, b: 3 });
    if (add.result !== 5) throw new Error(`Calculator.add answered ${JSON.stringify(add)}`);
    // The component may be between workers, or a forged result may answer this very call.
    for (let attempt = 0;; attempt++) {
      const hello = await this.#call("Forger.hello", {});
      if ("result" in hello || attempt === 3) break;
    }
    return performance.now() - started;
  }

  async #call(method: string, params: unknown): Promise<Record<string, unknown>> {
    const response = await fetch(this.#url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
      signal: AbortSignal.timeout(this.latencyBoundMs * 2),
    });
    return await response.json();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * The loop every protocol shares: rounds of fuzz inputs on a few connections at once, a
 * known call every N inputs timed against a latency bound (a hang when it is exceeded),
 * and a crash when the server process exits. Trouble saves the round's inputs and
 * restarts the server.
 *
 * @module
 */

import type { ServerChild } from "./child.ts";
import { saveArtifact, type SavedInput, type Stats } from "./stats.ts";

/** What a round of one connection did. */
export interface RoundResult {
  /** The inputs sent, for saving when the round turns out to be trouble. */
  sent: SavedInput[];
  /** Inputs whose answer was of a class the protocol does not allow, with why. */
  unexpected: { input: SavedInput; why: string }[];
  /** The round did not finish in time (a request the server never answered). */
  timedOut?: boolean;
}

/** One protocol's fuzz traffic. */
export interface Driver {
  /** Sends one round of at most `budget` inputs on connection `lane`; counts into stats. */
  round(lane: number, budget: number): Promise<RoundResult>;
  /** Makes the known call; resolves with its latency, rejects with what was wrong. */
  normal(): Promise<number>;
  /** Points the connections at a new server after a restart. */
  reset(server: ServerChild): void | Promise<void>;
  /** Closes everything. */
  close(): Promise<void>;
}

/** Settings of a run. */
export interface RunOptions {
  count: number;
  deadline: number;
  lanes: number;
  normalEvery: number;
  latencyBoundMs: number;
  artifactsDir: string;
  seed: number;
  maxRestarts: number;
}

/** Runs a driver until `count` inputs or the deadline; restarts the server on trouble. */
export async function runDriver(
  driver: Driver,
  stats: Stats,
  holder: { server: ServerChild; restart(): Promise<ServerChild> },
  options: RunOptions,
): Promise<void> {
  let lastNormal = -Infinity;
  let restarts = 0;
  while (stats.inputs < options.count && Date.now() < options.deadline) {
    const server = holder.server;
    let hung: string | undefined;
    let problem: string | undefined;
    let normal: Promise<void> | undefined;
    if (stats.inputs - lastNormal >= options.normalEvery) {
      lastNormal = stats.inputs;
      normal = timed(driver.normal(), options.latencyBoundMs).then(
        (ms) => void stats.latencies.push(ms),
        (why: Error) => {
          stats.normalFailed++;
          if (why.name !== "Timeout") return void (problem = why.message);
          hung = why.message;
          // A hung server would hold the round forever: end it so that the round returns.
          void server.kill();
        },
      );
    }
    const budget = Math.ceil((options.count - stats.inputs) / options.lanes);
    const rounds = await Promise.all(
      Array.from({ length: options.lanes }, (_, lane) => driver.round(lane, budget)),
    );
    await normal;
    const sent = rounds.flatMap((r) => r.sent);
    for (const r of rounds) {
      for (const u of r.unexpected) {
        stats.unexpected++;
        await saveArtifact(options.artifactsDir, stats, "unexpected", [u.input], {
          why: u.why,
          seed: options.seed,
        });
      }
    }
    const crashed = server.exit !== undefined && hung === undefined;
    const timedOut = rounds.some((r) => r.timedOut);
    if (!crashed && hung === undefined && problem !== undefined) {
      stats.unexpected++;
      stats.count("known call failed");
      await saveArtifact(options.artifactsDir, stats, "known-call-failed", sent, {
        seed: options.seed,
        why: problem,
      });
    }
    if (!crashed && hung === undefined && !timedOut) continue;
    if (crashed) stats.crashes++;
    else if (hung !== undefined) stats.hangs++;
    else stats.count("round timeout (an input left unanswered)");
    const kind = crashed ? "crash" : hung !== undefined ? "hang" : "timeout";
    await saveArtifact(options.artifactsDir, stats, kind, sent, {
      seed: options.seed,
      why: crashed ? `server exited: ${JSON.stringify(server.exit)}` : hung ?? "round timeout",
      serverLog: server.tail.slice(-15),
      note: "one of these inputs (sent concurrently) caused it; replay them one by one",
    });
    if (crashed || hung !== undefined) {
      if (++restarts > options.maxRestarts) {
        stats.count(`stopped after ${options.maxRestarts} restarts`);
        return;
      }
      await server.kill();
      await driver.reset(await holder.restart());
    }
  }
}

/** Rejects (an Error named Timeout) when the promise takes longer than `ms`. */
export function timed<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`the known call took over ${ms} ms`);
      error.name = "Timeout";
      reject(error);
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * How a supervisor hands a deployed process its plan and the deployment's secret: one
 * JSON line on the child's stdin, a pipe only the two of them hold. Nothing of it is in
 * the child's environment or argv, which the kernel shows to anyone who may read
 * `/proc/PID/environ` and `/proc/PID/cmdline` (`ps e`), long after the process deleted
 * its copy. The pipe then stays open for the child's whole life: the supervisor writes
 * only its liveness messages on it (one JSON line each, see `liveness.ts`), and
 * end-of-file on it means the supervisor is gone (however it died,
 * `kill -9` included, since the kernel closes a dead process's pipes), so the child
 * drains and exits instead of serving on unsupervised.
 *
 * @module
 */

import type { Plan } from "./plan.ts";

/** What a deployed process receives at start. */
export interface Handoff {
  /** The deployment's plan. */
  plan: Plan;
  /** The deployment's shared secret (fresh per run). */
  secret: string;
}

/** The line the supervisor writes on a child's stdin. */
export function handoffLine(handoff: Handoff): string {
  return `${JSON.stringify(handoff)}\n`;
}

/** The handoff a deployed process read, and the end of its supervisor. */
export interface ReceivedHandoff {
  /** The plan and the secret. */
  handoff: Handoff;
  /** Resolves when the supervisor's end of the pipe closes. */
  parentGone: Promise<void>;
}

/** Longest handoff line accepted (a plan is a few kilobytes). */
const MAX_HANDOFF_BYTES = 16 * 1024 * 1024;
/** Longest later line kept (a liveness message is a few dozen bytes); longer ones are dropped. */
const MAX_MESSAGE_CHARS = 4096;

/**
 * Reads the handoff line from `input` (stdin), then keeps reading to notice the
 * supervisor's end, handing each later line to `onLine`. Throws when the input ends or
 * is not a handoff.
 */
export async function receiveHandoff(
  input: ReadableStream<Uint8Array>,
  onLine: (line: string) => void = () => {},
): Promise<ReceivedHandoff> {
  const reader = input.getReader();
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) {
      throw new Error(
        "serve --deployed is started by switchboard deploy, which writes the plan and " +
          "secret on its stdin; stdin ended without them",
      );
    }
    text += decoder.decode(value, { stream: true });
    if (text.includes("\n")) break;
    if (text.length > MAX_HANDOFF_BYTES) throw new Error("the deployment handoff is too long");
  }
  const line = text.slice(0, text.indexOf("\n"));
  let handoff: Handoff;
  try {
    handoff = JSON.parse(line);
  } catch {
    throw new Error("serve --deployed: stdin did not start with the deployment handoff");
  }
  if (typeof handoff?.secret !== "string" || !handoff.secret || !handoff.plan) {
    throw new Error("serve --deployed: the deployment handoff lacks its plan or secret");
  }
  let rest = text.slice(text.indexOf("\n") + 1);
  const parentGone = (async () => {
    try {
      for (;;) {
        const parts = rest.split("\n");
        rest = parts.pop()!;
        for (const line of parts) if (line.length <= MAX_MESSAGE_CHARS) onLine(line);
        // An overlong line is dropped whole: its tail is not a message either.
        if (rest.length > MAX_MESSAGE_CHARS) rest = rest.slice(-MAX_MESSAGE_CHARS - 1);
        const { value, done } = await reader.read();
        if (done) break;
        rest += decoder.decode(value, { stream: true });
      }
    } catch {
      // A broken pipe is the supervisor's end too.
    }
  })();
  return { handoff, parentGone };
}

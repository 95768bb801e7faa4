/**
 * How the supervisor knows its processes still answer, and tells the others when one does
 * not. A process that is alive but frozen (`kill -STOP`, a busy loop, a debugger) keeps
 * its sockets: the kernel still accepts connections for it, so callers would only wait.
 *
 * Over the pipe each child already holds (see `handoff.ts`), after the handoff line:
 * - the supervisor writes `{"ping":N}`; the child's event loop answers `switchboard: pong N`
 *   on stdout (a line the supervisor keeps out of the log). At most one ping is
 *   unanswered at a time, so a frozen child's pipe holds one line, not a backlog.
 * - a process that leaves a ping unanswered for `timeout` ms is `unresponsive`; the
 *   supervisor writes `{"down":NAME,"since":EPOCH_MS}` to every other process, whose
 *   calls to it then fail at once (and those in flight fail now) with `Unavailable`
 *   instead of waiting, and which dial it no more (see `liveness_gate.ts`);
 *   `{"up":NAME}` follows once it answers again, or once its replacement is ready.
 * - before a rolling restart stops a replica, the supervisor writes `{"drain":NAME,"ack":N}`
 *   to every other process: they send it no new calls (its calls in flight go on) and answer
 *   `switchboard: ack N`, so it is stopped only once no caller will pick it; `{"up":NAME}`
 *   follows once its replacement is ready.
 * - one unresponsive for `restartAfter` ms is killed (SIGKILL: a stopped process ignores
 *   every other signal until continued) and restarted like a crashed one, counting
 *   towards the crash loop. A process that never answers is no use to its callers, and
 *   nobody may be there to continue it; to pause one on purpose for longer (a debugger),
 *   set `restartAfter` to 0, which never kills.
 *
 * Silence is counted in the supervisor's own ticks, not by the clock: a supervisor that
 * was itself stopped (Ctrl-Z stops the whole process group) does not, once continued,
 * count the pause against children that were stopped with it.
 *
 * @module
 */

/** When a process counts as unresponsive, and what then. */
export interface LivenessPolicy {
  /** Milliseconds between the supervisor's pings to each process. */
  interval: number;
  /** A process silent this long (ms) is `unresponsive`. */
  timeout: number;
  /** A process unresponsive this long (ms) is killed and restarted; 0 = never. */
  restartAfter: number;
}

/** The defaults: ping every second; unresponsive after 5 s; restarted after 60 s. */
export const DEFAULT_LIVENESS: LivenessPolicy = {
  interval: 1000,
  timeout: 5000,
  restartAfter: 60_000,
};

/** What the supervisor writes on a child's stdin after the handoff. */
export type SupervisorMessage =
  | { ping: number }
  | { down: string; since: number }
  | { drain: string; ack: number }
  | { up: string };

/** The stdout line prefix of a child's answer to a ping. */
export const PONG_MARKER = "switchboard: pong ";

/** The stdout line prefix of a child's acknowledgement of a `drain` message. */
export const ACK_MARKER = "switchboard: ack ";

/** The child's acknowledgement of the message numbered `seq`. */
export function ackLine(seq: number): string {
  return `${ACK_MARKER}${seq}`;
}

/** The message a stdout line acknowledges, or undefined when it is an ordinary line. */
export function ackOf(line: string): number | undefined {
  if (!line.startsWith(ACK_MARKER)) return undefined;
  const seq = Number(line.slice(ACK_MARKER.length));
  return Number.isSafeInteger(seq) ? seq : undefined;
}

/** A message as the line the supervisor writes. */
export function messageLine(message: SupervisorMessage): string {
  return `${JSON.stringify(message)}\n`;
}

/** The child's answer to ping `seq`. */
export function pongLine(seq: number): string {
  return `${PONG_MARKER}${seq}`;
}

/** The ping a stdout line answers, or undefined when it is an ordinary line. */
export function pongOf(line: string): number | undefined {
  if (!line.startsWith(PONG_MARKER)) return undefined;
  const seq = Number(line.slice(PONG_MARKER.length));
  return Number.isSafeInteger(seq) ? seq : undefined;
}

/** Parses a line of the supervisor's; undefined for anything else (ignored). */
export function parseMessage(line: string): SupervisorMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const m = value as Record<string, unknown>;
  if (Number.isSafeInteger(m.ping)) return { ping: m.ping as number };
  if (typeof m.down === "string" && typeof m.since === "number") {
    return { down: m.down, since: m.since };
  }
  if (typeof m.drain === "string" && Number.isSafeInteger(m.ack)) {
    return { drain: m.drain, ack: m.ack as number };
  }
  if (typeof m.up === "string") return { up: m.up };
  return undefined;
}

/**
 * The supervisor: runs child processes, prefixes every line they print with their name,
 * restarts a crashed child with exponential backoff, gives up loudly on a crash loop,
 * and on stop sends SIGTERM and waits for children to drain (SIGKILL after a grace
 * period). With a liveness policy it also pings each running child over its stdin, marks
 * one that stops answering `unresponsive`, tells the others, and kills and restarts one
 * that stays so (see `liveness.ts`).
 *
 * @module
 */

import { afterExit, DEFAULT_RESTART, type RestartPolicy } from "./restart.ts";
import {
  ackOf,
  type LivenessPolicy,
  messageLine,
  pongOf,
  type SupervisorMessage,
} from "./liveness.ts";
import { Watchdog } from "./watchdog.ts";
import { type ChildSpec, type ChildState, type ChildStatus, lines } from "./child.ts";

/** How a supervisor ended. */
export interface SupervisorOutcome {
  /** False when it gave up on a crash loop. */
  ok: boolean;
  /** Why it gave up. */
  reason?: string;
}

/** Options of a {@linkcode Supervisor}. */
export interface SupervisorOptions {
  /** Restart policy (defaults: 250 ms doubling to 10 s; 5 crashes in 60 s = crash loop). */
  restart?: Partial<RestartPolicy>;
  /** Where prefixed lines go (default: the supervisor's stdout / stderr). */
  log?: (line: string, stream: "stdout" | "stderr") => void;
  /** A child counts as running once it prints a line this accepts (default: once spawned). */
  isReady?: (line: string) => boolean;
  /** How long children may drain after SIGTERM before SIGKILL, in ms (default 10 s). */
  drainTimeout?: number;
  /**
   * Ping running children over their stdin and judge their silence by this policy (the
   * children must answer, as deployed processes do); default: no pings.
   */
  liveness?: LivenessPolicy;
}

interface Child {
  spec: ChildSpec;
  state: ChildState;
  process?: Deno.ChildProcess;
  startedAt?: number;
  restarts: number;
  crashes: number[];
  lastExit?: { code: number; signal: string | null };
  wake?: () => void;
  readyOnce: boolean;
  stdin?: WritableStreamDefaultWriter<Uint8Array>;
  watchdog?: Watchdog;
  /** Since when its ping is unanswered, while `unresponsive`. */
  unresponsiveSince?: number;
  /** Since when the others were told it is down (until they are told it is up). */
  downSince?: number;
  /** The others were told to drain it (a rolling restart), until they are told it is up. */
  draining?: boolean;
  /** Its exit is a rolling restart's: restart at once, not counted as a crash. */
  rolling?: boolean;
  /** How many times it was started (a rolling restart waits for the next run's readiness). */
  runs: number;
  /** Acknowledgements it owes, by message number. */
  acks: Map<number, () => void>;
}

/**
 * Runs and watches a set of child processes.
 *
 * @example
 * ```ts ignore
 * import { Supervisor } from "./supervisor.ts";
 *
 * const supervisor = new Supervisor([
 *   { name: "web", command: Deno.execPath(), args: ["run", "-A", "web.ts"] },
 * ]);
 * supervisor.start();
 * Deno.addSignalListener("SIGTERM", () => supervisor.stop());
 * const { ok } = await supervisor.finished;
 * ```
 */
export class Supervisor {
  readonly #children: Child[];
  readonly #policy: RestartPolicy;
  readonly #log: (line: string, stream: "stdout" | "stderr") => void;
  readonly #isReady?: (line: string) => boolean;
  readonly #drainTimeout: number;
  readonly #liveness?: LivenessPolicy;
  readonly #width: number;
  #stopping = false;
  #started = false;
  #runs: Promise<void>[] = [];
  #outcome: SupervisorOutcome = { ok: true };
  #finished?: Promise<SupervisorOutcome>;
  #stopped?: Promise<void>;
  /** Each returns true once it has settled its promise. */
  #readyWaiters: (() => boolean)[] = [];
  /** Rolling restarts run one after another. */
  #rolling: Promise<unknown> = Promise.resolve();
  #ackSeq = 0;

  /** Children are started by {@linkcode Supervisor.start}. */
  constructor(children: readonly ChildSpec[], options: SupervisorOptions = {}) {
    const names = new Set(children.map((c) => c.name));
    if (names.size !== children.length) throw new TypeError("child names must be unique");
    this.#children = children.map((spec) => ({
      spec,
      state: "stopped",
      restarts: 0,
      crashes: [],
      readyOnce: false,
      runs: 0,
      acks: new Map(),
    }));
    this.#policy = { ...DEFAULT_RESTART, ...options.restart };
    this.#log = options.log ?? ((line, stream) => {
      if (stream === "stderr") console.error(line);
      else console.log(line);
    });
    this.#isReady = options.isReady;
    this.#drainTimeout = options.drainTimeout ?? 10_000;
    this.#liveness = options.liveness;
    this.#width = Math.max(...children.map((c) => c.name.length), "supervisor".length);
  }

  /** Starts every child. */
  start(): void {
    if (this.#started) throw new Error("the supervisor was already started");
    this.#started = true;
    this.#runs = this.#children.map((child) => this.#run(child));
    this.#finished = Promise.all(this.#runs).then(() => this.#outcome);
  }

  /** Resolves when the supervisor is done: stopped, or given up on a crash loop. */
  get finished(): Promise<SupervisorOutcome> {
    if (!this.#finished) return Promise.reject(new Error("the supervisor was not started"));
    return this.#finished;
  }

  /** Resolves once every child has been ready at least once (rejects if it gives up). */
  ready(): Promise<void> {
    if (!this.#outcome.ok) return Promise.reject(new Error(this.#outcome.reason));
    if (this.#children.every((c) => c.readyOnce)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#readyWaiters.push(() => {
        if (!this.#outcome.ok) reject(new Error(this.#outcome.reason));
        else if (this.#children.every((c) => c.readyOnce)) resolve();
        else return false;
        return true;
      });
    });
  }

  #notifyReady(): void {
    this.#readyWaiters = this.#readyWaiters.filter((settle) => !settle());
  }

  /** The state of every child. */
  status(): ChildStatus[] {
    const now = Date.now();
    return this.#children.map((c) => ({
      name: c.spec.name,
      state: c.state,
      ...(c.process && RUNNING.includes(c.state) ? { pid: c.process.pid } : {}),
      restarts: c.restarts,
      uptime: c.startedAt !== undefined && c.state !== "backoff" && c.state !== "stopped" &&
          c.state !== "failed"
        ? now - c.startedAt
        : 0,
      ...(c.lastExit ? { lastExit: c.lastExit } : {}),
      ...(c.state === "unresponsive" && c.unresponsiveSince !== undefined
        ? { unresponsiveSince: new Date(c.unresponsiveSince).toISOString() }
        : {}),
    }));
  }

  /** Sends a signal to one running child (tests use SIGKILL to simulate a crash). */
  kill(name: string, signal: Deno.Signal = "SIGTERM"): void {
    const child = this.#children.find((c) => c.spec.name === name);
    if (!child?.process) throw new Error(`no running child ${name}`);
    child.process.kill(signal);
  }

  /**
   * Stops every child: `signal` (SIGTERM by default; the deploy command forwards the one
   * it got), then up to `drainTimeout` ms for in-flight calls to finish, then SIGKILL.
   * Resolves when all have exited.
   */
  stop(signal: Deno.Signal = "SIGTERM"): Promise<void> {
    this.#stopped ??= this.#stop(signal);
    return this.#stopped;
  }

  async #stop(signal: Deno.Signal): Promise<void> {
    this.#stopping = true;
    for (const child of this.#children) {
      child.wake?.();
      child.watchdog?.stop();
      const live = ["running", "starting", "unresponsive"].includes(child.state);
      if (child.process && live) {
        child.state = "stopping";
        try {
          child.process.kill(signal);
          // A stopped process (kill -STOP, noticed or not yet) acts on no signal until
          // continued: let it drain too. A running one ignores SIGCONT.
          child.process.kill("SIGCONT");
        } catch {
          // already gone
        }
      }
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const all = Promise.all(this.#runs);
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), this.#drainTimeout);
    });
    if (await Promise.race([all, late]) === "late") {
      for (const child of this.#children) {
        if (child.state !== "stopping" || !child.process) continue;
        this.#say(`${child.spec.name} did not drain within ${this.#drainTimeout} ms: SIGKILL`);
        try {
          child.process.kill("SIGKILL");
        } catch {
          // already gone
        }
      }
      await all;
    }
    clearTimeout(timer);
  }

  #say(message: string, stream: "stdout" | "stderr" = "stderr"): void {
    this.#log(`${"supervisor".padEnd(this.#width)} | ${message}`, stream);
  }

  async #pump(child: Child, stream: ReadableStream<Uint8Array>, kind: "stdout" | "stderr") {
    const prefix = `${child.spec.name.padEnd(this.#width)} | `;
    try {
      for await (const line of lines(stream)) {
        const pong = kind === "stdout" && this.#liveness ? pongOf(line) : undefined;
        if (pong !== undefined) {
          child.watchdog?.answer(pong);
          continue;
        }
        const ack = kind === "stdout" && this.#liveness ? ackOf(line) : undefined;
        if (ack !== undefined) {
          child.acks.get(ack)?.();
          child.acks.delete(ack);
          continue;
        }
        this.#log(prefix + line, kind);
        if (kind === "stdout" && child.state === "starting" && this.#isReady?.(line)) {
          this.#running(child);
        }
      }
    } catch {
      // the child's pipe broke as it died; its exit is reported by #run
    }
  }

  async #run(child: Child): Promise<void> {
    const { spec } = child;
    while (!this.#stopping) {
      let code = -1, signal: string | null = null;
      child.state = "starting";
      child.startedAt = Date.now();
      child.runs++;
      try {
        const process = new Deno.Command(spec.command, {
          args: spec.args,
          env: spec.env,
          stdin: spec.stdin === undefined ? "null" : "piped",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        child.process = process;
        const stdin = spec.stdin === undefined ? undefined : process.stdin.getWriter();
        child.stdin = stdin;
        this.#write(child, spec.stdin);
        // It is told who is down now, as the others were when they went down.
        for (const other of this.#children) {
          if (other !== child && other.downSince !== undefined) {
            this.#tell(child, { down: other.spec.name, since: other.downSince });
          }
          if (other !== child && other.draining) {
            this.#tell(child, { drain: other.spec.name, ack: 0 });
          }
        }
        if (!this.#isReady) this.#running(child);
        const pumps = [
          this.#pump(child, process.stdout, "stdout"),
          this.#pump(child, process.stderr, "stderr"),
        ];
        const status = await process.status;
        child.watchdog?.stop();
        child.watchdog = undefined;
        child.stdin = undefined;
        for (const settle of child.acks.values()) settle(); // it owes nothing once gone
        child.acks.clear();
        child.unresponsiveSince = undefined;
        stdin?.close().catch(() => {});
        await Promise.all(pumps);
        code = status.code;
        signal = status.signal;
      } catch (error) {
        this.#say(`cannot start ${spec.name}: ${error instanceof Error ? error.message : error}`);
      }
      child.lastExit = { code, signal };
      child.process = undefined;
      if (this.#stopping) break;
      if (child.rolling) {
        child.rolling = false;
        child.restarts++;
        continue;
      }

      const verdict = afterExit(this.#policy, spec.name, child.crashes, Date.now(), {
        code,
        signal,
      });
      child.crashes = verdict.crashes;
      if (verdict.giveUp) {
        child.state = "failed";
        const { reason } = verdict.giveUp;
        this.#say(
          verdict.giveUp.config
            ? `${reason}; stopping the deployment`
            : `CRASH LOOP: ${reason}; stopping the deployment`,
        );
        if (this.#outcome.ok) this.#outcome = { ok: false, reason };
        this.#notifyReady();
        void this.stop();
        return;
      }
      const { how, delay } = verdict;
      this.#say(`${spec.name} ${how}; restarting in ${delay} ms`);
      child.state = "backoff";
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        child.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      child.wake = undefined;
      if (this.#stopping) break;
      child.restarts++;
    }
    if (child.state !== "failed") child.state = "stopped";
  }

  /** Writes on a child's stdin; a child that died before reading breaks the pipe (its exit says why). */
  #write(child: Child, text: string | undefined): void {
    if (text === undefined) return;
    child.stdin?.write(new TextEncoder().encode(text)).catch(() => {});
  }

  #tell(child: Child, message: SupervisorMessage): void {
    if (this.#liveness) this.#write(child, messageLine(message));
  }

  #tellOthers(child: Child, message: SupervisorMessage): void {
    for (const other of this.#children) if (other !== child) this.#tell(other, message);
  }

  /** A child is ready: start watching it, and tell the others if they thought it down. */
  #running(child: Child): void {
    child.state = "running";
    child.readyOnce = true;
    this.#notifyReady();
    if (this.#liveness && child.process && !child.watchdog) {
      child.watchdog = new Watchdog(this.#liveness, this.#watch(child));
      child.watchdog.start();
    }
    if (child.downSince !== undefined || child.draining) {
      child.downSince = undefined;
      child.draining = false;
      this.#tellOthers(child, { up: child.spec.name });
    }
  }

  /**
   * A rolling restart: restarts the named children one at a time, each drained (the others
   * send it no new calls, and acknowledge that), stopped with SIGTERM once they have (its
   * calls in flight finish; SIGKILL after the drain timeout), started again, and ready
   * before the next one goes. Rejects, naming the child, when one is not running or does
   * not come back; restarts asked for while one runs wait for it.
   */
  restart(names: readonly string[]): Promise<void> {
    const children = names.map((name) => {
      const child = this.#children.find((c) => c.spec.name === name);
      if (!child) throw new Error(`no process ${name}`);
      return child;
    });
    const run = this.#rolling.then(async () => {
      for (const child of children) await this.#restartOne(child);
    });
    this.#rolling = run.catch(() => {});
    return run;
  }

  async #restartOne(child: Child): Promise<void> {
    const { name } = child.spec;
    if (this.#stopping) throw new Error(`the deployment is stopping: ${name} not restarted`);
    if (child.state !== "running" || !child.process) {
      throw new Error(`${name} is ${child.state}, not running: not restarted`);
    }
    this.#say(`rolling restart: draining ${name}`, "stdout");
    child.draining = true;
    await this.#drainAcknowledged(child);
    const process = child.process, run = child.runs;
    child.rolling = true;
    child.state = "stopping";
    child.watchdog?.stop();
    const late = setTimeout(() => {
      this.#say(`${name} did not drain within ${this.#drainTimeout} ms: SIGKILL`);
      try {
        process.kill("SIGKILL");
      } catch {
        // already gone
      }
    }, this.#drainTimeout);
    try {
      process.kill("SIGTERM");
      process.kill("SIGCONT");
    } catch {
      // already gone: its run restarts it all the same
    }
    await process.status;
    clearTimeout(late);
    // Ready again (its `up` goes to the others then), or given up on.
    const deadline = Date.now() + Math.max(60_000, this.#drainTimeout);
    // Read afresh each time: the child's run changes it meanwhile.
    const state = (): ChildState => child.state;
    while (!(child.runs > run && state() === "running")) {
      if (this.#stopping || state() === "failed" || state() === "backoff") {
        throw new Error(`${name} did not come back after its restart (${state()})`);
      }
      if (Date.now() > deadline) throw new Error(`${name} was not ready again in time`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    this.#say(`rolling restart: ${name} is back`, "stdout");
  }

  /** Tells every other child to drain `child` and waits until each said so (or went). */
  async #drainAcknowledged(child: Child): Promise<void> {
    if (!this.#liveness) return; // no messages to the children without it: nothing to wait for
    const seq = ++this.#ackSeq;
    const waits: Promise<void>[] = [];
    for (const other of this.#children) {
      if (other === child || !other.stdin || !RUNNING.includes(other.state)) continue;
      waits.push(new Promise<void>((resolve) => other.acks.set(seq, resolve)));
      this.#tell(other, { drain: child.spec.name, ack: seq });
    }
    // A frozen one cannot answer; its calls to the drained child fail over when it thaws.
    const patience = this.#liveness?.timeout ?? 5000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(waits),
      new Promise((resolve) => timer = setTimeout(resolve, patience)),
    ]);
    clearTimeout(timer);
    for (const other of this.#children) other.acks.delete(seq);
  }

  #watch(child: Child) {
    const { name } = child.spec;
    const policy = this.#liveness!;
    return {
      ping: (seq: number) => this.#tell(child, { ping: seq }),
      unresponsive: (since: number) => {
        if (child.state !== "running" || this.#stopping) return;
        child.state = "unresponsive";
        child.unresponsiveSince = since;
        child.downSince = since;
        this.#say(
          `${name} is unresponsive: no answer to its supervisor since ${
            new Date(since).toISOString()
          }; calls to it fail at once until it answers${
            policy.restartAfter > 0
              ? `, and it is restarted if it does not within ${policy.restartAfter} ms`
              : ""
          }`,
        );
        this.#tellOthers(child, { down: name, since });
      },
      answered: () => {
        if (child.state !== "unresponsive") return;
        this.#say(
          `${name} answers again (it was unresponsive for ${
            Date.now() - child.unresponsiveSince!
          } ms)`,
        );
        child.unresponsiveSince = undefined;
        this.#running(child);
      },
      overdue: (silent: number) => {
        if (child.state !== "unresponsive" || !child.process) return;
        this.#say(`${name} has not answered for ${silent} ms: SIGKILL, then a restart`);
        try {
          child.process.kill("SIGKILL");
        } catch {
          // already gone
        }
      },
    };
  }
}

/** States in which a child has a process. */
const RUNNING: readonly ChildState[] = ["starting", "running", "unresponsive", "stopping"];

/**
 * Process plumbing of the binary smoke test: runs the command under test as real
 * processes with bounded waits, remembers every pid it started (or learnt of), and kills
 * what is left by pid at the end. Deno APIs only (no shell), so it works on Windows too.
 *
 * @module
 */

const WINDOWS = Deno.build.os === "windows";

/** What a finished run printed, and how it ended. */
export interface Finished {
  code: number;
  stdout: string;
  stderr: string;
}

/** Pids to kill at the end unless they exited: started here, or learnt (deployed children). */
const pids = new Set<number>();

/** Remembers a pid for {@linkcode killAll} (a process this script did not start directly). */
export function track(pid: number): void {
  pids.add(pid);
}

/** Kills every remembered process that may still run, by pid. */
export function killAll(): void {
  for (const pid of pids) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // exited already
    }
  }
  pids.clear();
}

/** Ports free right now (all bound at once, then released). */
export function freePorts(count: number): number[] {
  const listeners = Array.from(
    { length: count },
    () => Deno.listen({ hostname: "127.0.0.1", port: 0 }),
  );
  const ports = listeners.map((l) => (l.addr as Deno.NetAddr).port);
  for (const l of listeners) l.close();
  return ports;
}

/** A long-running process with its output collected line by line. */
export class Running {
  /** Every line, stdout and stderr interleaved as they came. */
  readonly lines: string[] = [];
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<number>;
  readonly #child: Deno.ChildProcess;
  #code?: number;

  constructor(readonly program: string[], args: string[]) {
    this.#child = new Deno.Command(program[0], {
      args: [...program.slice(1), ...args],
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    track(this.#child.pid);
    const pumps = Promise.all([
      this.#collect(this.#child.stdout, this.stdout),
      this.#collect(this.#child.stderr, this.stderr),
    ]);
    this.exited = Promise.all([this.#child.status, pumps]).then(([status]) => {
      pids.delete(this.#child.pid);
      return this.#code = status.code;
    });
  }

  get pid(): number {
    return this.#child.pid;
  }

  async #collect(stream: ReadableStream<Uint8Array>, into: string[]): Promise<void> {
    let rest = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop()!;
      for (const line of parts) {
        const clean = line.replace(/\r$/, "");
        this.lines.push(clean);
        into.push(clean);
      }
    }
    if (rest) {
      this.lines.push(rest);
      into.push(rest);
    }
  }

  /** Waits (bounded) for a line that `match` maps to a value; fails if the process exits. */
  async waitFor<T>(what: string, match: (line: string) => T | undefined, ms: number): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      for (const line of this.lines) {
        const value = match(line);
        if (value !== undefined) return value;
      }
      if (this.#code !== undefined) {
        throw new Error(`exited (${this.#code}) before ${what}\n${this.tail()}`);
      }
      if (Date.now() > end) throw new Error(`no ${what} within ${ms} ms\n${this.tail()}`);
      await delay(50);
    }
  }

  /** The last lines printed, for failure reports. */
  tail(count = 15): string {
    return this.lines.slice(-count).map((l) => `    | ${l}`).join("\n");
  }

  /**
   * Asks the process to stop (SIGTERM; on Windows that is already a hard kill), waits up to
   * `ms`, then kills it. Resolves with the exit code.
   */
  async stop(ms = 15_000): Promise<number> {
    if (this.#code !== undefined) {
      throw new Error(`it had exited (${this.#code}) before it was asked to\n${this.tail()}`);
    }
    try {
      this.#child.kill("SIGTERM");
    } catch {
      // exited meanwhile
    }
    const late = Symbol();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([
      this.exited,
      new Promise<symbol>((r) => timer = setTimeout(() => r(late), ms)),
    ]);
    clearTimeout(timer);
    if (outcome !== late) return outcome as number;
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // exited meanwhile
    }
    await this.exited;
    throw new Error(`did not stop within ${ms} ms of SIGTERM; killed\n${this.tail()}`);
  }

  /** Whether a graceful exit code is expected from stop() on this OS. */
  static readonly gracefulStop = !WINDOWS;
}

/** Runs `program args…` to completion, killed (and failed) after `ms`. */
export async function run(program: string[], args: string[], ms = 30_000): Promise<Finished> {
  const process = new Running(program, args);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((r) => timer = setTimeout(() => r("late"), ms));
  const outcome = await Promise.race([process.exited, late]);
  clearTimeout(timer);
  if (outcome === "late") {
    await process.stop(1000).catch(() => {});
    throw new Error(`${args.join(" ")}: no exit within ${ms} ms\n${process.tail()}`);
  }
  return { code: outcome, stdout: process.stdout.join("\n"), stderr: process.stderr.join("\n") };
}

/** Resolves after `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A native path inside a directory (Windows separators where needed). */
export function join(dir: string, name: string): string {
  return `${dir}${WINDOWS ? "\\" : "/"}${name}`;
}

/**
 * Runs the server under fuzz as a child process: starts it, learns its addresses, reads
 * its resident memory, keeps the last lines it logged, and notices when it exits.
 *
 * @module
 */

/** Where the child listens. */
export interface ServerInfo {
  http: string;
  tcpPort: number;
  amqp: string | null;
  pid: number;
}

/** A running server child. */
export class ServerChild {
  readonly info: ServerInfo;
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  /** Set once the process has exited (a crash, unless we stopped it). */
  exit?: Deno.CommandStatus;
  /** Lines logged to stderr, by first word (ERROR, WARN, other). */
  readonly logCounts = new Map<string, number>();
  /** The first ERROR lines, for the report. */
  readonly errors: string[] = [];
  /** The last stderr lines (a crash's stack trace ends up here). */
  readonly tail: string[] = [];
  readonly exited: Promise<Deno.CommandStatus>;

  private constructor(child: Deno.ChildProcess, info: ServerInfo, lines: AsyncIterator<string>) {
    this.#child = child;
    this.info = info;
    this.#stdin = child.stdin.getWriter();
    this.exited = child.status.then((status) => this.exit = status);
    void this.#readLog(child.stderr, lines);
  }

  /**
   * Starts the server (with AMQP when `amqp` is given) and waits for its addresses;
   * `entry` runs another server script of this folder, with its arguments.
   */
  static async start(
    amqp?: { url: string; prefix: string },
    entry: { script: string; args: string[] } = { script: "./server.ts", args: [] },
  ): Promise<ServerChild> {
    const args = ["run", "-A", new URL(entry.script, import.meta.url).pathname, ...entry.args];
    if (amqp) args.push(amqp.url, amqp.prefix);
    const child = new Deno.Command(Deno.execPath(), {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(splitLines())[
      Symbol.asyncIterator
    ]();
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    const first = await lines.next();
    clearTimeout(timer);
    if (first.done) {
      const log = await new Response(child.stderr).text();
      throw new Error(`the fuzz server exited before listening:\n${log.slice(-3000)}`);
    }
    return new ServerChild(child, JSON.parse(first.value), lines);
  }

  async #readLog(stderr: ReadableStream<Uint8Array>, stdout: AsyncIterator<string>): Promise<void> {
    void (async () => {
      while (!(await stdout.next()).done) { /* drain */ }
    })();
    for await (
      const line of stderr.pipeThrough(new TextDecoderStream()).pipeThrough(splitLines())
    ) {
      const word = /^(ERROR|WARN)\b/.exec(line)?.[1] ?? "other";
      this.logCounts.set(word, (this.logCounts.get(word) ?? 0) + 1);
      if (word === "ERROR" && this.errors.length < 20) this.errors.push(line.slice(0, 600));
      this.tail.push(line.slice(0, 600));
      if (this.tail.length > 30) this.tail.shift();
    }
  }

  /** Resident memory of the server process in KiB (VmRSS), or undefined once it is gone. */
  rssKiB(): number | undefined {
    try {
      const status = Deno.readTextFileSync(`/proc/${this.info.pid}/status`);
      const m = /VmRSS:\s+(\d+) kB/.exec(status);
      return m ? Number(m[1]) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Stops the server: closes its stdin, then kills it if it does not exit in time. */
  async stop(): Promise<void> {
    if (this.exit) return;
    await this.#stdin.close().catch(() => {});
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), 5_000);
    await this.exited;
    clearTimeout(timer);
  }

  /** Kills a hung server at once. */
  async kill(): Promise<void> {
    if (this.exit) return;
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await this.exited;
  }
}

function splitLines(): TransformStream<string, string> {
  let rest = "";
  return new TransformStream({
    transform(chunk, controller) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop()!;
      for (const p of parts) controller.enqueue(p);
    },
    flush(controller) {
      if (rest) controller.enqueue(rest);
    },
  });
}

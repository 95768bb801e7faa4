/**
 * Real processes for the distribution tests: run a command to completion, or start a
 * `switchboard serve` and wait (bounded) for the addresses it prints.
 *
 * @module
 */

/** What a finished command printed. */
export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of {@linkcode run} and {@linkcode serve}. */
export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Give up (and kill the process) after this long; default 180 s. */
  timeoutMs?: number;
}

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** Runs a command to completion (bounded), without a terminal. */
export async function run(command: string, args: string[], options: RunOptions = {}): Promise<Ran> {
  const child = new Deno.Command(command, {
    args,
    cwd: options.cwd,
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 180_000);
  try {
    const { code, stdout, stderr } = await child.output();
    return { code, stdout: decode(stdout), stderr: decode(stderr) };
  } finally {
    clearTimeout(timer);
  }
}

/** A running server process. */
export interface Serving {
  /** Its process id. */
  pid: number;
  /** The `http://` address it printed, if it listens on HTTP. */
  http?: string;
  /** The `tcp://` address it printed, if it listens on TCP. */
  tcp?: string;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Sends SIGTERM to its PID and waits for it to end (SIGKILL after 10 s). */
  stop(): Promise<{ code: number; output: string }>;
}

/**
 * Starts a `serve` command and waits until it printed every address it was asked for
 * (`listening on http://…` / `tcp://…`), at most `timeoutMs` (default 120 s: a first run
 * may download its dependencies).
 */
export async function serve(
  command: string,
  args: string[],
  want: { http: boolean; tcp: boolean },
  options: RunOptions = {},
): Promise<Serving> {
  const child = new Deno.Command(command, {
    args,
    cwd: options.cwd,
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const found: { http?: string; tcp?: string } = {};
  const ready = Promise.withResolvers<void>();
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      found.http ??= /listening on (http:\/\/\S+)/.exec(text)?.[1];
      found.tcp ??= /listening on (tcp:\/\/\S+)/.exec(text)?.[1];
      if ((!want.http || found.http) && (!want.tcp || found.tcp)) ready.resolve();
    }
  };
  const drained = Promise.all([collect(child.stdout), collect(child.stderr)]);
  const stop = async () => {
    try {
      Deno.kill(child.pid, "SIGTERM");
    } catch { /* already gone */ }
    const force = setTimeout(() => child.kill("SIGKILL"), 10_000);
    const status = await child.status;
    clearTimeout(force);
    await drained;
    return { code: status.code, output: text };
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const gaveUp = new Promise<never>((_, reject) => {
    const ms = options.timeoutMs ?? 120_000;
    timer = setTimeout(() => reject(new Error(`no listening line in ${ms} ms:\n${text}`)), ms);
  });
  const exited = child.status.then((s) => {
    throw new Error(`exited with ${s.code} before listening:\n${text}`);
  });
  try {
    await Promise.race([ready.promise, gaveUp, exited]);
  } catch (error) {
    await stop();
    throw error;
  } finally {
    clearTimeout(timer);
    exited.catch(() => {});
  }
  return { pid: child.pid, ...found, output: () => text, stop };
}

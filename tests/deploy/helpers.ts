// Shared by the deployment tests: free ports, deployment files with fresh ports, and a
// `switchboard deploy` subprocess with its output collected.

import type { DeploymentStatus } from "../../src/deploy/status.ts";
import { readStatusToken } from "../../src/deploy/status_token.ts";

export const MAIN = new URL("../../main.ts", import.meta.url).pathname;

import { freePorts } from "../../scripts/smoke/processes.ts";

export { freePorts };

/**
 * Copies a deployment file into a temp dir with every `127.0.0.1:PORT` moved to a free
 * port (the same old port always maps to the same new one) and component paths made
 * absolute. `edit` may change the parsed file further.
 */
export async function materialize(
  source: URL,
  edit: (value: Record<string, unknown>) => void = () => {},
): Promise<
  { path: string; port: (old: number) => number; dir: string; value: Record<string, unknown> }
> {
  const text = await Deno.readTextFile(source);
  const olds = [...new Set([...text.matchAll(/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1])))];
  const news = freePorts(olds.length);
  const map = new Map(olds.map((o, i) => [o, news[i]]));
  const moved = text.replace(/127\.0\.0\.1:(\d+)/g, (_, p) => `127.0.0.1:${map.get(Number(p))}`);
  const value = JSON.parse(moved);
  delete value.$schema;
  for (const proc of Object.values(value.processes) as { components?: string[] }[]) {
    proc.components = proc.components?.map((c) => new URL(c, source).href);
  }
  edit(value);
  const dir = await Deno.makeTempDir({ prefix: "switchboard-deploy-" });
  const path = `${dir}/deployment.json`;
  await Deno.writeTextFile(path, JSON.stringify(value, null, 2));
  return {
    path,
    dir,
    value,
    port: (old) => {
      const port = map.get(old);
      if (port === undefined) throw new Error(`the file has no port ${old}`);
      return port;
    },
  };
}

/** Polls until `test` passes (bounded), returning its value. */
export async function until<T>(
  what: string,
  test: () => Promise<T | undefined> | T | undefined,
  timeout = 30_000,
): Promise<T> {
  const end = Date.now() + timeout;
  for (;;) {
    const value = await test();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A running `switchboard deploy FILE`. */
export interface RunningDeploy {
  /** The supervisor's pid. */
  pid: number;
  /** Every output line so far (stdout and stderr). */
  lines: string[];
  /** GET /status, or undefined while it does not answer. */
  status(): Promise<DeploymentStatus | undefined>;
  /** Resolves once every process is running. */
  ready(): Promise<DeploymentStatus>;
  /** Sends `signal` (default SIGTERM), then resolves with the exit code. */
  stop(signal?: Deno.Signal): Promise<number>;
  /** The exit code, once it exits by itself. */
  exited: Promise<number>;
}

async function collect(stream: ReadableStream<Uint8Array>, lines: string[]) {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop()!;
    lines.push(...parts);
  }
  if (rest) lines.push(rest);
}

/** Runs `switchboard deploy ARGS…` with output collected. */
export function deploy(args: string[], env: Record<string, string> = {}): RunningDeploy {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "deploy", ...args],
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const pumps = Promise.all([collect(child.stdout, lines), collect(child.stderr, lines)]);
  const exited = Promise.all([child.status, pumps]).then(([s]) => s.code);
  const file = args[args.length - 1];
  let statusUrl: string | undefined;
  const status = async () => {
    if (!statusUrl) {
      const value = JSON.parse(await Deno.readTextFile(file));
      statusUrl = `http://${value.status}/status`;
    }
    try {
      const { hostname, port } = new URL(statusUrl);
      const token = await readStatusToken({ hostname, port: Number(port) });
      if (!token) return undefined;
      const response = await fetch(statusUrl, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(5000),
      });
      if (!response.ok) {
        await response.body?.cancel();
        return undefined;
      }
      return await response.json() as DeploymentStatus;
    } catch {
      return undefined;
    }
  };
  return {
    pid: child.pid,
    lines,
    status,
    exited,
    ready: () =>
      until("every process to be running", async () => {
        const s = await status();
        return s?.processes.every((p) => p.state === "running") ? s : undefined;
      }, 60_000).catch((error) => {
        throw new Error(`${error.message}\n${lines.join("\n")}`);
      }),
    stop: async (signal: Deno.Signal = "SIGTERM") => {
      try {
        child.kill(signal);
      } catch {
        // already exited
      }
      return await exited;
    },
  };
}

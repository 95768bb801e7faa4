/**
 * The benchmark's processes: starting a server (pinned to its core) and reading its port
 * line, and what /proc says about it (CPU time, peak and current RSS).
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { stopChild } from "./stop_child.ts";

/** The repository's root (servers run from there, so deno.json's imports apply). */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** The directory of the benchmark's scripts. */
export const HERE = fileURLToPath(new URL("./", import.meta.url));
/** The Node peers and generators (`peers/package.json`). */
export const PEERS = `${HERE}peers`;

/** The core every measured server runs on. */
export const SERVER_CPU = "0";
/** The core of every load generator (wrk, the Node clients, this process). */
export const GENERATOR_CPU = "1";

/** A server process under benchmark. */
export interface Running {
  pid: number;
  ports: { http?: number; tcp?: number | null; grpc?: number };
  stop(): Promise<void>;
}

/** Whether `command` is on PATH. */
export async function has(command: string): Promise<boolean> {
  try {
    const { success } = await new Deno.Command("sh", {
      args: ["-c", `command -v ${command}`],
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}

/** `argv` run on the load generators' core, when pinning. */
export function onGeneratorCpu(argv: string[], pin: boolean): string[] {
  return pin ? ["taskset", "-c", GENERATOR_CPU, ...argv] : argv;
}

/** A `deno run` of one of the benchmark's scripts. */
export function deno(script: string): string[] {
  return [Deno.execPath(), "run", "-A", "--quiet", `${HERE}${script}`];
}

/** The ports a server announced on stdout so far, or undefined while it has not. */
export type ReadyLine = (stdout: string) => Running["ports"] | undefined;

/** The benchmark's own servers' announcement: a first stdout line of JSON with the ports. */
export const jsonPorts: ReadyLine = (stdout) =>
  stdout.includes("\n") ? JSON.parse(stdout.split("\n")[0]) : undefined;

/** Starts a server and waits for `ready` to find its ports on its stdout. */
export async function start(
  cmd: string[],
  pin: boolean,
  ready: ReadyLine = jsonPorts,
): Promise<Running> {
  const argv = pin ? ["taskset", "-c", SERVER_CPU, ...cmd] : cmd;
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const draining = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (s) => void (stderr = (stderr + s).slice(-4000)) }),
  ).catch(() => {});
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  let ports: Running["ports"] | undefined;
  const timeout = setTimeout(() => child.kill("SIGKILL"), 30_000);
  try {
    while (!(ports = ready(text))) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`${cmd.join(" ")} exited before listening:\n${stderr}`);
      text += value;
    }
  } finally {
    clearTimeout(timeout);
  }
  // Keep draining stdout so the server never blocks on a full pipe.
  (async () => {
    try {
      while (!(await reader.read()).done) { /* discard */ }
    } catch { /* closed */ }
  })();
  return {
    pid: child.pid,
    ports,
    async stop() {
      await stopChild(child);
      await draining;
    },
  };
}

/** Resets the process's peak RSS (Linux `clear_refs` 5), so each cell has its own peak. */
export function resetPeak(pid: number): void {
  try {
    Deno.writeTextFileSync(`/proc/${pid}/clear_refs`, "5");
  } catch { /* not Linux, or not allowed: the peak is then the process's lifetime peak */ }
}

const CLOCK_TICKS = (() => {
  try {
    const out = new Deno.Command("getconf", { args: ["CLK_TCK"] }).outputSync();
    return Number(new TextDecoder().decode(out.stdout)) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time (user + system) the process has used, in ms. */
export function cpuTime(pid: number): number {
  const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 1000 / CLOCK_TICKS;
}

/**
 * CPU time (user + system) of the process's threads, in ms, by what runs them: `main` the
 * main thread (the main isolate), `workers` the Web Worker threads (Deno names them
 * `worker-N`), `other` the rest (V8's GC and compiler threads, tokio's I/O threads).
 */
export function threadCpu(pid: number): { main: number; workers: number; other: number } {
  const out = { main: 0, workers: 0, other: 0 };
  for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
    try {
      const stat = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/stat`);
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const fields = stat.slice(stat.lastIndexOf(") ") + 2).split(" ");
      const ms = (Number(fields[11]) + Number(fields[12])) * 1000 / CLOCK_TICKS;
      if (task.name === String(pid)) out.main += ms;
      else if (/^worker-\d+$/.test(comm)) out.workers += ms;
      else out.other += ms;
    } catch { /* the thread ended */ }
  }
  return out;
}

/** VmHWM (peak) and VmRSS (current) in KiB. */
export function memory(pid: number): { peak: number; rss: number } {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const field = (name: string) => Number(new RegExp(`${name}:\\s*(\\d+)`).exec(status)?.[1]);
  return { peak: field("VmHWM"), rss: field("VmRSS") };
}

/** Pins this process (every thread: it runs the JavaScript generators) to the generators' core. */
export async function pinSelf(): Promise<void> {
  await new Deno.Command("taskset", {
    args: ["-a", "-p", "-c", GENERATOR_CPU, String(Deno.pid)],
    stdout: "null",
  }).output();
}

/** The 1-minute load average (how busy the machine was besides this run). */
export function loadAverage(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ")[0];
  } catch {
    return "unknown";
  }
}

/** Time the process's threads have waited, runnable, for a CPU (Linux schedstat), in ms. */
function runQueueWait(pid: number): number {
  let ns = 0;
  for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/schedstat`).split(" ")[1]);
    } catch { /* the thread ended */ }
  }
  return ns / 1e6;
}

/** A process's share of wall time over a window: on a CPU, and waiting for one. */
export interface Share {
  /** CPU time ÷ wall time (1 = one core busy all along). */
  busy: number;
  /** Time runnable but waiting for a CPU (taken by other processes) ÷ wall time. */
  wait: number;
}

/** Starts measuring `pid`'s share; the function returned ends the window and gives it. */
export function startShare(pid: number): () => Share | undefined {
  try {
    const cpu = cpuTime(pid), wait = runQueueWait(pid), at = performance.now();
    return () => {
      try {
        const wall = performance.now() - at;
        return { busy: (cpuTime(pid) - cpu) / wall, wait: (runQueueWait(pid) - wait) / wall };
      } catch {
        return undefined; // the process has ended
      }
    };
  } catch {
    return () => undefined; // not Linux, or the process has ended
  }
}

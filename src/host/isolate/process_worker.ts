/**
 * A component process as the host drives a worker: a child `deno run` of the component
 * entry with Deno's own permission flags (what the component was granted, nothing else)
 * and a V8 heap limit, spoken to over its stdin and stdout (see `process_shim.ts` for the
 * frames). A component that exhausts its heap ends its own process, which the host then
 * replaces, where in a Web Worker it would end the whole server.
 *
 * @module
 */

import { encodeFrame, readFrames } from "./frames.ts";
import type { WorkerPermissions } from "../grants/permissions.ts";
import { permissionFlags } from "../grants/permissions.ts";

/** Default heap limit of a component process, in MiB. */
export const DEFAULT_MAX_MEMORY_MB = 256;

const ENTRY = new URL("./process_entry.ts", import.meta.url);

/** The parts of a Web Worker the host uses, over a child process. */
export interface WorkerLike {
  /** Sends a message to the component. */
  postMessage(message: unknown): void;
  /** Messages from the component. */
  onmessage: ((event: MessageEvent) => void) | null;
  /** The component ended unexpectedly (a crash, the heap limit, a signal). */
  onerror: ((event: ErrorEvent) => void) | null;
  /** Ends it at once. */
  terminate(): void;
}

/** Options of a component process. */
export interface ProcessOptions {
  /** What the component may access. */
  permissions?: WorkerPermissions;
  /** Its V8 heap limit in MiB (default {@linkcode DEFAULT_MAX_MEMORY_MB}). */
  maxMemoryMb?: number;
  /** A name for messages. */
  name: string;
}

/** The command line of a component process (exported for tests and error messages). */
export function processCommand(options: ProcessOptions): { command: string; args: string[] } {
  if ((Deno.build as { standalone?: boolean }).standalone) {
    // A compiled binary runs with the permissions it was compiled with: it cannot narrow
    // them for a child, so it refuses rather than run the component with all of them.
    throw new Error(
      "--isolate process needs `deno run` (a compiled binary cannot narrow a child's " +
        "permissions); use --isolate worker",
    );
  }
  const config = new URL("../../../deno.json", import.meta.url);
  const args = [
    "run",
    "--quiet",
    "--no-prompt",
    ...(config.protocol === "file:" ? ["--config", config.pathname] : []),
    "--unstable-worker-options",
    `--v8-flags=--max-old-space-size=${options.maxMemoryMb ?? DEFAULT_MAX_MEMORY_MB}`,
    ...permissionFlags(options.permissions),
    ENTRY.href,
  ];
  return { command: Deno.execPath(), args };
}

/** The environment a component process gets: what Deno needs, and what it was granted. */
function environment(permissions: WorkerPermissions = {}): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1" };
  // Deno finds its module cache through these.
  for (const name of ["HOME", "DENO_DIR", "XDG_CACHE_HOME", "PATH"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  const granted = permissions.env;
  if (granted === true) Object.assign(env, Deno.env.toObject());
  else if (Array.isArray(granted)) {
    for (const name of granted) {
      const value = Deno.env.get(name);
      if (value !== undefined) env[name] = value;
    }
  }
  return env;
}

/** Starts a component process. */
export function startProcess(options: ProcessOptions): WorkerLike {
  const { command, args } = processCommand(options);
  const child = new Deno.Command(command, {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
    clearEnv: true,
    env: environment(options.permissions),
  }).spawn();
  const writer = child.stdin.getWriter();
  let terminated = false;
  let writing = Promise.resolve();
  const worker: WorkerLike = {
    onmessage: null,
    onerror: null,
    postMessage(message) {
      if (terminated) return;
      // Serialized now, so a value that cannot cross fails the caller, as in a worker.
      const frame = encodeFrame(message);
      writing = writing.then(() => writer.write(frame)).catch(() => {});
    },
    terminate() {
      if (terminated) return;
      terminated = true;
      try {
        child.kill("SIGKILL");
      } catch {
        // gone already
      }
      writer.close().catch(() => {});
    },
  };
  const ended = (message: string) => {
    if (terminated) return;
    terminated = true;
    const event = new ErrorEvent("error", { message });
    worker.onerror?.(event);
  };
  // Frames from the process; anything unreadable ends it (only its own calls suffer).
  (async () => {
    try {
      await readFrames(child.stdout, (data) => {
        if (!terminated) worker.onmessage?.(new MessageEvent("message", { data }));
      });
    } catch (error) {
      ended(`its output could not be read (${error instanceof Error ? error.message : error})`);
      worker.terminate();
    }
  })();
  child.status.then((status) => {
    ended(
      status.signal
        ? `${options.name} ended by ${status.signal}` +
          (status.signal === "SIGTRAP" || status.signal === "SIGABRT"
            ? " (out of memory? its heap limit is " +
              `${options.maxMemoryMb ?? DEFAULT_MAX_MEMORY_MB} MiB)`
            : "")
        : `${options.name} exited with status ${status.code}`,
    );
  });
  return worker;
}

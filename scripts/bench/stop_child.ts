/**
 * Stops a benchmark's child process: SIGTERM, then SIGKILL if it is still there after
 * `graceMs`; resolves once it has exited.
 *
 * @module
 */

/** Stops `child` (see the module doc). */
export async function stopChild(child: Deno.ChildProcess, graceMs = 3000): Promise<void> {
  const kill = (signal: Deno.Signal) => {
    try {
      child.kill(signal);
    } catch { /* gone */ }
  };
  kill("SIGTERM");
  const timer = setTimeout(() => kill("SIGKILL"), graceMs);
  await child.status;
  clearTimeout(timer);
}

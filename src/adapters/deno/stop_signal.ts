/**
 * The stop signal of a server process.
 *
 * @module
 */

/**
 * Listens for SIGINT and SIGTERM now; resolves on the first one, after saying that
 * in-flight calls are being finished. Later signals are ignored: the first one already
 * started the drain (a terminal's Ctrl-C can reach a process twice, directly and
 * forwarded by a supervisor).
 */
export function stopSignal(): Promise<void> {
  return new Promise((resolve) => {
    let once = false;
    const stop = () => {
      if (once) return;
      once = true;
      console.log("shutting down: finishing in-flight calls");
      resolve();
    };
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
  });
}

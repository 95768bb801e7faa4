/**
 * Whether listeners can share a port here (`SO_REUSEPORT`, the kernel spreading connections
 * among them), as `serve --workers` needs.
 *
 * @module
 */

/**
 * Why several listeners cannot share a port in this process, or undefined when they can.
 * Deno ignores `reusePort` off Linux (a second listener would then fail to bind), and refuses
 * it without `--unstable-net` by exiting the process; so both are read first, not tried.
 */
export function reusePortRefusal(): string | undefined {
  if (Deno.build.os !== "linux") {
    return `sharing a port among workers (SO_REUSEPORT) works on Linux only, not ${Deno.build.os}`;
  }
  // Present only when the net unstable APIs, reusePort among them, are enabled.
  if (typeof (Deno as unknown as { listenDatagram?: unknown }).listenDatagram !== "function") {
    return "sharing a port among workers (SO_REUSEPORT) needs Deno's --unstable-net flag";
  }
  return undefined;
}

/**
 * How the supervisor talks to the processes it starts: the environment variable naming
 * the process, and the line a process prints once it serves. The plan and the secret
 * travel on the child's stdin (see `handoff.ts`), never in its environment.
 *
 * @module
 */

/** The name of the process being started. */
export const PROCESS_ENV = "SWITCHBOARD_PROCESS";
/** A process prints this (then details) on stdout once every listener is up. */
export const READY_MARKER = "switchboard: ready";

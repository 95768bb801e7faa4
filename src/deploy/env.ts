/**
 * How the supervisor talks to the processes it starts: environment variable names and
 * the line a process prints once it serves.
 *
 * @module
 */

/** The plan (JSON) every process of a deployment receives. */
export const PLAN_ENV = "SWITCHBOARD_PLAN";
/** The deployment's shared secret (fresh per run); removed from the env once read. */
export const SECRET_ENV = "SWITCHBOARD_SECRET";
/** The name of the process being started. */
export const PROCESS_ENV = "SWITCHBOARD_PROCESS";
/** A process prints this (then details) on stdout once every listener is up. */
export const READY_MARKER = "switchboard: ready";

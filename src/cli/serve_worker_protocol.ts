/**
 * The messages between `serve --workers N`'s main isolate and its worker isolates.
 *
 * @module
 */

import type { Identity, Outcome } from "../core/context.ts";
import type { ForwardedCall } from "./serve_once.ts";
import type { Plan } from "../deploy/plan.ts";
import type { SupervisorMessage } from "../deploy/liveness.ts";

/** Ports a worker binds (the first worker's, so that every worker shares them). */
export interface WorkerPorts {
  http?: number;
  tcp?: number;
}

/** Main isolate → worker. */
export type ToWorker =
  /**
   * Serve these `serve` flags; `announce`: send the startup lines (the first start only);
   * `library`: the module to import first, which provides Switchboard to components.
   */
  | {
    t: "start";
    args: string[];
    index: number;
    ports?: WorkerPorts;
    announce: boolean;
    library?: string;
  }
  /** Serve process `name` of a deployment (`"workers"`), with these `serve` flags. */
  | {
    t: "deploy";
    args: string[];
    plan: Plan;
    name: string;
    secret: string;
    index: number;
    announce: boolean;
    library?: string;
  }
  /** What the supervisor says of the deployment's other processes. */
  | { t: "liveness"; message: SupervisorMessage }
  /** Answer `pong` (the main isolate restarts a worker that stops answering). */
  | { t: "ping" }
  /** Answer `collected` with this worker's metrics text. */
  | { t: "collect"; id: number }
  /** The answer to the worker's `ask`. */
  | { t: "reply"; id: number; status: number; type: string; body: string }
  /** A call another worker published: hand it to this worker's subscribers. */
  | { t: "deliver"; call: Published }
  /**
   * (To the first worker) dispatch a call of a `once` implementation, from worker `from`;
   * answer `outcome`.
   */
  | { t: "forward"; id: number; from: number; call: ForwardedCall }
  /** The outcome of this worker's `call`. */
  | { t: "answer"; id: number; outcome: Outcome }
  /** (To the first worker) the outcome of its `peer-call` (id 0: a notification). */
  | { t: "peer-answer"; id: number; outcome: Outcome }
  /**
   * Call peer `peer` back: through forwarded call `forward`'s own connection while that call
   * runs here, else through this worker's connection of that peer id; answer `peer-answer`,
   * `absent` when this worker has no such peer.
   */
  | { t: "peer-call"; id: number; forward?: number; peer: string; call: PeerCall }
  /** Drain every listener, then answer `stopped`. */
  | { t: "stop" };

/** Worker → main isolate. */
export type FromWorker =
  | { t: "ready"; ports: WorkerPorts }
  | { t: "failed"; name: string; message: string }
  /** A batch of whole access-log lines. */
  | { t: "log"; bytes: Uint8Array }
  /** A startup line (`listening on …`). */
  | { t: "say"; line: string }
  | { t: "pong" }
  | { t: "collected"; id: number; text: string }
  /** `GET /metrics` or `/healthz` reached this worker: the main isolate answers for all. */
  | { t: "ask"; id: number; what: "metrics" | "health" }
  /** A call of a `once` implementation, for the first worker. */
  | { t: "call"; id: number; call: ForwardedCall }
  /** The outcome of a `forward`. */
  | { t: "outcome"; id: number; outcome: Outcome }
  /**
   * (From the first worker) call back peer `peer` of a forwarded call from worker `worker`
   * (`forward`: the main isolate's id of that call); id 0: a notification.
   */
  | {
    t: "peer-call";
    id: number;
    worker: number;
    forward: number;
    peer: string;
    call: PeerCall;
  }
  /** (From any worker) the outcome of a `peer-call`, or that it has no such peer. */
  | { t: "peer-answer"; id: number; outcome: Outcome }
  | { t: "peer-absent"; id: number }
  /** A call published on this worker, for the other workers' subscribers. */
  | { t: "publish"; call: Published }
  | { t: "stopped" };

/** A server → peer call, as it travels between workers. */
export interface PeerCall {
  method: string;
  params: unknown;
  /** A notification: no answer is wanted. */
  notify?: boolean;
}

/** A published call, as it travels between workers. */
export interface Published {
  topic: string;
  method: string;
  params: unknown;
  caller?: Identity;
}

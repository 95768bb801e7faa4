/**
 * Which load generator drives which cell. HTTP cells: `wrk` (one thread, N connections) where
 * installed, else the JavaScript one of `load.ts`. msgpack-rpc cells: the Node + msgpackr
 * client `peers/msgpack_load.js` where the peers are installed, else `load.ts`. gRPC cells:
 * @grpc/grpc-js's own client (`peers/grpc_load.js`). Every generator but `load.ts` (which
 * runs in this process, pinned with it) runs on the generators' core.
 *
 * @module
 */

import { type CellResult, checkHttpAnswer, runHttpCell, runTcpCell, type Timing } from "./load.ts";
import { runWrkCell } from "./wrk.ts";
import { runChildGenerator } from "./child_generator.ts";
import {
  ADD,
  type BenchMethod,
  JSON_BODIES,
  MSGPACK_TAILS,
  ORDER,
  XML_BODIES,
} from "./workload.ts";
import { GENERATOR_CPU, PEERS, type Running } from "./processes.ts";

/** One load: connections, and calls in flight on each. */
export interface Load {
  label: string;
  connections: number;
  depth: number;
}

/** Runs one cell against a started server (whose process is `pid`). */
export type Cell = (
  ports: Running["ports"],
  method: BenchMethod,
  load: Load,
  timing: Timing,
  pid?: number,
) => Promise<CellResult>;

/** The generators available on this machine. */
export interface Generators {
  /** `wrk` is on PATH. */
  wrk: boolean;
  /** Node and the peers (msgpackr) are installed. */
  node: boolean;
  /** Generators go on their own core. */
  pin: boolean;
  /** Unpinned, the CPUs they may use all the same (`0-1`: undoes an affinity inherited). */
  cpus?: string;
  /** The native msgpack-rpc generator (peers/msgpack_load.c), built, for `add` cells. */
  native?: string;
}

const pinned = (g: Generators) =>
  g.pin ? ["taskset", "-c", GENERATOR_CPU] : g.cpus ? ["taskset", "-c", g.cpus] : [];

/** What drives the HTTP cells, for the report. */
export function httpGeneratorName(g: Generators): string {
  return g.wrk ? "wrk (1 thread)" : "load.ts (Deno, raw HTTP/1.1)";
}

/** What drives the msgpack-rpc cells, for the report. */
export function tcpGeneratorName(g: Generators): string {
  if (g.native) return "C, one epoll thread (peers/msgpack_load.c)";
  return g.node ? "Node + msgpackr (peers/msgpack_load.js)" : "load.ts (Deno, raw msgpack-rpc)";
}

/** An HTTP cell: JSON-RPC or XML-RPC bodies POSTed to `path`. */
export function httpCell(path: string, format: "json" | "xml", g: Generators): Cell {
  const contentType = format === "json" ? "application/json" : "text/xml";
  return (ports, method, load, timing) => {
    const body = format === "json" ? JSON_BODIES[method] : XML_BODIES[method];
    if (g.wrk) {
      return runWrkCell({
        ...timing,
        port: ports.http!,
        path,
        contentType,
        body,
        connections: load.connections,
        pinned: pinned(g),
        check: (status, answer) => checkHttpAnswer({ format, method }, status, answer),
      });
    }
    return runHttpCell({
      ...timing,
      port: ports.http!,
      path,
      format,
      contentType,
      body,
      method,
      callers: load.connections,
    });
  };
}

/** A msgpack-rpc cell: `connections` connections with `depth` calls in flight on each. */
export function tcpCell(g: Generators): Cell {
  return (ports, method, load, timing) => {
    if (g.native && method === "add") {
      return runChildGenerator([...pinned(g), g.native], {
        port: ports.tcp,
        connections: load.connections,
        depth: load.depth,
        warmupMs: timing.warmupMs,
        durationMs: timing.durationMs,
        tail: btoa(String.fromCharCode(...MSGPACK_TAILS[method])),
        expected: ADD.sum,
      }, timing);
    }
    if (!g.node) {
      return runTcpCell({
        ...timing,
        port: ports.tcp!,
        method,
        connections: load.connections,
        depth: load.depth,
      });
    }
    const cell = {
      port: ports.tcp,
      method,
      connections: load.connections,
      depth: load.depth,
      warmupMs: timing.warmupMs,
      durationMs: timing.durationMs,
      tail: btoa(String.fromCharCode(...MSGPACK_TAILS[method])),
      expected: method === "add" ? ADD.sum : ORDER,
    };
    return runChildGenerator([...pinned(g), "node", `${PEERS}/msgpack_load.js`], cell, timing);
  };
}

/** A gRPC cell, driven by @grpc/grpc-js's own client under Node. */
export function grpcCell(g: Generators): Cell {
  return (ports, method, load, timing) =>
    runChildGenerator([...pinned(g), "node", `${PEERS}/grpc_load.js`], {
      port: ports.grpc,
      method,
      connections: load.connections,
      depth: load.depth,
      warmupMs: timing.warmupMs,
      durationMs: timing.durationMs,
      order: ORDER,
    }, timing);
}

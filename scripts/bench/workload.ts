/**
 * The benchmark's workload, shared by every server and the load generator: the trivial
 * `add(a, b)` and the `payload(order)` echo of a ~1 KB struct holding a list of 50 items,
 * with their request bodies in each wire format (built once, byte-identical for every
 * server of a protocol).
 *
 * @module
 */

import { pack } from "msgpackr";

/** One line of an order. */
export interface Item {
  /** Stock-keeping unit. */
  sku: string;
  /** Quantity ordered. */
  qty: number;
}

/** The payload struct: ~1.1 KB as JSON, 50 items. */
export interface Order {
  /** Order number. */
  id: number;
  /** Who ordered. */
  customer: string;
  /** Whether it ships first. */
  express: boolean;
  /** Total price. */
  total: number;
  /** The 50 lines. */
  items: Item[];
}

/** The methods every server implements. */
export type BenchMethod = "add" | "payload";

/** The order every payload call sends (and expects back). */
export const ORDER: Order = {
  id: 4217,
  customer: "Ada Lovelace",
  express: true,
  total: 1234.5,
  items: Array.from({ length: 50 }, (_, i) => ({
    sku: `S-${String(i).padStart(4, "0")}`,
    qty: (i * 7) % 13 + 1,
  })),
};

/** Operands of every `add` call, and the expected sum. */
export const ADD = { a: 20, b: 22, sum: 42 } as const;

/** JSON-RPC request bodies (named params, constant id: the servers never see a difference). */
export const JSON_BODIES: Record<BenchMethod, string> = {
  add: JSON.stringify({
    jsonrpc: "2.0",
    id: 1,
    method: "Bench.add",
    params: { a: ADD.a, b: ADD.b },
  }),
  payload: JSON.stringify({
    jsonrpc: "2.0",
    id: 1,
    method: "Bench.payload",
    params: { order: ORDER },
  }),
};

function xmlValue(value: unknown): string {
  if (typeof value === "number") {
    return Number.isInteger(value) ? `<int>${value}</int>` : `<double>${value}</double>`;
  }
  if (typeof value === "boolean") return `<boolean>${value ? 1 : 0}</boolean>`;
  if (typeof value === "string") return `<string>${value}</string>`;
  if (Array.isArray(value)) {
    return `<array><data>${
      value.map((v) => `<value>${xmlValue(v)}</value>`).join("")
    }</data></array>`;
  }
  const members = Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => `<member><name>${k}</name><value>${xmlValue(v)}</value></member>`);
  return `<struct>${members.join("")}</struct>`;
}

function xmlCall(method: string, params: unknown[]): string {
  const ps = params.map((p) => `<param><value>${xmlValue(p)}</value></param>`).join("");
  return `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>${ps}</params></methodCall>`;
}

/** XML-RPC request bodies (positional params, as XML-RPC has no names). */
export const XML_BODIES: Record<BenchMethod, string> = {
  add: xmlCall("Bench.add", [ADD.a, ADD.b]),
  payload: xmlCall("Bench.payload", [ORDER]),
};

/**
 * msgpack-rpc requests without their id: `[0, id, method, params]` is sent as the array
 * header, `0`, the id as a fixed-width uint32 (0xce) patched per call, then these bytes.
 */
export const MSGPACK_TAILS: Record<BenchMethod, Uint8Array> = {
  add: concat(pack("Bench.add"), pack([ADD.a, ADD.b])),
  payload: concat(pack("Bench.payload"), pack([ORDER])),
};

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** Whether a decoded result is the right answer to a method's call. */
export function isExpected(method: BenchMethod, result: unknown): boolean {
  if (method === "add") return result === ADD.sum;
  const order = result as Order | undefined;
  return typeof order === "object" && order !== null && order.id === ORDER.id &&
    Array.isArray(order.items) && order.items.length === 50 &&
    order.items[49].sku === ORDER.items[49].sku && order.total === ORDER.total;
}

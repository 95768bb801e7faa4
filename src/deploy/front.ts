/**
 * The unified front: one router holding, for every public method of every public
 * interface, an entry that forwards the call to wherever the interface lives. Params are
 * validated at the front (bad input never crosses the deployment) and results again on
 * the way back; private methods are simply not there.
 *
 * @module
 */

import type { InterfaceDef } from "../core/idl/interface.ts";
import type { ClientLike } from "../core/context.ts";
import { type Handlers, implement, type Implementation } from "../core/implement.ts";

/** The interface cut down to its public methods (undefined when none is public). */
export function publicPart(iface: InterfaceDef): InterfaceDef | undefined {
  const methods = Object.fromEntries(
    Object.entries(iface.methods).filter(([, def]) => def.public),
  );
  if (Object.keys(methods).length === 0) return undefined;
  return { name: iface.name, methods, doc: iface.doc };
}

/**
 * An implementation of `iface` whose handlers forward each call through `client`,
 * keeping the caller's deadline and cancellation. A streamed result or param is forwarded
 * as a stream, item by item: the process behind gets credit only as the caller reads, and a
 * caller's cancel reaches its generator.
 */
export function forwarding(iface: InterfaceDef, client: ClientLike): Implementation {
  const handlers: Record<string, Handlers<InterfaceDef>[string]> = {};
  for (const [name, def] of Object.entries(iface.methods)) {
    const full = `${iface.name}.${name}`;
    // Declared idempotent: a balancer may retry it on another replica.
    const idempotent = def.idempotent ? { idempotent: true } : {};
    const streamParams = Object.values(def.params).some((type) => type.kind === "stream");
    const stream = def.result.kind === "stream" ? { stream: true } : {};
    handlers[name] = (params, ctx) => {
      const options = {
        ...idempotent,
        ...stream,
        signal: ctx.signal,
        ...(ctx.deadline === undefined ? {} : { timeout: Math.max(1, ctx.deadline - Date.now()) }),
      };
      // Only the typed proxy sends stream params as streams (it knows which they are); it
      // opens a streamed result on its first read, where a call is answered (or refused) now.
      if (streamParams) return client.proxy(iface)[name](params as never, options);
      return client.call(full, params, options);
    };
  }
  return implement(iface, handlers as Handlers<InterfaceDef>);
}

/** Forwarding implementations of the public methods of `interfaces`. */
export function frontImplementations(
  interfaces: readonly InterfaceDef[],
  client: ClientLike,
): Implementation[] {
  const impls: Implementation[] = [];
  for (const iface of interfaces) {
    const part = publicPart(iface);
    if (part) impls.push(forwarding(part, client));
  }
  return impls;
}

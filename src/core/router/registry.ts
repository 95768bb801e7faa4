/**
 * The registry of a router: `Interface.method` → {@linkcode MethodEntry} (its handler,
 * compiled checks and limits), per permission domain, and the resolution of a method name
 * as a caller sent it.
 *
 * @module
 */

import { streamParamNames } from "../stream/params.ts";
import type { InterfaceDef, MethodDef } from "../idl/interface.ts";
import { compile, compileParams, type ParamsCheck } from "../idl/validate.ts";
import type { Check } from "../idl/validate.ts";
import { isJsonNative } from "../idl/signature.ts";
import { holdsFloat } from "../idl/floats.ts";
import type { Type } from "../idl/types.ts";
import { guarded, guardedParams } from "../idl/guard.ts";
import type { CallContext, Identity } from "../context.ts";
import type { Implementation } from "../implement.ts";
import { Limiter } from "./limiter.ts";

/** A registered method: its definition, handler and compiled checks. */
export interface MethodEntry {
  /** `Interface.method`. */
  readonly name: string;
  /** The interface it belongs to. */
  readonly iface: InterfaceDef;
  /** The method's own name. */
  readonly methodName: string;
  /** The declaration. */
  readonly def: MethodDef;
  /** The implementation serving it. */
  readonly impl: Implementation;
  /** The handler. */
  readonly handler: (params: never, ctx: CallContext) => unknown;
  /** Compiled params check. */
  readonly checkParams: ParamsCheck;
  /** Compiled result check. */
  readonly checkResult: Check;
  /** Whether results are plain JSON (lets codecs skip tagging work). */
  readonly plain: boolean;
  /** The result type when it holds `t.float` (see `Outcome.floats`). */
  readonly floats?: Type;
  /** Limits concurrent calls, outermost first (method limit, then implementation), if any. */
  readonly limiters: readonly Limiter[];
  /** Whether the implementation refuses this method to every caller (`deny`). */
  readonly denied: boolean;
  /** The names of its `t.stream` params, if any. */
  readonly streamParams?: readonly string[];
}

const DEFAULT_QUEUE = 1000;

/** How many resolved method names the registry remembers (compared one by one). */
const RECENT_NAMES = 4;

/** Method entries by name and domain, with the interfaces they belong to. */
export class Registry {
  /** Default-domain entries by `Interface.method`. */
  readonly #methods = new Map<string, MethodEntry>();
  /** Entries of other permission domains: domain → `Interface.method` → entry. */
  readonly #domains = new Map<string, Map<string, MethodEntry>>();
  readonly #interfaces = new Map<string, InterfaceDef>();
  /** Per-method limits by `Interface.method`: every domain's implementation shares them. */
  readonly #methodLimiters = new Map<string, Limiter>();
  #defaultInterface?: string;
  /**
   * Names recently resolved in the default domain, and their entries. A method name read
   * off the wire is a fresh string, and hashing it for a Map lookup costs several times
   * more than comparing it with a few recent names. `register` clears them.
   */
  #recentNames: string[] = [];
  #recentEntries: MethodEntry[] = [];
  #recentNext = 0;
  #generation = 0;
  /** Every interface registered, in every domain (same-named ones may differ in types). */
  readonly #registered: InterfaceDef[] = [];

  /** `defaultInterface`: the interface whose methods may be called unqualified. */
  constructor(defaultInterface?: string) {
    this.#defaultInterface = defaultInterface;
  }

  /** Registers an implementation; an interface may be registered once per domain. */
  register(impl: Implementation): void {
    const iface = impl.interface;
    const domain = impl.options.domain;
    const known = this.#interfaces.get(iface.name);
    if (known && known !== iface && !sameShape(known, iface)) {
      throw new Error(`interface ${iface.name} is already registered with different methods`);
    }
    const table = domain === undefined ? this.#methods : this.#domainTable(domain);
    const implLimiter = impl.options.concurrency === undefined ? undefined : new Limiter(
      impl.options.concurrency,
      impl.options.queue ?? DEFAULT_QUEUE,
      `${iface.name}`,
    );
    const entries: MethodEntry[] = [];
    for (const [methodName, def] of Object.entries(iface.methods)) {
      const name = `${iface.name}.${methodName}`;
      if (table.has(name)) {
        throw new Error(
          `interface ${iface.name} is already registered${domain ? ` for domain ${domain}` : ""}`,
        );
      }
      // The method's own slot is taken first, so a call waiting for it does not hold one
      // of the implementation's slots meanwhile.
      const limiters: Limiter[] = [];
      if (def.concurrency !== undefined) {
        let limiter = this.#methodLimiters.get(name);
        if (!limiter) {
          limiter = new Limiter(def.concurrency, def.queue ?? DEFAULT_QUEUE, name);
          this.#methodLimiters.set(name, limiter);
        }
        limiters.push(limiter);
      }
      if (implLimiter) limiters.push(implLimiter);
      entries.push({
        name,
        iface,
        methodName,
        def,
        impl,
        handler: (impl.handlers as Record<string, MethodEntry["handler"]>)[methodName],
        // Guarded: well-typed values skip the full check (and its path strings).
        checkParams: guardedParams(def.params, compileParams(def.params)),
        checkResult: guarded(def.result, compile(def.result)),
        plain: isJsonNative(def.result),
        floats: holdsFloat(def.result) ? def.result : undefined,
        limiters,
        denied: impl.options.deny?.includes(methodName) ?? false,
        streamParams: streamParamNames(def.params),
      });
    }
    for (const entry of entries) table.set(entry.name, entry);
    this.#interfaces.set(iface.name, iface);
    this.#registered.push(iface);
    // A second interface ends unqualified calls to the first: forget what names meant.
    this.#recentNames = [];
    this.#recentEntries = [];
    this.#recentNext = 0;
    this.#generation++;
  }

  /** Every interface registered, in every domain: same-named ones may differ in types. */
  registered(): readonly InterfaceDef[] {
    return this.#registered;
  }

  /** Changes whenever a registration may change what a name resolves to. */
  get generation(): number {
    return this.#generation;
  }

  #domainTable(domain: string): Map<string, MethodEntry> {
    let table = this.#domains.get(domain);
    if (!table) this.#domains.set(domain, table = new Map());
    return table;
  }

  /** The registered interfaces. */
  interfaces(): InterfaceDef[] {
    return [...this.#interfaces.values()];
  }

  /** All default-domain method entries. */
  entries(): MethodEntry[] {
    return [...this.#methods.values()];
  }

  /** The interface whose methods may be called unqualified, if any. */
  get defaultInterface(): string | undefined {
    if (this.#defaultInterface) return this.#defaultInterface;
    let only: string | undefined;
    for (const name of this.#interfaces.keys()) {
      if (name === "system" || name === "rpc") continue;
      if (only) return undefined;
      only = name;
    }
    return only;
  }

  /** Finds the entry a caller reaches under a method name (domains first, then default). */
  resolve(method: string, caller?: Identity): MethodEntry | undefined {
    let entry = this.#recent(method);
    let name = entry ? entry.name : method;
    if (!entry) {
      entry = this.#methods.get(method);
      if (!entry && !method.includes(".")) {
        const fallback = this.defaultInterface;
        if (fallback) entry = this.#methods.get(name = `${fallback}.${method}`);
      }
      if (entry) this.#remember(method, entry);
    }
    if (caller?.roles && this.#domains.size) {
      for (const role of caller.roles) {
        const domainEntry = this.#domains.get(role)?.get(name);
        if (domainEntry) return domainEntry;
      }
    }
    return entry;
  }

  #recent(method: string): MethodEntry | undefined {
    const names = this.#recentNames;
    for (let i = 0; i < names.length; i++) {
      if (names[i] === method) return this.#recentEntries[i];
    }
    return undefined;
  }

  #remember(method: string, entry: MethodEntry): void {
    const slot = this.#recentNext;
    this.#recentNext = (slot + 1) % RECENT_NAMES;
    this.#recentNames[slot] = method;
    this.#recentEntries[slot] = entry;
  }
}

function sameShape(a: InterfaceDef, b: InterfaceDef): boolean {
  const am = Object.keys(a.methods), bm = Object.keys(b.methods);
  return am.length === bm.length && am.every((m) => m in b.methods);
}

// Compile-time tests: `deno test` type-checks this file, so every `@ts-expect-error` below
// must meet a real type error (an unused one fails the check) and every assignment must
// type-check. Together they prove that handler params/results and proxy methods are
// inferred from the interface definition. The run-time part only keeps the code honest.

import assert from "node:assert/strict";
import {
  type Client,
  defineInterface,
  implement,
  type Infer,
  type InterfaceProxy,
  type Kind,
  method,
  type ParamsOf,
  type ResultOf,
  t,
  type Type,
} from "../../../mod.ts";

/** True only when A and B are the same type. */
type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends (<X>() => X extends B ? 1 : 2) ? true
  : false;
/** Compiles only when given `true`. */
function expectType<T extends true>(_proof?: T): void {}

const Thing = t.struct("Thing", {
  id: t.int,
  name: t.string,
  tags: t.array(t.string),
  seen: t.optional(t.datetime),
  parent: t.nullable(t.int),
  data: t.bytes,
  attrs: t.map(t.float),
  level: t.enumeration("low", "high"),
  extra: t.any,
});

const Search = defineInterface("Search", {
  runQuery: method({
    params: { query: t.string, maxResults: t.optional(t.int) },
    result: t.array(Thing),
  }),
  ping: method({}),
  count: method({ params: { tags: t.array(t.string) }, result: t.int }),
});

Deno.test("types: IDL types infer their TypeScript types", () => {
  type T = Infer<typeof Thing>;
  expectType<
    Equal<T, {
      id: number;
      name: string;
      tags: string[];
      parent: number | null;
      data: Uint8Array;
      attrs: Record<string, number>;
      level: "low" | "high";
      extra: unknown;
      seen?: Date | undefined;
    }>
  >(true);
  expectType<Equal<Infer<typeof t.int64>, number | bigint>>(true);
  expectType<Equal<Infer<ReturnType<typeof t.literal<[1, "a", true]>>>, 1 | "a" | true>>(true);
  // @ts-expect-error: the inferred type is not any
  // deno-lint-ignore no-explicit-any
  expectType<Equal<T, any>>(true);
  const ok: T = {
    id: 1,
    name: "n",
    tags: [],
    parent: null,
    data: new Uint8Array(),
    attrs: {},
    level: "low",
    extra: 1,
  };
  // @ts-expect-error: level is an enumeration
  const badLevel: T = { ...ok, level: "medium" };
  // @ts-expect-error: parent is required (nullable is not optional)
  const { parent: _p, ...noParent }: T = ok, missing: T = noParent;
  assert.ok(badLevel && missing);
});

Deno.test("types: Type narrows by kind, and Type<T> holds the types of T's values", () => {
  const parts = (type: Type): Type[] => {
    switch (type.kind) {
      case "array":
        return [type.items];
      case "map":
        return [type.values];
      case "optional":
      case "nullable":
        return [type.inner];
      case "struct":
        return Object.values(type.fields);
      default:
        // @ts-expect-error: only arrays have items
        return type.items;
    }
  };
  assert.deepEqual(parts(t.struct("P", { a: t.int, b: t.string })), [t.int, t.string]);
  expectType<Equal<Kind, Type["kind"]>>(true);

  const count: Type<number> = t.int;
  // @ts-expect-error: a string type is not a type of numbers
  const wrong: Type<number> = t.string;
  const valueOf = <T>(_type: Type<T>): T => undefined as T;
  const things = valueOf(t.array(Thing));
  expectType<Equal<typeof things, Infer<typeof Thing>[]>>(true);
  expectType<Equal<Infer<Type<string>>, string>>(true);
  expectType<Equal<Infer<Type>, unknown>>(true);
  assert.ok(count && wrong);
});

Deno.test("types: handler params and results are inferred from the definition", () => {
  expectType<
    Equal<ParamsOf<typeof Search.methods.runQuery>, { query: string; maxResults?: number }>
  >(true);
  expectType<Equal<ResultOf<typeof Search.methods.count>, number>>(true);
  const maybe = method({ result: t.optional(t.int) });
  expectType<Equal<ResultOf<typeof maybe>, number | undefined>>(true);
  expectType<Equal<Infer<ReturnType<typeof t.nullable<typeof t.string>>>, string | null>>(true);

  const impl = implement(Search, {
    runQuery: ({ query, maxResults }) => {
      expectType<Equal<typeof query, string>>(true);
      expectType<Equal<typeof maxResults, number | undefined>>(true);
      return [];
    },
    ping: (params, ctx) => {
      expectType<Equal<keyof typeof params, never>>(true);
      expectType<Equal<ReturnType<typeof ctx.client.call>, Promise<unknown>>>(true);
      expectType<Equal<typeof ctx.signal, AbortSignal>>(true);
    },
    count: async ({ tags }) => {
      await Promise.resolve();
      return tags.length;
    },
  });
  assert.equal(impl.interface, Search);

  implement(Search, {
    // @ts-expect-error: returns a string where the interface declares Thing[]
    runQuery: () => "nope",
    ping: () => {},
    count: () => 1,
  });
  implement(Search, {
    runQuery: () => [],
    ping: () => {},
    // @ts-expect-error: resolves to a string where the interface declares int
    count: async () => await Promise.resolve("1"),
  });
  implement(Search, {
    // @ts-expect-error: params has no field `limit`
    runQuery: ({ limit }) => limit,
    ping: () => {},
    count: () => 1,
  });
  implement(Search, {
    runQuery: ({ query }) => {
      // @ts-expect-error: query is a string, not a number
      const n: number = query;
      return n ? [] : [];
    },
    ping: () => {},
    count: () => 1,
  });
  assert.throws(
    // @ts-expect-error: count has no handler
    () => implement(Search, { runQuery: () => [], ping: () => {} }),
    /Search\.count has no handler/,
  );
});

Deno.test("types: proxy methods take typed params and return typed Promises", () => {
  // Type-level only: the functions are never called.
  const use = async (client: Client) => {
    const search: InterfaceProxy<typeof Search> = client.proxy(Search);
    const things = await search.runQuery({ query: "q" });
    expectType<Equal<typeof things, Infer<typeof Thing>[]>>(true);
    const first = things[0];
    expectType<Equal<typeof first.seen, Date | undefined>>(true);
    const n = await search.count({ tags: ["a"] }, { timeout: 100 });
    expectType<Equal<typeof n, number>>(true);
    const pong = await search.ping(); // no params needed
    expectType<Equal<typeof pong, void | null>>(true);
    await search.runQuery({ query: "q", maxResults: 3 }, { signal: AbortSignal.timeout(5) });
    // @ts-expect-error: query is required
    await search.runQuery({});
    // @ts-expect-error: params are required when a param is required
    await search.runQuery();
    // @ts-expect-error: maxResults is an int, not a string
    await search.runQuery({ query: "q", maxResults: "ten" });
    // @ts-expect-error: no such method
    await search.delete({});
    // @ts-expect-error: the result is a number, not a string
    const s: string = await search.count({ tags: [] });
    return s;
  };
  assert.equal(typeof use, "function");
});

// The router: dispatch, validation of params and results, the error model, deadlines,
// cancellation, concurrency limits, permission domains, authorization and middleware.

import assert from "node:assert/strict";
import {
  type Call,
  defineError,
  defineInterface,
  implement,
  method,
  type Outcome,
  RpcError,
  t,
} from "../../../mod.ts";
import { type Logger, Router, Server } from "../../../server.ts";

/** A logger that remembers instead of printing. */
function memoryLogger(): Logger & { errors: string[]; warnings: string[] } {
  const errors: string[] = [], warnings: string[] = [];
  return { errors, warnings, error: (m) => errors.push(m), warn: (m) => warnings.push(m) };
}

function errorOf(outcome: Outcome) {
  assert.equal(outcome.ok, false, `expected an error, got ${JSON.stringify(outcome)}`);
  return (outcome as {
    ok: false;
    error: { code: number; name: string; message: string; data?: unknown };
  }).error;
}

function valueOf(outcome: Outcome) {
  assert.ok(outcome.ok, `expected a value, got ${JSON.stringify(outcome)}`);
  return outcome.value;
}

const NotFound = defineError("NotFound");

const Search = defineInterface("Search", {
  runQuery: method({
    params: { query: t.string, maxResults: t.int },
    result: t.array(t.string),
  }),
  broken: method({ result: t.int }),
  crash: method({}),
  missing: method({ params: { id: t.int } }),
  when: method({ result: t.datetime }),
});

function searchRouter(options: { debug?: boolean } = {}) {
  const logger = memoryLogger();
  const router = new Router({ ...options, logger });
  router.register(implement(Search, {
    runQuery: ({ query, maxResults }) =>
      Array.from({ length: maxResults }, (_, i) => `${query}${i}`),
    broken: () => "not an int" as unknown as number,
    crash: () => {
      throw new Error("secret internal detail");
    },
    missing: ({ id }) => {
      throw new NotFound(`no thing ${id}`, { id });
    },
    when: () => new Date(0),
  }));
  return { router, logger };
}

Deno.test("dispatch by name, by position, and unqualified on the only interface", async () => {
  const { router } = searchRouter();
  const byName = await router.dispatch({
    method: "Search.runQuery",
    params: { query: "q", maxResults: 2 },
  });
  assert.deepEqual(valueOf(byName), ["q0", "q1"]);
  assert.deepEqual(
    valueOf(await router.dispatch({ method: "Search.runQuery", params: ["x", 1] })),
    ["x0"],
  );
  assert.deepEqual(valueOf(await router.dispatch({ method: "runQuery", params: ["y", 1] })), [
    "y0",
  ]);
  assert.deepEqual(valueOf(await router.dispatch({ method: "Search.when" })), new Date(0));
});

Deno.test("names resolved before a second interface arrives are resolved afresh after", async () => {
  const One = defineInterface("One", { a: method({ result: t.string }) });
  const Two = defineInterface("Two", { b: method({ result: t.string }) });
  const router = new Router({ logger: memoryLogger() });
  router.register(implement(One, { a: () => "one" }));
  // Unqualified and qualified, called more often than the router remembers names.
  for (let i = 0; i < 6; i++) {
    assert.equal(valueOf(await router.dispatch({ method: "a" })), "one");
    assert.equal(valueOf(await router.dispatch({ method: "One.a" })), "one");
    assert.equal(errorOf(await router.dispatch({ method: `One.x${i}` })).code, -32601);
  }
  router.register(implement(Two, { b: () => "two" }));
  assert.equal(errorOf(await router.dispatch({ method: "a" })).code, -32601);
  assert.equal(valueOf(await router.dispatch({ method: "One.a" })), "one");
  assert.equal(valueOf(await router.dispatch({ method: "Two.b" })), "two");
});

Deno.test("unknown methods are -32601 with the method named", async () => {
  const { router } = searchRouter();
  assert.deepEqual(errorOf(await router.dispatch({ method: "Search.nope" })), {
    code: -32601,
    name: "MethodNotFound",
    message: "Method not found: Search.nope",
  });
  assert.equal(errorOf(await router.dispatch({ method: "Other.runQuery" })).code, -32601);
});

Deno.test("bad params are -32602 with the path, and the handler never runs", async () => {
  let ran = false;
  const router = new Router({ logger: memoryLogger() });
  const Api = defineInterface("Api", { f: method({ params: { maxResults: t.int } }) });
  router.register(implement(Api, { f: () => void (ran = true) }));
  const error = errorOf(await router.dispatch({ method: "Api.f", params: { maxResults: "ten" } }));
  assert.deepEqual(error, {
    code: -32602,
    name: "InvalidParams",
    message: 'params.maxResults: expected int, got "ten"',
  });
  assert.equal(
    errorOf(await router.dispatch({ method: "Api.f", params: [1.5] })).message,
    "params.maxResults: expected int, got 1.5",
  );
  assert.equal(
    errorOf(await router.dispatch({ method: "Api.f", params: { maxResults: 1, x: 2 } })).message,
    "params.x: unknown field (parameters are maxResults)",
  );
  assert.equal(ran, false);
});

Deno.test("application errors keep their name, code, message and data", async () => {
  const { router } = searchRouter();
  assert.deepEqual(errorOf(await router.dispatch({ method: "Search.missing", params: [7] })), {
    code: -32000,
    name: "NotFound",
    message: "no thing 7",
    data: { id: 7 },
  });
});

Deno.test("an unexpected exception is -32603 without detail unless debug is on", async () => {
  const quiet = searchRouter();
  const error = errorOf(await quiet.router.dispatch({ method: "Search.crash" }));
  assert.deepEqual(error, { code: -32603, name: "InternalError", message: "Internal error" });
  assert.ok(!JSON.stringify(error).includes("secret"));
  // The detail goes to the log instead, with the stack.
  assert.equal(quiet.logger.errors.length, 1);
  assert.match(
    quiet.logger.errors[0],
    /internal error in Search\.crash: Error: secret internal detail\n\s+at /,
  );

  const loud = searchRouter({ debug: true });
  const detailed = errorOf(await loud.router.dispatch({ method: "Search.crash" }));
  assert.equal(detailed.code, -32603);
  assert.equal(detailed.message, "Internal error: Error: secret internal detail");
  assert.match((detailed.data as { stack: string }).stack, /secret internal detail\n\s+at /);
});

Deno.test("a result that breaks the declared type is -32603 (and logged)", async () => {
  const quiet = searchRouter();
  assert.deepEqual(errorOf(await quiet.router.dispatch({ method: "Search.broken" })), {
    code: -32603,
    name: "InternalError",
    message: "Internal error",
  });
  assert.match(
    quiet.logger.errors[0],
    /Search\.broken returned a bad result: result: expected int, got "not an int"/,
  );
  const loud = searchRouter({ debug: true });
  assert.match(
    errorOf(await loud.router.dispatch({ method: "Search.broken" })).message,
    /Search\.broken returned a bad result: result: expected int, got "not an int"/,
  );
});

Deno.test("a method that declares no result answers null, whatever its handler returns", async () => {
  const Api = defineInterface("Api", {
    fire: method({}),
    maybe: method({ result: t.optional(t.int) }),
  });
  const router = new Router({ logger: memoryLogger() });
  router.register(implement(Api, {
    fire: () => "ignored" as unknown as void,
    maybe: () => undefined,
  }));
  assert.equal(valueOf(await router.dispatch({ method: "Api.fire" })), null);
  assert.equal(valueOf(await router.dispatch({ method: "Api.maybe" })), null);
});

Deno.test("a failed notification is logged as a warning", async () => {
  const { router, logger } = searchRouter();
  const outcome = await router.dispatch({
    method: "Search.missing",
    params: [1],
    notification: true,
  });
  assert.equal(errorOf(outcome).name, "NotFound");
  assert.deepEqual(logger.warnings, ["notification Search.missing failed: no thing 1"]);
});

// --- deadlines and cancellation --------------------------------------------------------

const Slow = defineInterface("Slow", {
  wait: method({ params: { ms: t.int }, result: t.string }),
});

/** A Slow implementation that records what happened to its handler. */
function slowRouter() {
  const seen = { started: 0, aborted: 0, reasons: [] as unknown[] };
  const router = new Router({ logger: memoryLogger() });
  router.register(implement(Slow, {
    wait: ({ ms }, ctx) =>
      new Promise<string>((resolve) => {
        seen.started++;
        const timer = setTimeout(() => resolve("done"), ms);
        ctx.signal.addEventListener("abort", () => {
          seen.aborted++;
          seen.reasons.push(ctx.signal.reason);
          clearTimeout(timer);
          resolve("stopped");
        }, { once: true });
      }),
  }));
  return { router, seen };
}

Deno.test("a slow handler past its deadline gives Timeout and sees its signal abort", async () => {
  const { router, seen } = slowRouter();
  const outcome = await router.dispatch({
    method: "Slow.wait",
    params: [10_000],
    deadline: Date.now() + 50,
  });
  assert.deepEqual(errorOf(outcome), {
    code: -32003,
    name: "Timeout",
    message: "Slow.wait exceeded its deadline",
  });
  assert.equal(seen.started, 1);
  assert.equal(seen.aborted, 1);
  assert.ok(seen.reasons[0] instanceof RpcError);
});

Deno.test("a deadline already passed means the handler never runs", async () => {
  const { router, seen } = slowRouter();
  const outcome = await router.dispatch({
    method: "Slow.wait",
    params: [1],
    deadline: Date.now() - 1,
  });
  assert.equal(errorOf(outcome).name, "Timeout");
  assert.match(errorOf(outcome).message, /deadline of Slow\.wait passed before it ran/);
  assert.equal(seen.started, 0);
});

Deno.test("a call within its deadline completes normally", async () => {
  const { router, seen } = slowRouter();
  const outcome = await router.dispatch({
    method: "Slow.wait",
    params: [1],
    deadline: Date.now() + 30_000,
  });
  assert.equal(valueOf(outcome), "done");
  assert.equal(seen.aborted, 0);
});

Deno.test("cancelling through Call.signal stops the wait and aborts the handler", async () => {
  const { router, seen } = slowRouter();
  const controller = new AbortController();
  const pending = router.dispatch({
    method: "Slow.wait",
    params: [10_000],
    signal: controller.signal,
  });
  await new Promise((r) => setTimeout(r, 10));
  controller.abort();
  const error = errorOf(await pending);
  assert.equal(error.code, -32006);
  assert.equal(error.name, "Cancelled");
  assert.equal(seen.aborted, 1);

  // Already aborted: refused without waiting.
  const gone = await router.dispatch({
    method: "Slow.wait",
    params: [10_000],
    signal: AbortSignal.abort(),
  });
  assert.equal(errorOf(gone).name, "Cancelled");
});

// --- concurrency limits ----------------------------------------------------------------

Deno.test("an exclusive method runs 20 concurrent callers strictly one at a time", async () => {
  const Counter = defineInterface("Counter", {
    bump: method({ params: { n: t.int }, result: t.int, exclusive: true }),
  });
  let active = 0, most = 0;
  const order: number[] = [];
  const router = new Router({ logger: memoryLogger() });
  router.register(implement(Counter, {
    bump: async ({ n }) => {
      active++;
      most = Math.max(most, active);
      order.push(n);
      await new Promise((r) => setTimeout(r, 2));
      active--;
      return n;
    },
  }));
  const outcomes = await Promise.all(
    Array.from({ length: 20 }, (_, n) => router.dispatch({ method: "Counter.bump", params: [n] })),
  );
  assert.deepEqual(outcomes.map(valueOf), Array.from({ length: 20 }, (_, n) => n));
  assert.equal(most, 1);
  assert.deepEqual(order, Array.from({ length: 20 }, (_, n) => n)); // first come, first served
});

Deno.test("a full queue refuses further callers with Overloaded", async () => {
  const Gate = defineInterface("Gate", {
    pass: method({ result: t.bool, concurrency: 2, queue: 3 }),
  });
  let release!: () => void;
  const opened = new Promise<void>((r) => release = r);
  let started = 0;
  const router = new Router({ logger: memoryLogger() });
  router.register(implement(Gate, {
    pass: async () => {
      started++;
      await opened;
      return true;
    },
  }));
  const calls = Array.from({ length: 7 }, () => router.dispatch({ method: "Gate.pass" }));
  // 2 run, 3 wait, 2 are refused at once.
  const refused = await Promise.all(calls.slice(5));
  for (const outcome of refused) {
    const error = errorOf(outcome);
    assert.equal(error.code, -32004);
    assert.equal(error.name, "Overloaded");
    assert.match(error.message, /Gate\.pass is busy: 2 running and 3 queued/);
  }
  assert.equal(started, 2);
  release();
  for (const outcome of await Promise.all(calls.slice(0, 5))) assert.equal(valueOf(outcome), true);
  assert.equal(started, 5);
});

Deno.test("a queued caller whose deadline passes leaves the queue with Timeout", async () => {
  const One = defineInterface("One", { hold: method({ params: { ms: t.int }, exclusive: true }) });
  let ran = 0;
  const router = new Router({ logger: memoryLogger() });
  router.register(implement(One, {
    hold: async ({ ms }) => {
      ran++;
      await new Promise((r) => setTimeout(r, ms));
    },
  }));
  const first = router.dispatch({ method: "One.hold", params: [200] });
  const second = router.dispatch({ method: "One.hold", params: [0], deadline: Date.now() + 30 });
  assert.equal(errorOf(await second).name, "Timeout");
  valueOf(await first);
  assert.equal(ran, 1);
  // The slot was handed back: later calls still run.
  valueOf(await router.dispatch({ method: "One.hold", params: [0] }));
  assert.equal(ran, 2);
});

Deno.test("an implementation-wide limit spans all its methods", async () => {
  const Two = defineInterface("Two", { a: method({}), b: method({}) });
  let active = 0, most = 0;
  const work = async () => {
    active++;
    most = Math.max(most, active);
    await new Promise((r) => setTimeout(r, 2));
    active--;
  };
  const router = new Router({ logger: memoryLogger() });
  router.register(implement(Two, { a: work, b: work }, { concurrency: 1 }));
  await Promise.all(
    Array.from({ length: 10 }, (_, i) => router.dispatch({ method: i % 2 ? "Two.a" : "Two.b" })),
  );
  assert.equal(most, 1);
});

// --- domains and authorization ----------------------------------------------------------

const Files = defineInterface("Files", {
  remove: method({ params: { path: t.string }, result: t.string }),
});

Deno.test("a caller with role admin reaches the admin domain's implementation", async () => {
  const router = new Router({ logger: memoryLogger() });
  router.register(implement(Files, { remove: ({ path }) => `refused ${path}` }));
  router.register(
    implement(Files, { remove: ({ path }) => `removed ${path}` }, { domain: "admin" }),
  );
  const call = (caller?: Call["caller"]) =>
    router.dispatch({ method: "Files.remove", params: ["/x"], caller });
  assert.equal(valueOf(await call()), "refused /x");
  assert.equal(valueOf(await call({ id: "bob", roles: ["user"] })), "refused /x");
  assert.equal(valueOf(await call({ id: "ann", roles: ["user", "admin"] })), "removed /x");
  assert.throws(
    () => router.register(implement(Files, { remove: () => "" }, { domain: "admin" })),
    /interface Files is already registered for domain admin/,
  );
});

Deno.test("the allow predicate refuses: Unauthorized without a caller, Forbidden with one", async () => {
  const router = new Router({ logger: memoryLogger() });
  const seen: [string | undefined, string][] = [];
  router.register(implement(Files, { remove: ({ path }) => `removed ${path}` }, {
    allow: (caller, method) => {
      seen.push([caller?.id, method]);
      return caller?.roles?.includes("ops") ?? false;
    },
  }));
  assert.deepEqual(errorOf(await router.dispatch({ method: "Files.remove", params: ["/x"] })), {
    code: -32001,
    name: "Unauthorized",
    message: "Files.remove needs an authenticated caller",
  });
  assert.deepEqual(
    errorOf(
      await router.dispatch({ method: "Files.remove", params: ["/x"], caller: { id: "bob" } }),
    ),
    { code: -32002, name: "Forbidden", message: "bob may not call Files.remove" },
  );
  assert.equal(
    valueOf(
      await router.dispatch({
        method: "Files.remove",
        params: ["/x"],
        caller: { id: "ann", roles: ["ops"] },
      }),
    ),
    "removed /x",
  );
  assert.deepEqual(seen, [[undefined, "Files.remove"], ["bob", "Files.remove"], [
    "ann",
    "Files.remove",
  ]]);
});

// --- middleware, context and registration ------------------------------------------------

Deno.test("middleware wraps calls outermost first and may refuse", async () => {
  const { router } = searchRouter();
  const trace: string[] = [];
  router.use(async (inv, next) => {
    trace.push(`outer ${inv.entry.name}`);
    const value = await next();
    trace.push("outer done");
    return value;
  });
  router.use((inv, next) => {
    trace.push("inner");
    if (inv.call.caller?.id === "mallory") {
      return Promise.reject(new RpcError({ name: "Banned", message: "go away" }));
    }
    return next();
  });
  valueOf(await router.dispatch({ method: "Search.runQuery", params: ["q", 0] }));
  assert.deepEqual(trace, ["outer Search.runQuery", "inner", "outer done"]);
  const banned = errorOf(
    await router.dispatch({
      method: "Search.runQuery",
      params: ["q", 0],
      caller: { id: "mallory" },
    }),
  );
  assert.equal(banned.name, "Banned");
});

Deno.test("handlers get a context and may call other interfaces through ctx.client", async () => {
  const Inner = defineInterface("Inner", {
    double: method({ params: { n: t.int }, result: t.int }),
  });
  const Outer = defineInterface("Outer", {
    quad: method({ params: { n: t.int }, result: t.int }),
    who: method({ result: t.any }),
  });
  const server = new Server({ logger: memoryLogger() });
  server.register(
    implement(Inner, { double: ({ n }) => n * 2 }),
    implement(Outer, {
      quad: async ({ n }, ctx) => {
        const inner = ctx.client.proxy(Inner);
        return await inner.double({ n: await inner.double({ n }) });
      },
      who: async (_, ctx) => ({
        aborted: await new Promise((r) => setTimeout(() => r(ctx.signal.aborted), 20)),
        method: ctx.method,
        caller: ctx.caller?.id,
        protocol: ctx.protocol,
        id: ctx.callId,
        deadline: ctx.deadline,
      }),
    }),
  );
  const router = server.router;
  assert.equal(valueOf(await router.dispatch({ method: "Outer.quad", params: [3] })), 12);
  assert.deepEqual(
    valueOf(
      await router.dispatch({
        method: "Outer.who",
        caller: { id: "ann" },
        protocol: "test",
        id: 9,
        deadline: 4e12,
      }),
    ),
    { aborted: false, method: "Outer.who", caller: "ann", protocol: "test", id: 9, deadline: 4e12 },
  );
  // Two interfaces: unqualified names no longer resolve.
  assert.equal(errorOf(await router.dispatch({ method: "quad", params: [1] })).code, -32601);
  await server.close();
});

Deno.test("a router without a client says how to get one", () => {
  const router = new Router();
  assert.throws(() => router.client, /router has no client/);
});

Deno.test("registering two different interfaces under one name is refused", () => {
  const router = new Router();
  router.register(implement(Files, { remove: () => "" }));
  const Other = defineInterface("Files", { list: method({}) });
  assert.throws(
    () => router.register(implement(Other, { list: () => {} })),
    /already registered with different methods/,
  );
  assert.throws(
    () => router.register(implement(Files, { remove: () => "" })),
    /interface Files is already registered/,
  );
});

/**
 * Reading HTTP requests against the clock (a body must arrive within its time after the
 * headers), and the Host header HTTP/1.1 requires. (Its media type, its size bound and its
 * framing errors are src/wire/http_body.ts's.)
 *
 * @module
 */

/**
 * What is wrong with a request's Host header, or undefined when it names one host. RFC 9112
 * (section 3.2) has a server answer 400 to an HTTP/1.1 request without Host, or with more
 * than one, or an empty one (an `http` URL always has a host). A handler cannot see the
 * request's HTTP version, so an HTTP/1.0 request without Host is refused too; the HTTP/1.0
 * clients in use send one. Only for requests read from a socket: a `Request` made in code
 * has no Host header.
 */
export function hostProblem(request: Request): string | undefined {
  const host = request.headers.get("host");
  if (host === null) return "the request has no Host header (HTTP/1.1 requires one)";
  // Several Host lines arrive joined by commas; no host has a comma.
  if (host === "" || host.includes(",")) {
    return `the Host header ${JSON.stringify(host.slice(0, 80))} is not one host`;
  }
  return undefined;
}

/** What {@linkcode BodyDeadline.race} resolves with when the body came too slowly. */
export const TOO_SLOW: unique symbol = Symbol("too slow");

/**
 * What a {@linkcode BodyDeadline} answers for a read, given the read's context: made once
 * per listener, so a request allocates no closures of its own for them.
 */
export interface ReadAnswers<C, T, R> {
  /** The answer to a body that arrived. */
  done(context: C, value: T): R | PromiseLike<R>;
  /** The answer to a read that failed. */
  failed(context: C, error: unknown): R | PromiseLike<R>;
  /** The answer once the deadline passed first. */
  slow(context: C): R;
  /** The answer when one of the others threw, or the promise `done` or `failed` gave rejected. */
  threw(context: C, error: unknown): R;
  /** Called once the read is settled, after every answer (even a rejection). */
  ended?(context: C): void;
}

const RACE: ReadAnswers<unknown, unknown, unknown> = {
  done: (_, value) => value,
  failed: (_, error) => {
    throw error;
  },
  slow: () => TOO_SLOW,
  threw: (_, error) => {
    throw error;
  },
};

/**
 * A deadline on reading request bodies, for every request of a listener with one sweeping
 * timer (a timer per request costs more than a small call): a body still arriving `ms`
 * after its headers loses the race, and the request is answered 408. Requests are stamped
 * with the sweep count, not the time — a clock read per request is not free either — so a
 * slow body is cut between `ms` and `ms` plus one sweep interval (a quarter of `ms`, at
 * most a second) after it started.
 */
export class BodyDeadline {
  readonly #ms: number;
  readonly #every: number;
  // Waiting reads in slots of parallel arrays, reused through a free list: a Set of entry
  // objects costs more than the rest of the race (each new key gets a hash made for it).
  readonly #since: number[] = [];
  readonly #expire: (((answer: unknown) => void) | undefined)[] = [];
  readonly #context: unknown[] = [];
  readonly #answers: (ReadAnswers<never, never, unknown> | undefined)[] = [];
  readonly #free: number[] = [];
  #waiting = 0;
  #timer?: ReturnType<typeof setInterval>;
  /** Sweeps so far. */
  #tick = 0;

  /** `ms`: how long a body may take to arrive. */
  constructor(ms: number) {
    this.#ms = ms;
    this.#every = Math.min(1000, Math.max(10, ms / 4));
  }

  /** `reading`, or {@linkcode TOO_SLOW} once the deadline passed first. */
  race<T>(reading: Promise<T>): Promise<T | typeof TOO_SLOW> {
    return this.read(reading, undefined, RACE as ReadAnswers<undefined, T, T | typeof TOO_SLOW>);
  }

  /**
   * What `answers` make of `reading`'s value or error, or of its expiry once the deadline
   * passed first: {@linkcode BodyDeadline.race} and a `then` in one step, a promise and a
   * turn fewer on every request. It rejects only where `answers.threw` throws.
   */
  read<C, T, R>(reading: Promise<T>, context: C, answers: ReadAnswers<C, T, R>): Promise<R> {
    const { promise, resolve } = Promise.withResolvers<R>();
    const slot = this.#free.length !== 0 ? this.#free.pop()! : this.#expire.length;
    this.#since[slot] = this.#tick;
    this.#expire[slot] = resolve as (answer: unknown) => void;
    this.#context[slot] = context;
    this.#answers[slot] = answers as ReadAnswers<never, never, unknown>;
    this.#waiting++;
    this.#timer ??= setInterval(this.#sweep, this.#every);
    reading.then((value) => {
      if (this.#release(slot, resolve)) settle(resolve, answers, context, answers.done, value);
    }, (error) => {
      if (this.#release(slot, resolve)) settle(resolve, answers, context, answers.failed, error);
    });
    return promise;
  }

  /**
   * Frees `slot` if it still holds the read `owner` resolves; false when that read expired
   * meanwhile (it was answered slow).
   */
  #release(slot: number, owner: unknown): boolean {
    if (this.#expire[slot] !== owner) return false;
    this.#expire[slot] = this.#context[slot] = this.#answers[slot] = undefined;
    this.#free.push(slot);
    this.#waiting--;
    return true;
  }

  #sweep = (): void => {
    this.#tick++;
    if (this.#waiting === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    const expire = this.#expire;
    for (let slot = 0; slot < expire.length; slot++) {
      const resolve = expire[slot];
      // A read stamped at sweep n began at most one interval before sweep n + 1.
      if (!resolve || (this.#tick - this.#since[slot] - 1) * this.#every < this.#ms) continue;
      const answers = this.#answers[slot]!, context = this.#context[slot] as never;
      expire[slot] = this.#context[slot] = this.#answers[slot] = undefined;
      this.#free.push(slot);
      this.#waiting--;
      settle(resolve, answers, context, answers.slow, undefined as never);
    }
  };
}

/** Resolves a read with what `answer` makes of it, or with `answers.threw` if that fails. */
function settle<C, V, R>(
  resolve: (value: R | PromiseLike<R>) => void,
  answers: ReadAnswers<C, never, R>,
  context: C,
  answer: (context: C, value: V) => R | PromiseLike<R>,
  value: V,
): void {
  let result;
  try {
    result = answer(context, value);
  } catch (error) {
    return resolveThrown(resolve, answers, context, error);
  }
  if (result instanceof Promise) {
    // An answer that comes later (a handler that awaits) may still fail.
    result.then((value) => {
      resolve(value);
      answers.ended?.(context);
    }, (error) => resolveThrown(resolve, answers, context, error));
  } else {
    resolve(result);
    answers.ended?.(context);
  }
}

function resolveThrown<C, R>(
  resolve: (value: R | PromiseLike<R>) => void,
  answers: ReadAnswers<C, never, R>,
  context: C,
  error: unknown,
): void {
  let answer: R | Promise<never>;
  try {
    answer = answers.threw(context, error);
  } catch (thrown) {
    answer = Promise.reject(thrown);
  }
  resolve(answer);
  answers.ended?.(context);
}

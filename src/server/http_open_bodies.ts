/**
 * The responses of an HTTP app whose bodies stay open after they are made (streamed results,
 * event streams). A listener counts a request as in progress until its response is done: for
 * these, until the body is over, so that its idle timeout does not close a connection that is
 * streaming; and its shutdown, which waits for the responses in progress, first ends them
 * (a stream may never end by itself).
 *
 * @module
 */

/** The open bodies of one app. */
export class OpenBodies {
  readonly #stops = new Set<() => void>();
  readonly #ends = new WeakMap<Response, Promise<void>>();

  /** How many are open now. */
  get size(): number {
    return this.#stops.size;
  }

  /**
   * Registers `response`, whose body stays open; `stop` ends the body at shutdown. Returns
   * what to call once the body is over, however it ended (any number of times).
   */
  hold(response: Response, stop: () => void): () => void {
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#ends.set(response, promise);
    this.#stops.add(stop);
    return () => {
      this.#stops.delete(stop);
      resolve();
    };
  }

  /**
   * Calls `answered` (when given) once `response` is done: when it is made, or, for one held
   * here, when its body is over.
   */
  report(
    response: Response | Promise<Response>,
    answered: (() => void) | undefined,
  ): Response | Promise<Response> {
    if (answered === undefined) return response;
    if (!(response instanceof Promise)) {
      this.#whenOver(response, answered);
      return response;
    }
    return response.then((made) => {
      this.#whenOver(made, answered);
      return made;
    }, (error) => {
      answered();
      throw error;
    });
  }

  /** Ends every open body (the listener is shutting down). */
  stopAll(): void {
    for (const stop of [...this.#stops]) stop();
  }

  #whenOver(response: Response, answered: () => void): void {
    const over = this.#ends.get(response);
    if (over) over.then(answered);
    else answered();
  }
}

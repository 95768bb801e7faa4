/**
 * Which whole numbers arrived as `<double>`: JavaScript numbers do not remember, so a
 * `<double>3</double>` inside a `t.any` value would go back as `<int>3</int>`. The reader
 * marks each whole double by the array or struct that holds it and its place there; the
 * writer, writing a value by what it is, writes a marked number (still equal to what
 * arrived) as `<double>`. A container a handler built itself has no marks, and a whole
 * double that is itself a param or the result (in no container) cannot be told from an int.
 *
 * @module
 */

/** container → place (index or member name) → the whole number that arrived as a double. */
const marks = new WeakMap<object, Map<number | string, number>>();

/** Notes that `container[place]` arrived as the whole `<double>` `value`. */
export function markDouble(container: object, place: number | string, value: number): void {
  let places = marks.get(container);
  if (!places) marks.set(container, places = new Map());
  places.set(place, value);
}

/** The places of `container` that arrived as whole doubles, if any. */
export function doublesIn(container: object): ReadonlyMap<number | string, number> | undefined {
  return marks.get(container);
}

/** Whether `value` at `place` is what arrived there as a whole `<double>`. */
export function arrivedAsDouble(
  doubles: ReadonlyMap<number | string, number> | undefined,
  place: number | string,
  value: unknown,
): boolean {
  return doubles !== undefined && doubles.has(place) && Object.is(doubles.get(place), value);
}

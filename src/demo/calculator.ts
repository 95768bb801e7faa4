/**
 * The built-in demo `Calculator`, served by `switchboard serve` when no component is given.
 *
 * @module
 */

import { defineInterface, method } from "../core/idl/interface.ts";
import { t } from "../core/idl/types.ts";
import { implement } from "../core/implement.ts";
import { defineError } from "../core/errors.ts";

/** Raised by `Calculator.divide` when the divisor is zero. */
export const DivisionByZero = defineError("DivisionByZero");

/** Raised when a result leaves the range of its type (a safe integer, a finite float). */
export const OutOfRange = defineError("OutOfRange");

/** The result, or OutOfRange: a caller's overflow is the caller's error, not the server's. */
function checked(result: number, integer: boolean, what: string): number {
  if (integer ? Number.isSafeInteger(result) : Number.isFinite(result)) return result;
  throw new OutOfRange(`${what} is out of range (${result})`);
}

/** Arithmetic on integers and floats. */
export const Calculator = defineInterface("Calculator", {
  add: method({
    params: { a: t.int, b: t.int },
    result: t.int,
    doc: "a + b",
    public: true,
    errors: ["OutOfRange"],
  }),
  subtract: method({
    params: { a: t.int, b: t.int },
    result: t.int,
    doc: "a - b",
    public: true,
    errors: ["OutOfRange"],
  }),
  multiply: method({
    params: { a: t.float, b: t.float },
    result: t.float,
    doc: "a × b",
    errors: ["OutOfRange"],
  }),
  divide: method({
    params: { a: t.float, b: t.float },
    result: t.float,
    doc: "a ÷ b; DivisionByZero when b is 0",
    errors: ["DivisionByZero", "OutOfRange"],
  }),
  sum: method({
    params: { values: t.array(t.float) },
    result: t.float,
    doc: "Sum of a list",
    errors: ["OutOfRange"],
  }),
}, { doc: "Arithmetic on integers and floats." });

/** The demo implementation of {@linkcode Calculator}. */
export const calculator = implement(Calculator, {
  add: ({ a, b }) => checked(a + b, true, `${a} + ${b}`),
  subtract: ({ a, b }) => checked(a - b, true, `${a} - ${b}`),
  multiply: ({ a, b }) => checked(a * b, false, `${a} × ${b}`),
  divide: ({ a, b }) => {
    if (b === 0) throw new DivisionByZero(`cannot divide ${a} by zero`);
    return checked(a / b, false, `${a} ÷ ${b}`);
  },
  sum: ({ values }) => checked(values.reduce((acc, v) => acc + v, 0), false, "the sum"),
});

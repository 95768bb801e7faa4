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

/** Arithmetic on integers and floats. */
export const Calculator = defineInterface("Calculator", {
  add: method({ params: { a: t.int, b: t.int }, result: t.int, doc: "a + b", public: true }),
  subtract: method({ params: { a: t.int, b: t.int }, result: t.int, doc: "a - b", public: true }),
  multiply: method({ params: { a: t.float, b: t.float }, result: t.float, doc: "a × b" }),
  divide: method({
    params: { a: t.float, b: t.float },
    result: t.float,
    doc: "a ÷ b; DivisionByZero when b is 0",
    errors: ["DivisionByZero"],
  }),
  sum: method({ params: { values: t.array(t.float) }, result: t.float, doc: "Sum of a list" }),
}, { doc: "Arithmetic on integers and floats." });

/** The demo implementation of {@linkcode Calculator}. */
export const calculator = implement(Calculator, {
  add: ({ a, b }) => a + b,
  subtract: ({ a, b }) => a - b,
  multiply: ({ a, b }) => a * b,
  divide: ({ a, b }) => {
    if (b === 0) throw new DivisionByZero(`cannot divide ${a} by zero`);
    return a / b;
  },
  sum: ({ values }) => values.reduce((acc, v) => acc + v, 0),
});

/**
 * The embedded default component: `Calculator` and `Echo`.
 *
 * @module
 */

import { calculator } from "./calculator.ts";
import { echo } from "./echo.ts";
import type { Implementation } from "../core/implement.ts";

export { Calculator, calculator, DivisionByZero, OutOfRange } from "./calculator.ts";
export { Echo, echo, Sample } from "./echo.ts";

/** The implementations `switchboard serve` runs when given no component. */
export const demoComponents: Implementation[] = [calculator, echo];

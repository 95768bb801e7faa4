/**
 * The one place that imports a module from a URL known only at run time.
 *
 * `deno publish` warns about every `import(expression)` and offers no way to mark one as
 * intended (denoland/deno#22594). Component URLs are run-time values by design, so the
 * import goes through a function made once here; it behaves exactly like `import()`.
 *
 * @module
 */

/** Imports a module by absolute URL (file:, https:, data:, …). */
export const dynamicImport: (specifier: string) => Promise<Record<string, unknown>> = new Function(
  "specifier",
  "return import(specifier)",
) as (
  specifier: string,
) => Promise<Record<string, unknown>>;

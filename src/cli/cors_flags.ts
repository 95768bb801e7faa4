/**
 * The CORS flags of `switchboard serve`: `--cors ORIGIN` (repeatable, or comma-separated;
 * `*` for any page) and `--cors-credentials`.
 *
 * @module
 */

import { UsageError } from "./args.ts";
import { type CorsOptions, CorsPolicy } from "../server/cors.ts";

/** The help lines of the CORS flags. */
export const CORS_OPTIONS_HELP =
  `  --cors ORIGIN       let browser pages from ORIGIN (https://host[:port], or * for any)
                      call the HTTP listener; repeatable or comma-separated
  --cors-credentials  ... and send cookies / HTTP authentication (not with *)`;

/** The CORS flags for `parseCommand`. */
export const CORS_OPTIONS = {
  cors: { type: "string", multiple: true },
  "cors-credentials": { type: "boolean", default: false },
} as const;

/** The CORS options the flags ask for (undefined without `--cors`), or a UsageError. */
export function corsFromFlags(
  values: { cors?: string[]; "cors-credentials"?: boolean },
): CorsOptions | undefined {
  const origins = (values.cors ?? []).flatMap((v) => v.split(",")).map((o) => o.trim())
    .filter((o) => o !== "");
  if (origins.length === 0) {
    if (values["cors-credentials"]) throw new UsageError("--cors-credentials needs --cors ORIGIN");
    return undefined;
  }
  const options: CorsOptions = { origins, credentials: values["cors-credentials"] ?? false };
  try {
    new CorsPolicy(options);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(`--cors: ${message.replace(/^CORS: /, "")}`);
  }
  return options;
}

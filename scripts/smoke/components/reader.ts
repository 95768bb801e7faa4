/** Smoke-test component for a worker: reads the file it is asked to (if it was granted). */

import { defineInterface, implement, method, t } from "@switchboard/rpc";

export const Reader = defineInterface("Reader", {
  read: method({ params: { path: t.string }, result: t.string }),
});

export default implement(Reader, {
  read: ({ path }) => Deno.readTextFile(path),
});

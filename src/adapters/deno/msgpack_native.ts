/**
 * msgpackr's native decoder add-on, for servers: loading msgpackr's Node entry makes every
 * decoder use it (faster on large payloads: docs/benchmarks-history.md). That entry reads the
 * environment and loads a native library as it loads, so only a process allowed both loads
 * it; clients (and servers without those permissions) keep the plain JavaScript decoder.
 *
 * @module
 */

let loading: Promise<boolean> | undefined;

/** Turns on the native decoder where this process may load it; resolves whether it did. */
export function useNativeMsgpack(): Promise<boolean> {
  loading ??= (async () => {
    const allowed = async (name: "env" | "ffi" | "read") =>
      (await Deno.permissions.query({ name })).state === "granted";
    if (!(await allowed("env")) || !(await allowed("ffi")) || !(await allowed("read"))) {
      return false;
    }
    try {
      // Imported only here, after the checks (deno.json's `lazy-dynamic-imports`: not at start).
      await import("./msgpack_native_entry.ts");
      return true;
    } catch {
      return false; // no add-on for this platform: the JavaScript decoder serves
    }
  })();
  return loading;
}

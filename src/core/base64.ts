/**
 * Base64 for Uint8Array on every runtime: the built-in `Uint8Array.fromBase64` /
 * `toBase64` where present (Deno, recent browsers), `atob`/`btoa` otherwise (Node 20).
 *
 * @module
 */

type Base64Ctor = { fromBase64?: (s: string) => Uint8Array };
type Base64Bytes = { toBase64?: () => string };

const nativeFrom = (Uint8Array as unknown as Base64Ctor).fromBase64;
const nativeTo = typeof (new Uint8Array(0) as unknown as Base64Bytes).toBase64 === "function";

/** Encodes bytes as standard (padded) base64. */
export function encodeBase64(bytes: Uint8Array): string {
  if (nativeTo) return (bytes as unknown as Required<Base64Bytes>).toBase64();
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** Decodes standard base64 (whitespace allowed); throws a TypeError on bad input. */
export function decodeBase64(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  if (nativeFrom) {
    try {
      return nativeFrom(clean);
    } catch {
      throw new TypeError("invalid base64");
    }
  }
  let binary: string;
  try {
    binary = atob(clean);
  } catch {
    throw new TypeError("invalid base64");
  }
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

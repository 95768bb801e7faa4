/**
 * msgpack-rpc (https://github.com/msgpack-rpc/msgpack-rpc/blob/master/spec.md): the three
 * message kinds as bytes, and a streaming decoder that cuts a byte stream into messages.
 * Pure: no sockets, no `Deno.*`.
 *
 * - request `[0, msgid, method, params]` (Switchboard may add a 5th element, an options map
 *   `{ timeout }` carrying the caller's remaining time budget in ms; plain peers never see it
 *   unless they said hello)
 * - response `[1, msgid, error, result]` (errors travel as `{ code, name, message, data? }`)
 * - notification `[2, method, params]`
 *
 * Values: msgpack bin ⇄ `Uint8Array`, timestamp ext ⇄ `Date`, maps ⇄ plain objects
 * (a JS `Map` encodes as a msgpack map too), 64-bit integers ⇄ number when safe, else bigint,
 * classes registered with `registerType` ⇄ their own msgpack extension types, and any other
 * extension type ⇄ an opaque `MsgpackExtension` (Neovim's Buffer/Window/Tabpage handles).
 *
 * @module
 */

export { MsgpackExtension } from "./extension.ts";
export { type ByteSink, pack, unpack } from "./packer.ts";
export * from "./messages.ts";
export * from "./framing.ts";

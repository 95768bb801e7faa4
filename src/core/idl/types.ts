/**
 * The IDL's value types. Each type is a plain, serialisable description (so it can be
 * turned into JSON Schema, OpenRPC and XML-RPC signatures) that also carries, for the
 * type checker only, the TypeScript type of the values it accepts.
 *
 * @module
 */

/**
 * What every IDL type has. `T` is the TypeScript type of the values it accepts; it exists
 * for the type checker only (the `~value` property is never set at run time).
 */
export interface TypeBase<T = unknown> {
  /** Which constructor made this type (each kind narrows it to a literal). */
  readonly kind: string;
  /** Optional human description, carried into JSON Schema and OpenRPC. */
  readonly doc?: string;
  /**
   * Phantom: the TypeScript type of accepted values. Never present at run time. A function
   * type, so that inferring from it keeps `undefined` (an optional property would drop it).
   */
  readonly "~value"?: () => T;
}

/**
 * A value type of the IDL: one of the kinds below, told apart by `kind`, so a `switch` on
 * `type.kind` narrows it to that kind's interface (`items`, `values`, `inner`, `fields`).
 * `Type<T>` is such a type whose values are `T` (plain `Type` is exactly {@linkcode TypeUnion}).
 *
 * Switchboard's own walkers (validation, guards, schemas, signatures) switch over every
 * kind with an exhaustive default, so a kind added here fails to compile in each of them
 * until it handles the kind.
 *
 * @example Narrow by kind
 * ```ts
 * import assert from "node:assert/strict";
 * import { t, type Type } from "@switchboard/rpc";
 *
 * function depth(type: Type): number {
 *   switch (type.kind) {
 *     case "array":
 *       return 1 + depth(type.items);
 *     case "optional":
 *     case "nullable":
 *       return depth(type.inner);
 *     default:
 *       return 0;
 *   }
 * }
 * assert.equal(depth(t.array(t.optional(t.array(t.int)))), 2);
 * ```
 */
export type Type<T = unknown> = unknown extends T ? TypeUnion : TypeUnion & TypeBase<T>;

/** Every kind of IDL type, one interface each: the union {@linkcode Type} narrows within. */
export type TypeUnion =
  | SimpleType
  | ArrayType
  | MapType
  | StructType
  | OptionalType
  | NullableType
  | LiteralType
  | StreamType;

/** The kinds with no parts and nothing to list, written by their name alone. */
export type SimpleType =
  | IntType
  | Int64Type
  | FloatType
  | StringType
  | BoolType
  | BytesType
  | DateTimeType
  | AnyType;

/** The names of the IDL's type constructors: the `kind` of every member of {@linkcode Type}. */
export type Kind = Type["kind"];

/** The TypeScript type of the values a {@linkcode Type} accepts. */
export type Infer<T> = T extends { readonly "~value"?: () => infer V } ? V : never;

/** A record of named types: struct fields, or a method's parameters in declared order. */
export type Fields = { readonly [name: string]: Type };

/** `int`: an integer that fits a JavaScript safe integer (53 bits). */
export interface IntType extends TypeBase<number> {
  /** Discriminant. */
  readonly kind: "int";
}
/** `int64`: a 64-bit integer (number when safe, bigint otherwise); XML-RPC `<i8>`. */
export interface Int64Type extends TypeBase<number | bigint> {
  /** Discriminant. */
  readonly kind: "int64";
}
/** `float`: any finite IEEE double. */
export interface FloatType extends TypeBase<number> {
  /** Discriminant. */
  readonly kind: "float";
}
/** `string`: a Unicode string. */
export interface StringType extends TypeBase<string> {
  /** Discriminant. */
  readonly kind: "string";
}
/** `bool`: true or false. */
export interface BoolType extends TypeBase<boolean> {
  /** Discriminant. */
  readonly kind: "bool";
}
/** `bytes`: binary data. */
export interface BytesType extends TypeBase<Uint8Array> {
  /** Discriminant. */
  readonly kind: "bytes";
}
/** `datetime`: a point in time. */
export interface DateTimeType extends TypeBase<Date> {
  /** Discriminant. */
  readonly kind: "datetime";
}
/** `any`: any value the wire formats can carry, unchecked. */
export interface AnyType extends TypeBase<unknown> {
  /** Discriminant. */
  readonly kind: "any";
}
/** `array(T)`: a list of values of one type. */
export interface ArrayType<I extends Type = Type> extends TypeBase<Infer<I>[]> {
  /** Discriminant. */
  readonly kind: "array";
  /** The type of every item. */
  readonly items: I;
}
/** `map(T)`: an object with string keys and values of one type. */
export interface MapType<V extends Type = Type> extends TypeBase<Record<string, Infer<V>>> {
  /** Discriminant. */
  readonly kind: "map";
  /** The type of every value. */
  readonly values: V;
}
/** `optional(T)`: a struct field or parameter that may be absent. */
export interface OptionalType<I extends Type = Type> extends TypeBase<Infer<I> | undefined> {
  /** Discriminant. */
  readonly kind: "optional";
  /** The type of the value when present. */
  readonly inner: I;
}
/** `nullable(T)`: a value that may be null. */
export interface NullableType<I extends Type = Type> extends TypeBase<Infer<I> | null> {
  /** Discriminant. */
  readonly kind: "nullable";
  /** The type of the value when not null. */
  readonly inner: I;
}
/** The primitive values a literal/enum type may list. */
export type LiteralValue = string | number | boolean;
/** `literal(...values)` / `enumeration(...)`: exactly one of the listed values. */
export interface LiteralType<V extends LiteralValue = LiteralValue> extends TypeBase<V> {
  /** Discriminant. */
  readonly kind: "literal";
  /** The accepted values. */
  readonly values: readonly V[];
}

/**
 * `stream(T)`: a method's result that is a sequence of `T`, sent item by item with flow
 * control (see docs/wire.md, "Streams"). A handler returns any `AsyncIterable<T>` (an async
 * generator), `ReadableStream<T>` or array; a typed proxy returns an {@linkcode RpcStream}.
 * As a param, the caller passes any of those and the handler reads an `RpcStream`.
 */
export interface StreamType<I extends Type = Type>
  extends TypeBase<AsyncIterable<Infer<I>> | ReadableStream<Infer<I>> | Infer<I>[]> {
  /** Discriminant. */
  readonly kind: "stream";
  /** The type of every item. */
  readonly items: I;
}

/**
 * A stream as a caller reads it: an `AsyncIterable` (`for await`; `break` cancels the
 * producer) that also converts to a `ReadableStream`.
 */
export interface RpcStream<T> extends AsyncIterable<T> {
  /** Stops the stream: the producer is cancelled (its `ctx.signal` aborts). */
  cancel(reason?: unknown): Promise<void>;
  /** The same items as a `ReadableStream` (cancelling it cancels the producer). */
  readable(): ReadableStream<T>;
}

/** Keys of `F` whose type is optional. */
export type OptionalKeys<F extends Fields> = {
  [K in keyof F]: F[K] extends OptionalType ? K : never;
}[keyof F];

/** Flattens an intersection so editors show one object type. */
export type Simplify<T> = { [K in keyof T]: T[K] } & unknown;

/** The object type described by a record of fields; optional fields become `?:`. */
export type InferFields<F extends Fields> = Simplify<
  & { -readonly [K in Exclude<keyof F, OptionalKeys<F>>]: Infer<F[K]> }
  & { -readonly [K in OptionalKeys<F>]?: Infer<F[K]> }
>;

/**
 * `struct(name, fields)`: a named data structure; unknown fields are rejected, or with
 * `{ extra: "allow" }` ("at least these fields") kept as they came, checked as `t.any`.
 */
export interface StructType<F extends Fields = Fields> extends TypeBase<InferFields<F>> {
  /** Discriminant. */
  readonly kind: "struct";
  /** The structure's name (used in schemas and documentation). */
  readonly name: string;
  /** The declared fields, in order. */
  readonly fields: F;
  /** `"allow"`: members beyond the declared fields are kept (default: refused). */
  readonly extra?: "allow" | "reject";
}

/** Options every type constructor accepts. */
export interface TypeOptions {
  /** A description carried into JSON Schema and OpenRPC. */
  doc?: string;
}

/** Options of `t.struct`. */
export interface StructOptions extends TypeOptions {
  /**
   * Members beyond the declared fields: `"reject"` (default) refuses the value, `"allow"`
   * keeps them as they came (checked as `t.any`), for "at least these fields" structures
   * that real peers extend (Neovim's API metadata, third-party results).
   */
  extra?: "allow" | "reject";
}

function withDoc<T extends Type>(type: T, options?: TypeOptions): T {
  return options?.doc === undefined ? type : { ...type, doc: options.doc };
}

/**
 * The IDL's type constructors.
 *
 * @example Describe a data structure
 * ```ts
 * import { t } from "@switchboard/rpc";
 *
 * const Thing = t.struct("Thing", {
 *   id: t.int,
 *   name: t.string,
 *   tags: t.array(t.string),
 *   seen: t.optional(t.datetime),
 * });
 * ```
 */
export const t: {
  /** An integer (safe 53-bit range). */
  readonly int: IntType;
  /** A 64-bit integer. */
  readonly int64: Int64Type;
  /** A finite double. */
  readonly float: FloatType;
  /** A string. */
  readonly string: StringType;
  /** A boolean. */
  readonly bool: BoolType;
  /** Binary data. */
  readonly bytes: BytesType;
  /** A point in time. */
  readonly datetime: DateTimeType;
  /** Any value, unchecked. */
  readonly any: AnyType;
  /** A list of `items`. */
  array<I extends Type>(items: I, options?: TypeOptions): ArrayType<I>;
  /** An object with string keys and `values`. */
  map<V extends Type>(values: V, options?: TypeOptions): MapType<V>;
  /** A named structure with the declared fields (and, with `extra: "allow"`, any others). */
  struct<F extends Fields>(name: string, fields: F, options?: StructOptions): StructType<F>;
  /** A field or parameter that may be absent. */
  optional<I extends Type>(inner: I): OptionalType<I>;
  /** A value that may be null. */
  nullable<I extends Type>(inner: I): NullableType<I>;
  /** Exactly one of the listed values. */
  literal<const V extends readonly LiteralValue[]>(...values: V): LiteralType<V[number]>;
  /** Exactly one of the listed values (alias of `literal`, reads better for enums). */
  enumeration<const V extends readonly LiteralValue[]>(...values: V): LiteralType<V[number]>;
  /** A streamed result: a sequence of `items`, delivered with flow control. */
  stream<I extends Type>(items: I, options?: TypeOptions): StreamType<I>;
} = {
  int: { kind: "int" },
  int64: { kind: "int64" },
  float: { kind: "float" },
  string: { kind: "string" },
  bool: { kind: "bool" },
  bytes: { kind: "bytes" },
  datetime: { kind: "datetime" },
  any: { kind: "any" },
  array: (items, options) => withDoc({ kind: "array", items }, options),
  map: (values, options) => withDoc({ kind: "map", values }, options),
  struct: (name, fields, options) =>
    withDoc(
      options?.extra === "allow"
        ? { kind: "struct", name, fields, extra: "allow" }
        : { kind: "struct", name, fields },
      options,
    ),
  optional: (inner) => ({ kind: "optional", inner }),
  nullable: (inner) => ({ kind: "nullable", inner }),
  literal: (...values) => {
    if (values.length === 0) throw new TypeError("t.literal needs at least one value");
    return { kind: "literal", values };
  },
  enumeration: (...values) => t.literal(...values),
  stream: (items, options) => withDoc({ kind: "stream", items }, options),
};

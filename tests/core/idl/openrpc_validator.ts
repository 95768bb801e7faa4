// A validator of OpenRPC documents, built from the published OpenRPC meta-schema (shared by
// the IDL and HTTP tests).

import { Ajv } from "ajv";
import * as meta from "@open-rpc/meta-schema";
import * as jsonSchemaMeta from "@json-schema-tools/meta-schema";

/** A validator of OpenRPC documents built from the published meta-schema. */
export function openRpcValidator(): (doc: unknown) => string | undefined {
  const schema = structuredClone(
    (meta as unknown as { openrpcDocument: Record<string, unknown> }).openrpcDocument,
  );
  // Both meta-schemas name "meta.json-schema.tools" as their dialect: draft-07 under
  // another name, so ajv's draft-07 support reads them once the label is dropped.
  delete schema.$schema;
  const jsonSchema = structuredClone(
    (jsonSchemaMeta as unknown as { jsonSchema: Record<string, unknown> }).jsonSchema,
  );
  delete jsonSchema.$schema;
  const ajv = new Ajv({ strict: false, allErrors: true, logger: false });
  ajv.addSchema(jsonSchema); // as "https://meta.json-schema.tools/"
  ajv.addSchema({ $ref: "https://meta.json-schema.tools/" }, "https://meta.json-schema.tools");
  const check = ajv.compile(schema);
  return (doc) => check(doc) ? undefined : ajv.errorsText(check.errors);
}

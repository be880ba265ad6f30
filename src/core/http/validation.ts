import { Ajv, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

// Fastify's own defaults (@fastify/ajv-compiler): allErrors off, since with it on a crafted
// request can make Ajv do a lot of work (a DoS); no schemas kept by id.
const common: Options = { useDefaults: true, allErrors: false, addUsedSchema: false };

/**
 * Route schemas checked as written for JSON bodies: Fastify's default Ajv coerces types
 * (`"name": 12` became "12") and silently drops properties a schema with `additionalProperties:
 * false` does not list, so a typo in a field name went unnoticed. Bodies are JSON and carry real
 * types: they are checked without coercion, and an unknown property is a 400 naming it.
 * Querystrings, params and headers are text: they keep Fastify's coercion (`?limit=10` is a number).
 */
export function createValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const body = new Ajv({ ...common, coerceTypes: false, removeAdditional: false });
  const text = new Ajv({ ...common, coerceTypes: 'array', removeAdditional: true });
  addFormats.default(body);
  addFormats.default(text);
  return ({ schema, httpPart }) => (httpPart === 'body' ? body : text).compile(schema as object);
}

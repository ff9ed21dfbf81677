/**
 * A minimal JSON Schema (draft 2020-12 subset) validator: `type`, `properties`, `required`, `additionalProperties`
 * (boolean or schema), `items`, `enum`, `const`, `pattern`, `minimum`, `minItems`, `anyOf`. Enough for the audit record's
 * schema, which is exported as plain JSON Schema so any other validator (ajv, Python's jsonschema) can check records too.
 */
export interface JsonSchema {
  $id?: string;
  $schema?: string;
  title?: string;
  description?: string;
  type?: JsonType | JsonType[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  enum?: readonly unknown[];
  const?: unknown;
  pattern?: string;
  minimum?: number;
  minItems?: number;
  anyOf?: JsonSchema[];
}

type JsonType = 'object' | 'array' | 'string' | 'number' | 'integer' | 'boolean' | 'null';

export interface SchemaViolation {
  /** JSON pointer-like path, e.g. `$.datanet.contributors[2].rows`. */
  path: string;
  message: string;
}

function typeOf(value: unknown): JsonType | 'undefined' | 'other' {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'number':
      return Number.isFinite(value) ? (Number.isInteger(value) ? 'integer' : 'number') : 'other';
    case 'object':
      return 'object';
    case 'undefined':
      return 'undefined';
    default:
      return 'other';
  }
}

/**
 * Validates a value against the JSON Schema subset the audit schema uses (type, const, enum, properties, required,
 * additionalProperties, items, minItems, pattern, minimum, anyOf) and lists every violation by JSON path.
 *
 * @returns the violations, empty when the value is valid (never throws for a bad value)
 * @example
 * ```ts
 * import { validateJsonSchema } from 'provenant/audit';
 * validateJsonSchema({ type: 'object', required: ['a'] }, {}); // [{ path: '$.a', message: 'is required' }]
 * ```
 */
export function validateJsonSchema(schema: JsonSchema, value: unknown, path = '$'): SchemaViolation[] {
  const out: SchemaViolation[] = [];
  const actual = typeOf(value);
  if (schema.type) {
    const allowed = Array.isArray(schema.type) ? schema.type : [schema.type];
    const ok = allowed.some((t) => t === actual || (t === 'number' && actual === 'integer'));
    if (!ok) return [{ path, message: `expected ${allowed.join(' | ')}, got ${actual}` }];
  }
  if (schema.const !== undefined && JSON.stringify(schema.const) !== JSON.stringify(value)) {
    out.push({ path, message: `expected ${JSON.stringify(schema.const)}` });
  }
  if (schema.enum && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    out.push({ path, message: `expected one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}` });
  }
  if (schema.pattern && typeof value === 'string' && !new RegExp(schema.pattern).test(value)) {
    out.push({ path, message: `does not match ${schema.pattern}` });
  }
  if (schema.minimum !== undefined && typeof value === 'number' && value < schema.minimum) {
    out.push({ path, message: `must be ≥ ${schema.minimum}` });
  }
  if (schema.anyOf && !schema.anyOf.some((s) => validateJsonSchema(s, value, path).length === 0)) {
    out.push({ path, message: 'matches none of the allowed shapes' });
  }
  if (actual === 'array') {
    const items = value as unknown[];
    if (schema.minItems !== undefined && items.length < schema.minItems) out.push({ path, message: `needs ≥ ${schema.minItems} items` });
    if (schema.items) items.forEach((item, i) => out.push(...validateJsonSchema(schema.items!, item, `${path}[${i}]`)));
  }
  if (actual === 'object') {
    const record = value as Record<string, unknown>;
    for (const key of schema.required ?? []) {
      if (record[key] === undefined) out.push({ path: `${path}.${key}`, message: 'is required' });
    }
    for (const [key, child] of Object.entries(record)) {
      if (child === undefined) continue;
      const sub = schema.properties && Object.hasOwn(schema.properties, key) ? schema.properties[key] : undefined;
      if (sub) out.push(...validateJsonSchema(sub, child, `${path}.${key}`));
      else if (schema.additionalProperties === false) out.push({ path: `${path}.${key}`, message: 'is not allowed' });
      else if (typeof schema.additionalProperties === 'object') out.push(...validateJsonSchema(schema.additionalProperties, child, `${path}.${key}`));
    }
  }
  return out;
}

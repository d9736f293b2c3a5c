/**
 * Reads an enum out of the OpenAPI document the BFF serves at /docs-json, found from a route's
 * success response (paths are the contract; schema names are not), following `$ref`, `allOf`,
 * `oneOf`/`anyOf` and array `items`.
 */

interface Schema {
  $ref?: string;
  enum?: unknown[];
  type?: string | string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  allOf?: Schema[];
  oneOf?: Schema[];
  anyOf?: Schema[];
}

export interface OpenApi {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema?: Schema }> }> }>>;
  components?: { schemas?: Record<string, Schema> };
}

function resolve(doc: OpenApi, schema: Schema): Schema {
  let current = schema;
  for (let hops = 0; current.$ref; hops++) {
    if (hops > 20) throw new Error(`$ref loop at ${current.$ref}`);
    const name = current.$ref.replace('#/components/schemas/', '');
    const target = doc.components?.schemas?.[name];
    if (!target) throw new Error(`unresolved $ref ${current.$ref}`);
    current = target;
  }
  return current;
}

/** Every schema this one stands for (its allOf/oneOf/anyOf parts, resolved). */
function parts(doc: OpenApi, schema: Schema): Schema[] {
  const s = resolve(doc, schema);
  return [s, ...[...(s.allOf ?? []), ...(s.oneOf ?? []), ...(s.anyOf ?? [])].flatMap((p) => parts(doc, p))];
}

function at(doc: OpenApi, schema: Schema, step: string): Schema {
  for (const part of parts(doc, schema)) {
    if (step === '[]' && part.items) return part.items;
    if (step !== '[]' && part.properties?.[step]) return part.properties[step];
  }
  throw new Error(`no "${step}" in the schema`);
}

/**
 * The enum of a field of a route's 2xx JSON answer, e.g.
 * `enumAt(doc, 'get', '/api/v1/payments/{id}', ['status'])` or `['transactions', 'booked', '[]', 'bookingStatus']`.
 */
export function enumAt(doc: OpenApi, method: string, path: string, pointer: string[]): string[] {
  const operation = doc.paths[path]?.[method];
  if (!operation) throw new Error(`${method.toUpperCase()} ${path} is not documented`);
  const success = Object.entries(operation.responses).find(([status]) => status.startsWith('2'))?.[1];
  const root = success?.content?.['application/json']?.schema;
  if (!root) throw new Error(`${method.toUpperCase()} ${path} documents no JSON success body`);
  const field = pointer.reduce((schema, step) => at(doc, schema, step), root);
  const values = parts(doc, field).flatMap((p) => p.enum ?? []);
  if (values.length === 0) throw new Error(`${pointer.join('.')} of ${method.toUpperCase()} ${path} has no enum`);
  return [...new Set(values.map(String))];
}

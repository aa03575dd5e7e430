/**
 * OpenAPI 3.1 generated from the routes themselves. Validators (`validate()` in validate.ts)
 * and `describe()` attach metadata to the middleware functions they return; the document is
 * built by walking `app.routes`, so it documents exactly what the app validates. Zod 4 emits
 * JSON Schema draft 2020-12, which is OpenAPI 3.1's schema dialect.
 */
import type { Hono, MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { ERROR_STATUS } from '../errors';

const META = Symbol.for('parley.openapi');

export type InputTarget = 'json' | 'query' | 'param' | 'header';

export interface RouteDoc {
  summary: string;
  description?: string;
  tags?: string[];
  responses: Record<number, { description: string; schema?: z.ZodType; contentType?: string }>;
}

type Part =
  | { kind: 'doc'; doc: RouteDoc }
  | { kind: 'input'; target: InputTarget; schema: z.ZodType }
  | { kind: 'access'; principals: string[] };

/** Attaches OpenAPI metadata to a middleware without changing what it does. */
export function annotate<T extends object>(handler: T, part: Part): T {
  Object.defineProperty(handler, META, { value: part });
  return handler;
}

/** A no-op middleware carrying the route's summary and responses. */
export function describe(doc: RouteDoc): MiddlewareHandler {
  const noop: MiddlewareHandler = async (_c, next) => {
    await next();
  };
  return annotate(noop, { kind: 'doc', doc });
}

function partOf(handler: unknown): Part | undefined {
  if (typeof handler !== 'function') return undefined;
  const part: unknown = Reflect.get(handler, META);
  return part && typeof part === 'object' ? (part as Part) : undefined;
}

export const ErrorEnvelopeSchema = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(ERROR_STATUS) as [keyof typeof ERROR_STATUS, ...(keyof typeof ERROR_STATUS)[]]),
      message: z.string(),
      request_id: z.string(),
      details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
  })
  .meta({ id: 'ErrorEnvelope' });

/**
 * JSON Schema for one zod schema. Schemas given an id with `.meta({ id })` are emitted once
 * under components.schemas and referenced from everywhere they appear.
 */
function jsonSchema(
  schema: z.ZodType,
  io: 'input' | 'output',
  components: Record<string, unknown>,
): Record<string, unknown> {
  const out = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  // The document declares the dialect once (jsonSchemaDialect); drop the per-schema $schema.
  const {
    $schema: _dialect,
    $defs,
    ...rest
  } = relocateRefs(out) as Record<string, unknown> & { $defs?: Record<string, unknown> };
  Object.assign(components, $defs ?? {});
  return rest;
}

/** Rewrites zod's local `#/$defs/X` references to the document's `#/components/schemas/X`. */
function relocateRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(relocateRefs);
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => [
      key,
      key === '$ref' && typeof v === 'string' ? v.replace(/^#\/\$defs\//, '#/components/schemas/') : relocateRefs(v),
    ]),
  );
}

function parameters(
  target: 'query' | 'param' | 'header',
  schema: z.ZodType,
  components: Record<string, unknown>,
): object[] {
  const full = jsonSchema(schema, 'input', components) as { properties?: Record<string, object>; required?: string[] };
  return Object.entries(full.properties ?? {}).map(([name, s]) => ({
    name,
    in: target === 'param' ? 'path' : target,
    required: target === 'param' || (full.required ?? []).includes(name),
    schema: s,
  }));
}

export interface DocumentInfo {
  title: string;
  version: string;
  description?: string;
}

export function buildOpenApiDocument<E extends object>(app: Hono<E & {}>, info: DocumentInfo): Record<string, unknown> {
  const operations = new Map<string, { method: string; path: string; parts: Part[] }>();
  for (const route of app.routes) {
    if (route.method === 'ALL') continue;
    const part = partOf(route.handler);
    if (!part) continue;
    const key = `${route.method} ${route.path}`;
    const op = operations.get(key) ?? { method: route.method.toLowerCase(), path: route.path, parts: [] };
    op.parts.push(part);
    operations.set(key, op);
  }

  const paths: Record<string, Record<string, object>> = {};
  const schemas: Record<string, unknown> = {};
  const errorEnvelope = jsonSchema(ErrorEnvelopeSchema, 'output', schemas);
  for (const { method, path, parts } of operations.values()) {
    const doc = parts.find((p) => p.kind === 'doc')?.doc;
    if (!doc) continue;
    const accessPart = parts.find((p): p is Extract<Part, { kind: 'access' }> => p.kind === 'access');
    const inputs = parts.filter((p): p is Extract<Part, { kind: 'input' }> => p.kind === 'input');
    const params = inputs.flatMap((p) => (p.target === 'json' ? [] : parameters(p.target, p.schema, schemas)));
    const body = inputs.find((p) => p.target === 'json');
    const responses: Record<string, object> = {};
    for (const [status, r] of Object.entries(doc.responses)) {
      responses[status] = {
        description: r.description,
        ...(r.schema
          ? { content: { [r.contentType ?? 'application/json']: { schema: jsonSchema(r.schema, 'output', schemas) } } }
          : {}),
      };
    }
    const errorContent = { 'application/json': { schema: errorEnvelope } };
    if (body || params.length) responses['400'] ??= { description: 'Invalid input', content: errorContent };
    if (accessPart) {
      responses['401'] ??= { description: 'Missing, invalid, expired or revoked credential', content: errorContent };
      responses['403'] ??= { description: 'Credential kind, role or origin not allowed here', content: errorContent };
      responses['429'] ??= { description: 'Rate limited (see Retry-After)', content: errorContent };
    }
    responses['default'] = { description: 'Error envelope', content: errorContent };
    const oasPath = path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    (paths[oasPath] ??= {})[method] = {
      summary: doc.summary,
      ...(doc.description ? { description: doc.description } : {}),
      ...(doc.tags ? { tags: doc.tags } : {}),
      operationId: `${method}${oasPath.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      security: accessPart ? [{ bearer: [] }] : [],
      ...(accessPart ? { 'x-parley-callers': accessPart.principals } : {}),
      ...(params.length ? { parameters: params } : {}),
      ...(body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: jsonSchema(body.schema, 'input', schemas) } },
            },
          }
        : {}),
      responses,
    };
  }

  return {
    openapi: '3.1.0',
    info,
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    paths,
    components: {
      schemas,
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'Owner JWT, secret key (sk_…) or end-user session token',
        },
      },
    },
  };
}

/** `GET /api/v1/openapi.json`: the OpenAPI 3.1 document generated from the app's own routes. */
import { Hono } from 'hono';
import type { AppEnv } from '../env';
import { buildOpenApiDocument, describe } from '../http/openapi';

/** The API's version as published in the document (`/api/v1` is its major). */
const API_VERSION = '1.0.0';

export function openapi(app: Hono<AppEnv>) {
  // Built once per isolate on first request: routes do not change after startup.
  let document: Record<string, unknown> | undefined;
  return new Hono<AppEnv>().get(
    '/openapi.json',
    describe({
      summary: 'This API as an OpenAPI 3.1 document',
      tags: ['meta'],
      responses: { 200: { description: 'OpenAPI document' } },
    }),
    (c) => {
      document ??= buildOpenApiDocument(app, {
        title: 'Parley API',
        version: API_VERSION,
        description:
          'Edge-native, multi-tenant chatbot backend. Every error is `{"error":{"code","message","request_id"}}`.',
      });
      return c.json(document);
    },
  );
}

/** `GET /api/v1/openapi.json`: the OpenAPI 3.1 document generated from the app's own routes. */
import { Hono } from 'hono';
import type { AppEnv } from '../env';
import { buildOpenApiDocument, describe } from '../http/openapi';

export function openapi(app: Hono<AppEnv>, version: string) {
  // Built once per isolate on first request: routes do not change after startup.
  let document: Record<string, unknown> | undefined;
  return new Hono<AppEnv>().get(
    '/openapi.json',
    describe({ summary: 'This API as an OpenAPI 3.1 document', tags: ['meta'], responses: { 200: { description: 'OpenAPI document' } } }),
    (c) => {
      document ??= buildOpenApiDocument(app, {
        title: 'Parley API',
        version,
        description: 'Edge-native, multi-tenant chatbot backend. Every error is `{"error":{"code","message","request_id"}}`.',
      });
      return c.json(document);
    },
  );
}

import { describe, expect, inject, it } from 'vitest';
import { call } from './support/http';

interface OpenApiDoc {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, unknown>; requestBody?: unknown }>>;
  components: { schemas: Record<string, unknown> };
}

describe('GET /api/v1/openapi.json', () => {
  it('is an OpenAPI 3.1 document that a standard validator accepts', async () => {
    const res = await call('/api/v1/openapi.json');
    expect(res.status).toBe(200);
    const doc = await res.json<OpenApiDoc>();
    expect(doc.openapi).toBe('3.1.0');
    const verdict = await fetch(`http://127.0.0.1:${inject('toolsPort')}/openapi/validate`, {
      method: 'POST',
      body: JSON.stringify(doc),
    }).then((r) => r.json<{ valid: boolean; error?: string }>());
    expect(verdict).toEqual({ valid: true });
  });

  it('documents the routes the app serves, with the shared error envelope', async () => {
    const doc = await (await call('/api/v1/openapi.json')).json<OpenApiDoc>();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/health', '/ready', '/api/v1/openapi.json']));
    expect(doc.paths['/ready']?.get?.responses).toHaveProperty('503');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/projects/{id}/members',
        '/api/v1/projects/{id}/members/{user_id}',
        '/api/v1/projects/{id}/identity-secret/rotate',
      ]),
    );
    expect(doc.paths['/api/v1/projects/{id}/members']?.post?.responses).toHaveProperty('409');
    expect(doc.components.schemas).toHaveProperty('ErrorEnvelope');
  });
});

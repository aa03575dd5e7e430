import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { inject, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createBaseApp } from '../src/http/platform';
import { reportingFailures } from '../src/http/sentry';
import { validate } from '../src/http/validate';
import { call, callApp, expectEnvelope } from './support/http';
import { createTenant } from './support/tenants';

/** A test app on Parley's real platform middleware, with routes that exercise each failure. */
function testApp() {
  const app = createBaseApp();
  app.post(
    '/api/v1/echo',
    validate('json', z.object({ name: z.string().min(1), tags: z.array(z.string().max(3)).optional() })),
    (c) => c.json(c.req.valid('json')),
  );
  app.get('/api/v1/boom', () => {
    throw new Error('secret internal detail: password=hunter2');
  });
  return app;
}

const json = (body: string, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  body,
  headers: { 'content-type': 'application/json', ...headers },
});

describe('error envelope', () => {
  it('unknown route → 404 not_found', async () => {
    const body = await expectEnvelope(await call('/api/v1/nope'), 404, 'not_found');
    expect(body.error.message).toContain('/api/v1/nope');
  });

  it('wrong method → 405 method_not_allowed with Allow', async () => {
    const res = await call('/health', { method: 'DELETE' });
    await expectEnvelope(res, 405, 'method_not_allowed');
    expect(res.headers.get('allow')).toBe('GET, HEAD');
  });

  it('malformed JSON → 400 invalid_json', async () => {
    await expectEnvelope(await callApp(testApp(), '/api/v1/echo', json('{"name": ')), 400, 'invalid_json');
  });

  it('schema violations → 400 validation_failed with a detail per problem', async () => {
    const res = await callApp(testApp(), '/api/v1/echo', json(JSON.stringify({ name: '', tags: ['ok', 'toolong'] })));
    const body = await expectEnvelope(res, 400, 'validation_failed');
    expect(body.error.details).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: 'name' }), expect.objectContaining({ path: 'tags[1]' })]),
    );
  });

  it('a JSON route given another content type → 415', async () => {
    const res = await callApp(testApp(), '/api/v1/echo', {
      method: 'POST',
      body: 'name=x',
      headers: { 'content-type': 'text/plain' },
    });
    await expectEnvelope(res, 415, 'unsupported_media_type');
  });

  it('valid input passes through', async () => {
    const res = await callApp(testApp(), '/api/v1/echo', json(JSON.stringify({ name: 'ada' })));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ name: 'ada' });
  });

  it('oversized body → 413 payload_too_large, declared or streamed', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(1024 * 1024 + 10) });
    await expectEnvelope(await callApp(testApp(), '/api/v1/echo', json(big)), 413, 'payload_too_large');
    const stream = new Blob([big]).stream();
    const res = await callApp(testApp(), '/api/v1/echo', {
      method: 'POST',
      body: stream,
      headers: { 'content-type': 'application/json' },
      // @ts-expect-error workerd needs duplex for streamed request bodies
      duplex: 'half',
    });
    await expectEnvelope(res, 413, 'payload_too_large');
  });

  it('an unexpected error → 500 internal without internal text', async () => {
    const res = await callApp(testApp(), '/api/v1/boom');
    const body = await expectEnvelope(res, 500, 'internal');
    expect(JSON.stringify(body)).not.toContain('hunter2');
    expect(body.error.message).toBe('Internal error');
  });
});

describe("the real Worker's routes answer bad input with the envelope", () => {
  it('malformed JSON, wrong method, oversized body and hostile ids on API routes', async () => {
    const tenant = await createTenant();
    const withKey = (body: string) => json(body, { authorization: `Bearer ${tenant.secretKey}` });
    const chat = '/api/v1/chat';
    await expectEnvelope(await call(chat, withKey('{"message": ')), 400, 'invalid_json');
    await expectEnvelope(await call(chat, withKey('[1,2,3]')), 400, 'validation_failed');
    await expectEnvelope(await call(chat, { ...withKey('{}'), method: 'PUT' }), 405, 'method_not_allowed');
    const big = JSON.stringify({ message: 'x'.repeat(2 * 1024 * 1024), user_id: 'u1' });
    await expectEnvelope(await call(chat, withKey(big)), 413, 'payload_too_large');
    const sources = `/api/v1/projects/${tenant.projectId}/sources`;
    for (const id of ["1' or '1'='1", '../../etc/passwd', '%00', 'x'.repeat(500)]) {
      const res = await call(`${sources}/${encodeURIComponent(id)}`, {
        headers: { authorization: `Bearer ${tenant.secretKey}` },
      });
      expect([400, 404]).toContain(res.status);
      await expectEnvelope(res, res.status, res.status === 404 ? 'not_found' : 'validation_failed');
    }
  });
});

describe('sentry', () => {
  it('captures unhandled errors with request id, environment and release, scrubbed', async () => {
    const requestId = `req-sentry-${crypto.randomUUID()}`;
    const res = await callApp(
      testApp(),
      '/api/v1/boom?token=abc',
      { headers: { 'x-request-id': requestId, authorization: 'Bearer sk_live_secret', cookie: 'session=topsecret' } },
      { SENTRY_DSN: inject('sentryDsn'), RELEASE: 'test-release' },
    );
    expect(res.status).toBe(500);
    const events = await waitForEvents(requestId);
    expect(events.length).toBe(1);
    const raw = JSON.stringify(events[0]);
    const event = events[0]!.items[0] as {
      environment: string;
      release: string;
      tags: Record<string, string>;
      request?: { headers?: Record<string, string> };
    };
    expect(event.environment).toBe('development');
    expect(event.release).toBe('test-release');
    expect(event.tags.request_id).toBe(requestId);
    expect(raw).not.toContain('sk_live_secret');
    expect(raw).not.toContain('topsecret');
    expect(raw).not.toContain('token=abc');
  });

  it('captures failures of background handlers (queue, scheduled) tagged with the handler, and rethrows', async () => {
    const marker = `boom-${crypto.randomUUID()}`;
    const ctx = createExecutionContext();
    const failing = reportingFailures({ ...env, SENTRY_DSN: inject('sentryDsn') }, ctx, 'queue:parley-ingest', () =>
      Promise.reject(new Error(marker)),
    );
    await expect(failing).rejects.toThrow(marker);
    await waitOnExecutionContext(ctx);
    const [event] = await waitForEvents(marker);
    expect((event?.items[0] as { tags: Record<string, string> }).tags.handler).toBe('queue:parley-ingest');
  });

  it('sends nothing for handled 4xx errors', async () => {
    const requestId = `req-nosentry-${crypto.randomUUID()}`;
    await callApp(testApp(), '/api/v1/echo', json('{', { 'x-request-id': requestId }), {
      SENTRY_DSN: inject('sentryDsn'),
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(await events(requestId)).toEqual([]);
  });
});

describe('request id, headers and CORS', () => {
  it('honours a well-formed x-request-id and replaces a malformed one', async () => {
    const ok = await call('/health', { headers: { 'x-request-id': 'client-req-12345' } });
    expect(ok.headers.get('x-request-id')).toBe('client-req-12345');
    const bad = await call('/health', { headers: { 'x-request-id': 'bad id <script>' } });
    expect(bad.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('sets secure headers', async () => {
    const res = await call('/health');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('strict-transport-security')).toContain('max-age');
  });

  it('answers API preflights without ever allowing credentials', async () => {
    const res = await call('/api/v1/openapi.json', {
      method: 'OPTIONS',
      headers: {
        origin: 'https://shop.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });
});

interface SentryEnvelope {
  items: unknown[];
}

async function events(requestId: string): Promise<SentryEnvelope[]> {
  const res = await fetch(`http://127.0.0.1:${inject('sentryPort')}/__events?request_id=${requestId}`);
  return res.json<SentryEnvelope[]>();
}

async function waitForEvents(requestId: string): Promise<SentryEnvelope[]> {
  for (let i = 0; i < 50; i++) {
    const found = await events(requestId);
    if (found.length) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  return [];
}

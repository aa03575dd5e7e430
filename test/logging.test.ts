/**
 * The per-request log line: one structured JSON line with method, route pattern, status,
 * duration, request id and project id — and never a credential, a query string or a body.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { call } from './support/http';
import { createTenant, postJson } from './support/tenants';

afterEach(() => vi.restoreAllMocks());

/** Every line the Worker logged while `run` ran, parsed where it is JSON. */
async function logged(run: () => Promise<unknown>): Promise<{ raw: string[]; lines: Record<string, unknown>[] }> {
  const raw: string[] = [];
  for (const method of ['log', 'warn', 'error'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void raw.push(args.map(String).join(' ')));
  }
  await run();
  vi.restoreAllMocks();
  const lines = raw.flatMap((l) => {
    try {
      return [JSON.parse(l) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
  return { raw, lines };
}

describe('request log', () => {
  it('writes one line per request with the route pattern and project, and no secrets or bodies', async () => {
    const tenant = await createTenant();
    const requestId = `log-${crypto.randomUUID()}`;
    const secretText = `BODY-${crypto.randomUUID()}`;
    const { raw, lines } = await logged(() =>
      call(
        `/api/v1/projects/${tenant.projectId}/sources?token=QUERY-SECRET`,
        postJson(tenant.secretKey, { type: 'text', title: 'T', content: secretText }, { 'x-request-id': requestId }),
      ),
    );
    const mine = lines.filter((l) => l.msg === 'request' && l.request_id === requestId);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      level: 'info',
      method: 'POST',
      route: '/api/v1/projects/:id/sources',
      status: 202,
      project_id: tenant.projectId,
    });
    expect(typeof mine[0]?.duration_ms).toBe('number');
    const all = raw.join('\n');
    for (const secret of [tenant.secretKey, secretText, 'QUERY-SECRET']) expect(all).not.toContain(secret);
  });

  it('logs client errors as warnings, with the route even for unknown paths', async () => {
    const requestId = `log-${crypto.randomUUID()}`;
    const { lines } = await logged(() =>
      call('/api/v1/nothing-here', { headers: { 'x-request-id': requestId, authorization: 'Bearer sk_not_real' } }),
    );
    const line = lines.find((l) => l.msg === 'request' && l.request_id === requestId);
    expect(line).toMatchObject({ level: 'warn', status: 404, method: 'GET' });
    expect(JSON.stringify(lines)).not.toContain('sk_not_real');
  });
});

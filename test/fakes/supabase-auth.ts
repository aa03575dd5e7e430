/**
 * A local stand-in for Supabase Auth's token side: publishes an ES256 JWKS at
 * `/auth/v1/.well-known/jwks.json` (what Parley fetches to verify owner tokens) and, for tests,
 * mints tokens at `POST /__sign` — with the published key, or with an unpublished one
 * (`"key":"unpublished"`) to test unknown-kid refusals.
 */
import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';

export interface FakeSupabaseAuth {
  readonly url: string;
  close(): Promise<void>;
}

interface SignRequest {
  claims: JWTPayload;
  /** Seconds from now; negative for an already expired token. */
  expiresIn?: number;
  key?: 'published' | 'unpublished';
  issuer?: string;
  audience?: string;
}

export async function startFakeSupabaseAuth(): Promise<FakeSupabaseAuth> {
  const published = await generateKeyPair('ES256', { extractable: true });
  const unpublished = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(published.publicKey)), kid: 'parley-test-key', alg: 'ES256', use: 'sig' };
  let url = '';

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.method === 'GET' && req.url === '/auth/v1/.well-known/jwks.json') return send(200, { keys: [jwk] });
      if (req.method === 'POST' && req.url === '/__sign') {
        const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as SignRequest;
        const now = Math.floor(Date.now() / 1000);
        const which = input.key === 'unpublished' ? unpublished : published;
        new SignJWT({ role: 'authenticated', ...input.claims })
          .setProtectedHeader({ alg: 'ES256', kid: input.key === 'unpublished' ? 'not-in-jwks' : jwk.kid, typ: 'JWT' })
          .setIssuer(input.issuer ?? `${url}/auth/v1`)
          .setAudience(input.audience ?? 'authenticated')
          .setIssuedAt(now)
          .setExpirationTime(now + (input.expiresIn ?? 3600))
          .sign(which.privateKey)
          .then(
            (token) => send(200, { token }),
            (err: unknown) => send(500, { error: String(err) }),
          );
        return;
      }
      send(404, { error: 'not found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return { url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

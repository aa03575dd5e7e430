/**
 * The isolate's JWKS cache is keyed by issuer URL — including every project's owner-set
 * `end_user_supabase_url` — so it is bounded: at most JWKS_ISSUERS_MAX issuers, the least
 * recently used evicted; an issuer in use stays cached, and an evicted one works again.
 */
import { describe, expect, it, inject } from 'vitest';
import { jwks, jwksCacheSize, JWKS_ISSUERS_MAX, verifySupabaseToken } from '../src/auth/jwt';
import { asymmetricToken } from './support/tenants';

/** Issuers no other test uses; their fetchers never fetch, as nothing verifies against them. */
const churn = (count: number, tag: string) => {
  for (let i = 0; i < count; i++) jwks(`https://${tag}-${i}.supabase.test`);
};

async function verifies(supabaseUrl: string): Promise<void> {
  const sub = crypto.randomUUID();
  const claims = await verifySupabaseToken(await asymmetricToken({ sub }), { supabaseUrl });
  expect(claims.sub).toBe(sub);
}

describe('JWKS cache', () => {
  it('keeps at most JWKS_ISSUERS_MAX issuers, evicting the least recently used', async () => {
    const home = inject('supabaseUrl');
    await verifies(home);
    const homeSet = jwks(home);
    const idle = jwks('https://idle.supabase.test');

    // Three times the bound of other issuers, with `home` used now and then.
    for (let round = 0; round < 6; round++) {
      churn(JWKS_ISSUERS_MAX / 2, `tenant-${round}`);
      await verifies(home);
      expect(jwksCacheSize()).toBeLessThanOrEqual(JWKS_ISSUERS_MAX);
    }
    expect(jwksCacheSize()).toBe(JWKS_ISSUERS_MAX);
    // The issuer in use kept its fetcher (and its fetched keys); the idle one was evicted.
    expect(jwks(home)).toBe(homeSet);
    expect(jwks('https://idle.supabase.test')).not.toBe(idle);
  });

  it('an evicted issuer verifies again with a fresh fetcher', async () => {
    const home = inject('supabaseUrl');
    await verifies(home);
    const before = jwks(home);
    churn(JWKS_ISSUERS_MAX, 'evict');
    expect(jwksCacheSize()).toBe(JWKS_ISSUERS_MAX);
    await verifies(home);
    expect(jwks(home)).not.toBe(before);
  });
});

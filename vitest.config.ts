/**
 * Tests run inside workerd through @cloudflare/vitest-plugin with the bindings from
 * wrangler.toml, pointed at the real local stack that test/setup/global-setup.ts starts.
 */
import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';
import { TEST_SUPABASE_JWT_SECRET } from './test/support/constants.ts';

export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: './wrangler.toml' },
      miniflare: {
        hyperdrives: { HYPERDRIVE: inject('databaseUrl') },
        bindings: {
          ENVIRONMENT: 'development',
          RELEASE: 'test',
          UPSTASH_REDIS_REST_URL: inject('upstashUrl'),
          UPSTASH_REDIS_REST_TOKEN: inject('upstashToken'),
          SENTRY_DSN: '',
          OPENAI_API_KEY: '',
          OPENAI_BASE_URL: '',
          SUPABASE_URL: inject('supabaseUrl'),
          DNS_RESOLVER_URL: inject('dohUrl'),
          SUPABASE_JWT_SECRET: TEST_SUPABASE_JWT_SECRET,
          SESSION_SECRET: 'parley-test-session-secret-0123456789abcdef',
        },
      },
    })),
  ],
  test: {
    globalSetup: ['./test/setup/global-setup.ts'],
    include: ['test/**/*.test.ts'],
    // Request log lines only for failing tests.
    silent: 'passed-only',
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});

/** What test/setup/global-setup.ts provides to tests through vitest's `inject()`. */
declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    upstashUrl: string;
    upstashToken: string;
    /** Request/command counter of the Upstash REST endpoint (scripts/stack/upstash-rest.ts). */
    upstashStatsUrl: string;
    sentryDsn: string;
    sentryPort: number;
    blackHolePort: number;
    toolsPort: number;
    /** The loopback company website of test/fakes/site.ts. */
    siteOrigin: string;
    supabaseUrl: string;
    /** Fake DNS-over-HTTPS resolver (test/fakes/doh.ts), a `resolverUrl` for the crawler. */
    dohUrl: string;
    /** Loopback test website for the crawler's fetch tests (test/fakes/crawl-site.ts). */
    crawlSitePort: number;
    /** Fake OpenAI API base URL ending in /v1 (test/fakes/openai.ts); admin routes at its origin. */
    openaiUrl: string;
  }
}

export {};

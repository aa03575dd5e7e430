/** What test/setup/global-setup.ts provides to tests through vitest's `inject()`. */
declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    upstashUrl: string;
    upstashToken: string;
    sentryDsn: string;
    sentryPort: number;
    blackHolePort: number;
    toolsPort: number;
    supabaseUrl: string;
  }
}

export {};

/**
 * What the local tools need to know about the dev configuration: the secrets in .dev.vars
 * (created from .dev.vars.example on first use) and the plain vars of wrangler.toml's top level.
 */
import { appendFileSync, copyFileSync, existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The dev owner used by `npm run token` and the seeded demo project unless told otherwise. */
export const DEV_OWNER_ID = '00000000-0000-4000-8000-00000000d0e0';

function parseLines(text: string, pattern: RegExp): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = pattern.exec(line);
    if (match) out[match[1]!] = match[2]!.trim().replace(/^["']|["']$/g, '');
  }
  return out;
}

const LINE = /^\s*([A-Z0-9_]+)\s*=\s*(.*)$/;

/**
 * KEY=VALUE pairs of .dev.vars. Copies .dev.vars.example there when it is missing, and appends
 * variables the example has gained since (with the example's local values).
 */
export function devVars(log?: (line: string) => void): Record<string, string> {
  const path = `${ROOT}.dev.vars`;
  const examplePath = `${ROOT}.dev.vars.example`;
  if (!existsSync(path)) {
    copyFileSync(examplePath, path);
    log?.('[dev] created .dev.vars from .dev.vars.example');
  }
  const vars = parseLines(readFileSync(path, 'utf8'), LINE);
  const example = parseLines(readFileSync(examplePath, 'utf8'), LINE);
  const missing = Object.keys(example).filter((name) => !(name in vars));
  if (missing.length > 0) {
    appendFileSync(path, `\n${missing.map((name) => `${name}=${example[name]}`).join('\n')}\n`);
    log?.(`[dev] added ${missing.join(', ')} to .dev.vars from .dev.vars.example`);
    Object.assign(vars, Object.fromEntries(missing.map((name) => [name, example[name]!])));
  }
  return vars;
}

/** `NAME = "value"` lines of wrangler.toml's top-level [vars] (before the first [env.…]). */
export function wranglerVars(): Record<string, string> {
  const toml = readFileSync(`${ROOT}wrangler.toml`, 'utf8');
  const top = toml.split(/^\[env\./m)[0] ?? '';
  const vars = top.split(/^\[vars\]\s*$/m)[1]?.split(/^\[/m)[0] ?? '';
  return parseLines(vars, /^\s*([A-Z0-9_]+)\s*=\s*(.+)$/);
}

/** An owner access token for the local stack: HS256 with the dev Supabase JWT secret. */
export async function devOwnerToken(userId = DEV_OWNER_ID, ttlSeconds = 24 * 3600): Promise<string> {
  const secret = devVars().SUPABASE_JWT_SECRET;
  const supabaseUrl = wranglerVars().SUPABASE_URL;
  if (!secret) throw new Error('SUPABASE_JWT_SECRET is missing from .dev.vars (see .dev.vars.example)');
  if (!supabaseUrl) throw new Error('SUPABASE_URL is missing from [vars] in wrangler.toml');
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ role: 'authenticated', email: 'dev-owner@parley.local' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId)
    .setIssuer(`${supabaseUrl.replace(/\/$/, '')}/auth/v1`)
    .setAudience('authenticated')
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSeconds)
    .sign(new TextEncoder().encode(secret));
}

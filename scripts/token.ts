/**
 * `npm run token -- [--user <uuid>] [--ttl <seconds>]`: prints an owner access token the local
 * stack accepts (Supabase-style HS256, signed with SUPABASE_JWT_SECRET from .dev.vars), e.g.
 *   curl -H "Authorization: Bearer $(npm run -s token)" http://127.0.0.1:8787/api/v1/projects
 */
import { parseArgs } from 'node:util';
import { DEV_OWNER_ID, devOwnerToken } from './lib/dev-env.ts';

const { values } = parseArgs({
  options: { user: { type: 'string', default: DEV_OWNER_ID }, ttl: { type: 'string', default: String(24 * 3600) } },
});
const user = values.user ?? DEV_OWNER_ID;
if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(user)) {
  console.error('--user must be a UUID (Supabase user ids are UUIDs)');
  process.exit(2);
}
const ttl = Number(values.ttl);
if (!Number.isInteger(ttl) || ttl < 60) {
  console.error('--ttl must be a whole number of seconds, at least 60');
  process.exit(2);
}
console.log(await devOwnerToken(user, ttl));

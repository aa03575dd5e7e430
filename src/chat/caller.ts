/**
 * The end user a chat request speaks for: the subject of an end-user session token, or — with
 * a secret key — the customer's own `user_id` (a verified identity, since the key vouches).
 */
import type { Context } from 'hono';
import { upsertEndUser } from '../end-users';
import type { AppEnv } from '../env';
import { AppError } from '../errors';

export async function callerEndUser(c: Context<AppEnv>, userId: string | undefined): Promise<string> {
  const principal = c.get('principal');
  if (principal.kind === 'session') {
    if (userId !== undefined) throw new AppError('bad_request', 'user_id is only accepted with a secret key');
    return principal.endUserId;
  }
  if (principal.kind === 'secret_key') {
    if (!userId) {
      throw new AppError('validation_failed', 'Invalid request', {
        details: [{ path: 'user_id', message: 'required with a secret key' }],
      });
    }
    return upsertEndUser(c.get('sql')(), principal.projectId, 'verified', userId);
  }
  throw new AppError('forbidden', 'Chat needs an end-user session token or a secret key');
}

/**
 * `POST /api/v1/auth/session`: a publishable key (widget, app) or secret key (a customer's
 * server) opens a short-lived end-user session token bound to the project and the end user.
 * Identities: an anonymous visitor id the client keeps; a customer user id proven by
 * `user_hash` = HMAC-SHA256(project identity secret, user_id) (a secret key may vouch without
 * it; after a rotation the previous secret verifies during its grace period); or an end-user
 * Supabase JWT of the customer's own Supabase project.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { access } from '../auth/access';
import { InvalidTokenError, signSession, verifySupabaseToken } from '../auth/jwt';
import { upsertEndUser, type EndUserKind } from '../end-users';
import type { AppEnv } from '../env';
import { AppError } from '../errors';
import { describe } from '../http/openapi';
import { validate } from '../http/validate';
import { identitySecrets, verifiesUserHash } from '../projects/identity-secret';

const ExternalId = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

const SessionRequest = z
  .object({
    visitor_id: z
      .string()
      .regex(/^[A-Za-z0-9_-]{8,128}$/, '8–128 characters of A–Z, a–z, 0–9, _ or -')
      .optional()
      .meta({ description: 'Anonymous visitor id the client keeps; a new one is issued when absent' }),
    user_id: ExternalId.optional().meta({ description: "The customer's own user id" }),
    user_hash: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'hex HMAC-SHA256')
      .optional(),
    supabase_token: z
      .string()
      .max(8192)
      .optional()
      .meta({ description: "An end-user access token of the customer's Supabase project" }),
  })
  .strict()
  .refine((b) => [b.visitor_id, b.user_id, b.supabase_token].filter((v) => v !== undefined).length <= 1, {
    message: 'give at most one of visitor_id, user_id and supabase_token',
  })
  .refine((b) => b.user_hash === undefined || b.user_id !== undefined, {
    message: 'user_hash needs user_id',
    path: ['user_hash'],
  });

const SessionResponse = z.object({
  token: z.string(),
  end_user_id: z.uuid(),
  expires_at: z.iso.datetime(),
  identity: z.enum(['anonymous', 'verified', 'supabase']),
  visitor_id: z.string().optional(),
});

function newVisitorId(): string {
  return `v_${crypto.randomUUID().replace(/-/g, '')}`;
}

export const session = new Hono<AppEnv>().post(
  '/auth/session',
  describe({
    summary: 'Open an end-user session (publishable or secret key)',
    tags: ['auth'],
    responses: { 201: { description: 'A session token for the end user', schema: SessionResponse } },
  }),
  access({ principals: ['publishable_key', 'secret_key'] }),
  validate('json', SessionRequest),
  async (c) => {
    const body = c.req.valid('json');
    const principal = c.get('principal');
    const project = c.get('project');
    if (!project || (principal.kind !== 'publishable_key' && principal.kind !== 'secret_key')) {
      throw new AppError('forbidden', 'Sessions are opened with a project key');
    }
    const sql = c.get('sql')();
    const config = c.get('config');
    let kind: EndUserKind;
    let externalId: string;
    let visitorId: string | undefined;

    if (body.user_id !== undefined) {
      if (principal.kind === 'publishable_key') {
        // During a rotation's grace period the previous secret verifies too.
        const verified =
          body.user_hash !== undefined &&
          (await verifiesUserHash(await identitySecrets(sql, project.id), body.user_id, body.user_hash));
        if (!verified) {
          throw new AppError(
            'unauthorized',
            'user_id is not verified: send user_hash = HMAC-SHA256(identity secret, user_id) computed by your server',
          );
        }
      }
      kind = 'verified';
      externalId = body.user_id;
    } else if (body.supabase_token !== undefined) {
      const supabaseUrl = project.settings.end_user_supabase_url;
      if (!supabaseUrl)
        throw new AppError(
          'bad_request',
          'This project does not accept Supabase tokens (settings.end_user_supabase_url is not set)',
        );
      try {
        const claims = await verifySupabaseToken(body.supabase_token, { supabaseUrl });
        kind = 'supabase';
        externalId = claims.sub;
      } catch (err) {
        if (err instanceof InvalidTokenError)
          throw new AppError('unauthorized', `Invalid supabase_token: ${err.message}`);
        throw err;
      }
    } else {
      visitorId = body.visitor_id ?? newVisitorId();
      kind = 'anonymous';
      externalId = visitorId;
    }

    const endUserId = await upsertEndUser(sql, project.id, kind, externalId);
    const { token, expiresAt } = await signSession(
      config.SESSION_SECRET,
      { endUserId, projectId: project.id },
      config.SESSION_TTL_SECONDS,
    );
    return c.json(
      {
        token,
        end_user_id: endUserId,
        expires_at: expiresAt.toISOString(),
        identity: kind,
        ...(visitorId ? { visitor_id: visitorId } : {}),
      },
      201,
    );
  },
);

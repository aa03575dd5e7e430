/**
 * Shapes of projects and their settings: the single source for validation, storage and the
 * OpenAPI document.
 */
import { z } from 'zod';

const Window = z.object({
  per_minute: z.number().int().min(1).max(1_000_000).optional(),
  per_hour: z.number().int().min(1).max(10_000_000).optional(),
});

export const RateLimitSettings = z
  .object({ ip: Window, key: Window, end_user: Window, project: Window })
  .partial()
  .meta({ description: 'Overrides of the default request limits per dimension' });

const SettingsFields = z.object({
  persona: z.string().max(8000).meta({ description: 'System prompt / persona of the bot' }),
  model: z.string().min(1).max(100),
  greeting: z.string().max(2000),
  rate_limits: RateLimitSettings,
  retention_days: z.number().int().min(1).max(3650).meta({ description: 'Days conversations are kept' }),
  temperature: z.number().min(0).max(2),
  max_tokens: z.number().int().min(16).max(4096).meta({ description: 'Largest answer, in tokens (default 600)' }),
  top_k: z.number().int().min(1).max(20).meta({ description: 'Passages retrieved per question (default 6)' }),
  min_similarity: z
    .number()
    .min(0)
    .max(1)
    .meta({ description: 'Vector similarity a passage needs to count as support' }),
  grounding_threshold: z
    .number()
    .min(0)
    .max(1)
    .meta({ description: 'Answers grounded below this offer a human (default 0.25)' }),
  cache_ttl_seconds: z
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 3600)
    .meta({ description: 'Answer cache lifetime; 0 disables (default 3600)' }),
  daily_token_budget: z
    .number()
    .int()
    .min(1)
    .meta({ description: 'Model tokens per UTC day; 429 budget_exceeded once spent' }),
  classify_with_model: z.boolean().meta({
    description: 'Ask the model to classify messages the fast rules leave as questions (one extra model call per turn)',
  }),
  answer_during_handoff: z
    .boolean()
    .meta({ description: 'Let the bot keep answering while a human has the conversation' }),
  max_upload_bytes: z
    .number()
    .int()
    .min(1024)
    .max(50 * 1024 * 1024)
    .meta({ description: 'Largest file accepted by source uploads (default 10 MB)' }),
  protected_terms: z
    .array(z.string().trim().min(4).max(200))
    .max(50)
    .meta({
      description:
        'Strings the bot must never output, whatever a model or document says (canaries, internal codes). ' +
        'Code-like words of the persona (letters mixed with digits) are protected without being listed.',
    }),
  end_user_supabase_url: z
    .url({ protocol: /^https?$/ })
    .meta({ description: "The customer's Supabase project URL, to accept their end users' Supabase JWTs" }),
});

export const ProjectSettings = SettingsFields.partial().strict();

/** A settings change: keys given replace the current value, keys set to null are removed. */
export const SettingsPatch = z
  .object(
    Object.fromEntries(
      Object.entries(SettingsFields.shape).map(([key, field]) => [key, field.nullable().optional()]),
    ) as {
      [K in keyof typeof SettingsFields.shape]: z.ZodOptional<z.ZodNullable<(typeof SettingsFields.shape)[K]>>;
    },
  )
  .strict();

export type ProjectSettings = z.infer<typeof ProjectSettings>;

/** An origin as browsers send it: scheme, host and optional port; no path. */
export const Origin = z
  .string()
  .max(300)
  .transform((value, ctx) => {
    try {
      const url = new URL(value);
      if (
        (url.protocol === 'https:' || url.protocol === 'http:') &&
        url.origin === value.replace(/\/$/, '').toLowerCase()
      ) {
        return url.origin;
      }
    } catch {
      // fall through
    }
    ctx.addIssue({ code: 'custom', message: 'must be an origin like https://shop.example (no path)' });
    return z.NEVER;
  });

export const CreateProject = z
  .object({
    name: z.string().trim().min(1).max(200),
    allowed_origins: z.array(Origin).max(50).default([]),
    settings: ProjectSettings.default({}),
  })
  .strict();

export const UpdateProject = z
  .object({
    name: z.string().trim().min(1).max(200),
    allowed_origins: z.array(Origin).max(50),
    settings: SettingsPatch.meta({ description: 'Merged into the current settings; a key set to null is removed' }),
  })
  .partial()
  .strict();

export const Role = z.enum(['owner', 'admin', 'agent']);
export type Role = z.infer<typeof Role>;

export const Project = z
  .object({
    id: z.uuid(),
    name: z.string(),
    allowed_origins: z.array(z.string()),
    settings: ProjectSettings,
    identity_secret: z
      .string()
      .nullable()
      .meta({
        description:
          'Signs end-user ids: user_hash = HMAC-SHA256(identity_secret, user_id). Null for agents. ' +
          'Replace it with POST /projects/{id}/identity-secret/rotate.',
      }),
    role: Role,
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .meta({ id: 'Project' });

export const ProjectParams = z.object({ id: z.string().max(100) });

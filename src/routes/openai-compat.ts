/**
 * OpenAI-compatible endpoints, so any OpenAI SDK can talk to Parley unchanged:
 * `POST /v1/chat/completions` (JSON and streamed chunks in OpenAI's exact formats) and
 * `GET /v1/models`. Credentials are Parley's (end-user session token, or secret key with
 * `user` = your end-user id). The last user message is the question; earlier messages are the
 * history. Parley's retrieval, routing and guard apply; citations, grounding and handoff travel
 * in an extra `parley` field that OpenAI clients ignore.
 */
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import { access } from '../auth/access';
import { callerEndUser } from '../chat/caller';
import { chatDeps } from '../chat/deps';
import { MAX_MESSAGE_CHARS } from '../chat/schemas';
import { completeTurn, DEFAULT_MAX_TOKENS, startTurn, type TurnOutcome } from '../chat/turn';
import type { ChatMessage } from '../chat/types';
import type { AppEnv } from '../env';
import { AppError } from '../errors';
import { batchDeltas } from '../http/delta-batch';
import { abortOnDisconnect, clientClosed } from '../http/disconnect';
import { log } from '../http/logger';
import { describe } from '../http/openapi';
import { validate } from '../http/validate';

const MODEL_ID = 'parley';

const Content = z.union([
  z.string(),
  z
    .array(z.object({ type: z.string(), text: z.string().optional() }).loose())
    .transform((parts) => parts.map((p) => p.text ?? '').join('')),
]);

const CompletionRequest = z
  .object({
    model: z.string().max(100).optional(),
    messages: z
      .array(
        z
          .object({
            role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
            content: Content.nullable().optional(),
          })
          .loose(),
      )
      .min(1)
      .max(200),
    stream: z.boolean().optional(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).loose().optional(),
    user: z.string().min(1).max(256).optional(),
    temperature: z.number().min(0).max(2).optional(),
    max_tokens: z.number().int().min(1).max(4096).optional(),
    max_completion_tokens: z.number().int().min(1).max(4096).optional(),
    conversation_id: z
      .uuid()
      .optional()
      .meta({
        description:
          'Parley extension: continue this conversation (its stored history, summary and handoff apply; ' +
          'earlier messages in `messages` are then ignored). Returned as `parley.conversation_id`.',
      }),
  })
  .loose();

function completionBody(o: TurnOutcome, created: number) {
  return {
    id: `chatcmpl-${o.messageId}`,
    object: 'chat.completion' as const,
    created,
    model: MODEL_ID,
    choices: [
      {
        index: 0,
        message: { role: 'assistant' as const, content: o.content, refusal: null },
        logprobs: null,
        finish_reason: 'stop' as const,
      },
    ],
    usage: usageOf(o),
    parley: parleyFields(o),
  };
}

const usageOf = (o: TurnOutcome) => {
  const prompt = o.usage?.prompt_tokens ?? 0;
  const completion = o.usage?.completion_tokens ?? 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
};

const parleyFields = (o: TurnOutcome) => ({
  conversation_id: o.conversationId,
  message_id: o.messageId,
  citations: o.citations,
  grounding: o.grounding,
  handoff: o.handoff,
  degraded: o.degraded,
  ...(o.ticketId ? { ticket_id: o.ticketId } : {}),
});

export const openaiCompat = new Hono<AppEnv>()
  .get(
    '/models',
    describe({
      summary: 'OpenAI-compatible model list',
      tags: ['openai-compatible'],
      responses: { 200: { description: 'Models' } },
    }),
    access({ principals: ['session', 'secret_key'] }),
    (c) =>
      c.json({ object: 'list', data: [{ id: MODEL_ID, object: 'model', created: 1_767_225_600, owned_by: 'parley' }] }),
  )
  .post(
    '/chat/completions',
    describe({
      summary: 'OpenAI-compatible chat completions (Parley retrieval, routing and citations applied)',
      tags: ['openai-compatible'],
      responses: { 200: { description: 'chat.completion or a stream of chat.completion.chunk' } },
    }),
    access({ principals: ['session', 'secret_key'], actsFor: 'user' }),
    validate('json', CompletionRequest),
    async (c) => {
      const body = c.req.valid('json');
      const turns = body.messages.map((m) => ({ role: m.role, content: m.content ?? '' }));
      const lastUser = turns.findLastIndex((m) => m.role === 'user');
      const question = turns[lastUser]?.content.trim() ?? '';
      if (!question)
        throw new AppError('validation_failed', 'Invalid request body', {
          details: [{ path: 'messages', message: 'needs a non-empty user message' }],
        });
      if (question.length > MAX_MESSAGE_CHARS) {
        throw new AppError('validation_failed', 'Invalid request body', {
          details: [{ path: `messages[${lastUser}].content`, message: `at most ${MAX_MESSAGE_CHARS} characters` }],
        });
      }
      const history: ChatMessage[] = turns
        .slice(0, lastUser)
        .filter((m) => m.role === 'user' || m.role === 'assistant')
        .map((m) => ({ role: m.role as 'user' | 'assistant', content: m.content }));
      const project = c.get('project');
      if (!project?.knowledge) throw new AppError('forbidden', 'Chat needs a project credential');
      const endUserId = await callerEndUser(c, body.user);
      const controller = abortOnDisconnect(c.req.raw);
      const sql = c.get('takeSql')();
      const close = () => c.executionCtx.waitUntil(sql.end({ timeout: 2 }).catch(() => {}));
      // A caller may ask for shorter answers, never longer than the project allows; only the
      // project's own server (secret key) may change the temperature.
      const requested = body.max_completion_tokens ?? body.max_tokens;
      const cap = project.settings.max_tokens ?? DEFAULT_MAX_TOKENS;
      const settings = {
        ...project.settings,
        ...(body.temperature !== undefined && c.get('principal')?.kind === 'secret_key'
          ? { temperature: body.temperature }
          : {}),
        max_tokens: Math.min(requested ?? cap, cap),
      };
      let turn;
      try {
        turn = await startTurn(chatDeps(c.get('config'), sql), {
          projectId: project.id,
          settings,
          knowledge: project.knowledge,
          endUserId,
          conversationId: body.conversation_id,
          message: question,
          history: body.conversation_id ? undefined : history,
          signal: controller.signal,
        });
      } catch (err) {
        close();
        throw err;
      }
      const created = Math.floor(Date.now() / 1000);
      if (!body.stream) {
        try {
          return c.json(
            completionBody(await completeTurn(turn, { meta: () => {}, delta: () => {}, citations: () => {} }), created),
          );
        } catch (err) {
          // As in the stream below, a client that left is not a failure; its answer is not stored.
          if (controller.signal.aborted) return clientClosed();
          throw err;
        } finally {
          close();
        }
      }
      const started = turn;
      return streamSSE(c, async (stream) => {
        stream.onAbort(() => controller.abort());
        let id = 'chatcmpl-pending';
        const chunk = (delta: Record<string, unknown>, finish: string | null, extra: Record<string, unknown> = {}) =>
          stream.writeSSE({
            data: JSON.stringify({
              id,
              object: 'chat.completion.chunk',
              created,
              model: MODEL_ID,
              choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
              ...extra,
            }),
          });
        const deltas = batchDeltas((text) => chunk({ content: text }, null));
        try {
          const outcome = await completeTurn(started, {
            live: true,
            meta: async (e) => {
              id = `chatcmpl-${e.message_id}`;
              await chunk({ role: 'assistant', content: '' }, null);
            },
            delta: deltas.push,
            citations: () => {},
          });
          await deltas.flush();
          await chunk({}, 'stop', { parley: parleyFields(outcome) });
          if (body.stream_options?.include_usage) {
            await stream.writeSSE({
              data: JSON.stringify({
                id,
                object: 'chat.completion.chunk',
                created,
                model: MODEL_ID,
                choices: [],
                usage: usageOf(outcome),
              }),
            });
          }
          await stream.writeSSE({ data: '[DONE]' });
        } catch (err) {
          if (controller.signal.aborted) return;
          log('error', 'completion stream failed', {
            request_id: c.get('requestId'),
            error: err instanceof Error ? err.message : String(err),
          });
          await deltas.flush().catch(() => {});
          await stream.writeSSE({
            data: JSON.stringify({
              error: {
                message: 'The answer could not be completed',
                type: 'server_error',
                code: err instanceof AppError ? err.code : 'internal',
              },
            }),
          });
        } finally {
          close();
        }
      });
    },
  );

/**
 * `POST /api/v1/chat`: one turn of a conversation, answered as JSON or as Server-Sent Events
 * (`stream: true` or `Accept: text/event-stream`): `meta`, `delta`…, `citations`, `done`, or
 * `error` if it fails mid-stream. A client that disconnects stops the upstream model call.
 */
import { Hono, type Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { access } from '../auth/access';
import { callerEndUser } from '../chat/caller';
import { chatDeps } from '../chat/deps';
import { ChatRequest, ChatResponse } from '../chat/schemas';
import { completeTurn, startTurn, type TurnOutcome, type TurnSink } from '../chat/turn';
import type { AppEnv } from '../env';
import { AppError } from '../errors';
import { describe } from '../http/openapi';
import { batchDeltas } from '../http/delta-batch';
import { abortOnDisconnect, clientClosed } from '../http/disconnect';
import { log } from '../http/logger';
import { validate } from '../http/validate';

function wantsStream(c: Context<AppEnv>, stream: boolean | undefined): boolean {
  return stream ?? (c.req.header('accept') ?? '').includes('text/event-stream');
}

export function outcomeJson(o: TurnOutcome) {
  return {
    conversation_id: o.conversationId,
    message: {
      id: o.messageId,
      role: 'assistant' as const,
      content: o.content,
      citations: o.citations,
      grounding: o.grounding,
      degraded: o.degraded,
    },
    handoff: o.handoff,
    ...(o.ticketId ? { ticket_id: o.ticketId } : {}),
  };
}

export const chat = new Hono<AppEnv>().post(
  '/chat',
  describe({
    summary: 'Send a message and get the answer (JSON, or Server-Sent Events with stream:true)',
    description:
      'SSE events: `meta` {conversation_id, message_id}, `delta` {text}, `citations` {citations}, `done` {grounding, handoff, ticket_id?, usage?, degraded, cached}, `error` {code, message}.',
    tags: ['chat'],
    responses: { 200: { description: 'The answer', schema: ChatResponse } },
  }),
  access({ principals: ['session', 'secret_key'], actsFor: 'user_id' }),
  validate('json', ChatRequest),
  async (c) => {
    const body = c.req.valid('json');
    if (!body.message.trim()) {
      throw new AppError('validation_failed', 'Invalid request body', {
        details: [{ path: 'message', message: 'must not be empty' }],
      });
    }
    const project = c.get('project');
    if (!project?.knowledge) throw new AppError('forbidden', 'Chat needs a project credential');
    const endUserId = await callerEndUser(c, body.user_id);
    const controller = abortOnDisconnect(c.req.raw);
    // The request's connection (auth used it already), taken over: a streamed answer outlives the
    // request handler, so the turn closes it when it ends.
    const sql = c.get('takeSql')();
    const close = () => c.executionCtx.waitUntil(sql.end({ timeout: 2 }).catch(() => {}));
    const deps = chatDeps(c.get('config'), sql);
    let turn;
    try {
      turn = await startTurn(deps, {
        projectId: project.id,
        settings: project.settings,
        knowledge: project.knowledge,
        endUserId,
        conversationId: body.conversation_id,
        message: body.message,
        signal: controller.signal,
      });
    } catch (err) {
      close();
      throw err;
    }

    if (!wantsStream(c, body.stream)) {
      const ignore: TurnSink = { meta: () => {}, delta: () => {}, citations: () => {} };
      try {
        return c.json(outcomeJson(await completeTurn(turn, ignore)));
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
      const send = (event: string, data: unknown) => stream.writeSSE({ event, data: JSON.stringify(data) });
      const deltas = batchDeltas((text) => send('delta', { text }));
      try {
        const outcome = await completeTurn(started, {
          live: true,
          meta: (e) => send('meta', e),
          delta: deltas.push,
          citations: async (citations) => {
            await deltas.flush();
            await send('citations', { citations });
          },
        });
        await deltas.flush();
        await send('done', {
          grounding: outcome.grounding,
          handoff: outcome.handoff,
          ...(outcome.ticketId ? { ticket_id: outcome.ticketId } : {}),
          ...(outcome.usage ? { usage: outcome.usage } : {}),
          degraded: outcome.degraded,
          cached: outcome.cached,
        });
      } catch (err) {
        if (controller.signal.aborted) return;
        log('error', 'chat stream failed', {
          request_id: c.get('requestId'),
          error: err instanceof Error ? err.message : String(err),
        });
        const code = err instanceof AppError ? err.code : 'internal';
        await deltas.flush().catch(() => {});
        await send('error', {
          code,
          message: err instanceof AppError ? err.message : 'The answer could not be completed',
        });
      } finally {
        close();
      }
    });
  },
);

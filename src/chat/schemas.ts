/** Shapes of the chat API: the request, the answer, conversations and feedback. */
import { z } from 'zod';

export const MAX_MESSAGE_CHARS = 4000;

export const ChatRequest = z
  .object({
    message: z.string().max(MAX_MESSAGE_CHARS, `at most ${MAX_MESSAGE_CHARS} characters`),
    conversation_id: z.uuid().optional(),
    stream: z.boolean().optional(),
    user_id: z
      .string()
      .min(1)
      .max(256)
      .optional()
      .meta({ description: 'With a secret key: the end user to act for (your own user id)' }),
  })
  .strict();

export const CitationSchema = z.object({
  source_id: z.uuid(),
  document_id: z.uuid(),
  title: z.string().nullable(),
  url: z.string().nullable(),
  page: z.number().int().optional(),
  snippet: z.string(),
});

export const ChatResponse = z.object({
  conversation_id: z.uuid(),
  message: z.object({
    id: z.uuid(),
    role: z.literal('assistant'),
    content: z.string(),
    citations: z.array(CitationSchema),
    grounding: z.number().min(0).max(1),
    degraded: z.boolean().meta({ description: 'Answered extractively because the model provider was unavailable' }),
  }),
  handoff: z.boolean(),
  ticket_id: z.uuid().optional(),
});

export const MessageSchema = z.object({
  id: z.uuid(),
  seq: z.number().int(),
  role: z.enum(['user', 'assistant', 'agent', 'system']),
  content: z.string(),
  citations: z.array(CitationSchema),
  grounding: z.number().nullable(),
  feedback_rating: z.enum(['up', 'down']).nullable(),
  created_at: z.iso.datetime(),
});

export const ConversationSchema = z.object({
  id: z.uuid(),
  status: z.enum(['active', 'handoff', 'closed']),
  title: z.string().nullable(),
  message_count: z.number().int(),
  created_at: z.iso.datetime(),
  last_message_at: z.iso.datetime(),
});

export const Feedback = z
  .object({ rating: z.enum(['up', 'down']), comment: z.string().trim().max(2000).optional() })
  .strict();

/**
 * The shapes a chat turn is built from: retrieved passages, citations, routes, provider
 * messages and generations. Modules: retrieve.ts (hybrid search), route.ts (routing rules and
 * classification), provider*.ts (generation, resilience, the extractive local answerer),
 * grounding.ts (grading), guard.ts (output guard), turn.ts (the orchestration).
 */

/** A chunk retrieved for a question. */
export interface Passage {
  chunkId: string;
  documentId: string;
  sourceId: string;
  title: string | null;
  url: string | null;
  page: number | null;
  headingPath: string[];
  content: string;
  /** Cosine similarity of the query embedding and the chunk (0–1; 0 when found by text search only). */
  similarity: number;
  /** Fused reciprocal-rank score (higher is better). */
  score: number;
}

/** What an answer cites, as returned to clients. */
export interface Citation {
  source_id: string;
  document_id: string;
  title: string | null;
  url: string | null;
  page?: number;
  snippet: string;
}

export type Route = 'question' | 'small_talk' | 'escalation' | 'complaint' | 'out_of_scope' | 'abuse' | 'empty';

export type Priority = 'low' | 'normal' | 'high' | 'urgent';

export interface RouteDecision {
  route: Route;
  /** Why, in words an owner can read on the ticket. */
  reason: string;
  priority: Priority;
  /** Whether the decision came from the fast rules or the model's classification. */
  by: 'rules' | 'model';
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
}

export interface GenerateOptions {
  model?: string;
  temperature?: number;
  maxTokens?: number;
  /** Aborts the upstream call (client disconnected, deadline). */
  signal?: AbortSignal;
}

/** A generation in progress: text arrives as deltas; `result` settles when it ends. */
export interface Generation {
  deltas: AsyncIterable<string>;
  result: Promise<{ model: string; usage?: Usage; degraded: boolean }>;
}

/**
 * Generates an answer for `messages` (already holding the persona, the delimited passages and
 * the history). `passages` are passed too, so an extractive provider can answer from them.
 */
export interface ChatProvider {
  readonly name: string;
  /**
   * Optional: starts what the next `generate()` must know before calling the model (a circuit
   * breaker's admission), so that it overlaps other work such as retrieval. Call the returned
   * `release` when no generation follows after all.
   */
  prepare?(): { release(): Promise<void> };
  generate(
    messages: ChatMessage[],
    context: { question: string; passages: Passage[] },
    opts: GenerateOptions,
  ): Promise<Generation>;
}

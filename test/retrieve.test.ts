/**
 * Retrieval: hybrid search over chunks ingested through the API, called directly with a
 * postgres.js client and the local embedder — ranking, full-text rescue of exact identifiers,
 * the relevance floor, near-duplicates, tenant isolation, per-model comparison, iterative HNSW
 * scans under a project filter — and citations from real passages. The pure helpers have their
 * own file (retrieve-helpers.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EMBEDDING_DIMENSIONS,
  LOCAL_EMBEDDING_MODEL,
  embedLocal,
  localEmbedder,
  type Embedder,
} from '../src/ai/embeddings';
import { citationsFrom, defaultMinSimilarity, retrieve } from '../src/chat/retrieve';
import { testSql } from './support/http';
import { addSource, settled } from './support/sources';
import { createTenant, type Tenant } from './support/tenants';

const sql = testSql();
afterAll(() => sql.end());

const local = localEmbedder();
const localOnly = (model: string): Embedder | undefined => (model === local.model ? local : undefined);

const REFUNDS =
  'Refunds are issued within 14 days of receiving the returned item. Contact support with your order number to start a refund. Items must be unused and in their original packaging.';
const SHIPPING =
  'We ship worldwide with DHL and UPS. Standard delivery takes 3-5 business days within the EU and 7-10 days elsewhere. Tracking numbers are emailed when your parcel leaves the warehouse.';
const KETTLE =
  'The Aurora kettle (SKU-7741) holds 1.7 litres, boils in under three minutes and switches off automatically once the water is ready. ' +
  'It comes in matte black, brushed steel and ivory, with a limescale filter that lifts out for rinsing under the tap. ' +
  'The base turns a full circle, the cord tucks away underneath, and a blue ring lights up while heating. ' +
  'Every unit carries a two-year warranty covering the element, the thermostat and the lid hinge.';
const PASSWORD =
  'To reset your password, open the login page and click "Forgot password". We email you a link that stays valid for one hour.';

async function ingest(tenant: Tenant, title: string, content: string): Promise<string> {
  const id = await addSource(tenant, { type: 'text', title, content });
  const { source } = await settled(tenant, id);
  if (source.status !== 'ready') throw new Error(`source ${title} ended ${source.status}: ${source.error}`);
  return id;
}

/** Chunk rows written directly (not through ingestion), under an ingested source's document. */
async function insertChunks(
  projectId: string,
  sourceId: string,
  model: string,
  chunks: { content: string; embedding: number[] }[],
): Promise<string[]> {
  const [doc] = await sql<{ id: string }[]>`select id from documents where source_id = ${sourceId}`;
  const rows = chunks.map((c, i) => ({
    id: crypto.randomUUID(),
    position: 1000 + i,
    content: c.content,
    embedding: `[${c.embedding.join(',')}]`,
  }));
  await sql`
    insert into chunks (id, project_id, source_id, document_id, position, content, embedding, embedding_model)
    select x.id, ${projectId}, ${sourceId}, ${doc!.id}, x.position, x.content, x.embedding::vector, ${model}
    from jsonb_to_recordset(${sql.json(rows)}) as x(id uuid, position int, content text, embedding text)`;
  return rows.map((r) => r.id);
}

async function projectChunkIds(projectId: string): Promise<Set<string>> {
  const rows = await sql<{ id: string }[]>`select id from chunks where project_id = ${projectId}`;
  return new Set(rows.map((r) => r.id));
}

const ask = (tenant: Tenant, query: string, extra: { topK?: number; minSimilarity?: number } = {}) =>
  retrieve(sql, { projectId: tenant.projectId, query, embedders: localOnly, ...extra });

describe('retrieve: one knowledge base', () => {
  let kb: Tenant;
  beforeAll(async () => {
    kb = await createTenant();
    await ingest(kb, 'Refund policy', `# Refunds\n\n${REFUNDS}\n\n# Shipping\n\n${SHIPPING}`);
    await ingest(kb, 'Products', `# Kettles\n\n${KETTLE}`);
    await ingest(kb, 'Account help', `# Passwords\n\n${PASSWORD}`);
  });

  it('answers the refund question with the refund passage first', async () => {
    const { passages, models, timings } = await ask(kb, 'How do I get a refund?');
    expect(passages[0]).toMatchObject({ title: 'Refund policy', headingPath: ['Refunds'] });
    expect(passages[0]?.content).toContain('Refunds are issued within 14 days');
    expect(passages[0]?.similarity).toBeGreaterThan(0.2);
    expect(passages.some((p) => p.title === 'Account help')).toBe(false);
    expect(models).toEqual([LOCAL_EMBEDDING_MODEL]);
    expect(timings.embed_ms).toBeGreaterThanOrEqual(0);
    expect(timings.search_ms).toBeGreaterThanOrEqual(0);
  });

  it('finds an exact product code through full-text search where the vector alone is below the floor', async () => {
    const { passages } = await ask(kb, 'SKU-7741');
    expect(passages).toHaveLength(1);
    expect(passages[0]?.content).toContain('SKU-7741');
    // The kettle chunk is long, so a two-word query's vector sits under the floor: only the
    // text match (every search term present) lets it through.
    expect(passages[0]?.similarity).toBeLessThan(defaultMinSimilarity(LOCAL_EMBEDDING_MODEL));
  });

  it('returns no passages for questions about things the knowledge base does not mention', async () => {
    for (const q of ['Do you sell gift cards?', 'What is the capital of France?', 'Who won the football match?']) {
      expect((await ask(kb, q)).passages, q).toEqual([]);
    }
    expect((await ask(kb, '   ')).passages).toEqual([]);
  });

  it('honours topK, and an explicit minSimilarity replaces the per-model default', async () => {
    // Each chunk holds less than half of these terms, so only the vector floor decides.
    const q = 'refund shipping kettle password zebra';
    expect((await ask(kb, q, { minSimilarity: -1 })).passages).toHaveLength(4);
    expect((await ask(kb, q, { minSimilarity: -1, topK: 2 })).passages).toHaveLength(2);
    expect((await ask(kb, q, { minSimilarity: 0.99 })).passages).toEqual([]);
    // A text match of every search term does not depend on the floor.
    const strict = await ask(kb, 'How do I get a refund?', { minSimilarity: 0.99 });
    expect(strict.passages[0]?.content).toContain('Refunds are issued');
  });

  it('keeps hashed-vector matches that share no word with the question out (local model)', async () => {
    // Short questions collide with chunk words in the local embedder's 512 buckets now and then;
    // a local-model match must share a search term, so a lowered floor still returns nothing here.
    expect((await ask(kb, 'What is the capital of France?', { minSimilarity: -1 })).passages).toEqual([]);
  });

  it('cites each document once, with a snippet of its most relevant sentence trimmed to length', async () => {
    const { passages } = await ask(kb, 'refund shipping kettle', { minSimilarity: -1 });
    const citations = citationsFrom(passages, 240, 'how long does shipping take');
    const documents = new Set(passages.map((p) => p.documentId));
    expect(citations).toHaveLength(documents.size);
    expect(new Set(citations.map((c) => c.document_id)).size).toBe(citations.length);
    const refund = citations.find((c) => c.title === 'Refund policy');
    // The refund policy's best passage may be either section; its snippet is a whole sentence.
    expect(refund?.snippet).toMatch(/^(Refunds are issued|We ship worldwide|Standard delivery)/);
    for (const c of citations) {
      expect(c.snippet.length).toBeGreaterThan(0);
      expect(c.snippet.length).toBeLessThanOrEqual(240);
      expect(c).not.toHaveProperty('page');
    }
    const short = citationsFrom(passages, 60);
    for (const c of short) expect(c.snippet.length).toBeLessThanOrEqual(60);
    const kettle = short.find((c) => c.title === 'Products');
    expect(kettle?.snippet).toMatch(/^The Aurora kettle \(SKU-7741\) holds 1\.7 litres, boils in\S*…$/);
  });
});

describe('retrieve: near-duplicates and tenants', () => {
  it('collapses the same passage ingested twice, or with a trivial edit, to the best-ranked copy', async () => {
    const tenant = await createTenant();
    await ingest(tenant, 'Refund policy', `# Refunds\n\n${REFUNDS}`);
    await ingest(tenant, 'Returns (copy)', `# Refunds\n\n${REFUNDS.toUpperCase().replace(/\./g, '!')}`);
    await ingest(tenant, 'Returns FAQ', `# Refunds\n\n${REFUNDS} Thanks.`);
    await ingest(tenant, 'Shipping', `# Shipping\n\n${SHIPPING}`);
    const { passages } = await ask(tenant, 'How do I get a refund, and how does shipping work?', { minSimilarity: -1 });
    expect(passages.filter((p) => /refunds are issued within 14 days/i.test(p.content))).toHaveLength(1);
    expect(passages.some((p) => p.title === 'Shipping')).toBe(true);
    expect(passages[0]?.title).toBe('Refund policy');
  });

  it("never returns another project's chunks, even with identical text", async () => {
    const [a, b, empty] = await Promise.all([createTenant(), createTenant(), createTenant()]);
    await Promise.all([
      ingest(a, 'Refund policy', `# Refunds\n\n${REFUNDS}`),
      ingest(b, 'Refund policy', `# Refunds\n\n${REFUNDS}\n\n# Kettles\n\n${KETTLE}`),
    ]);
    const [ownA, ownB] = await Promise.all([projectChunkIds(a.projectId), projectChunkIds(b.projectId)]);
    for (const q of ['How do I get a refund?', 'SKU-7741', 'refund']) {
      const fromA = await ask(a, q, { minSimilarity: -1 });
      expect(
        fromA.passages.every((p) => ownA.has(p.chunkId)),
        q,
      ).toBe(true);
      const fromB = await ask(b, q, { minSimilarity: -1 });
      expect(fromB.passages.length).toBeGreaterThan(0);
      expect(
        fromB.passages.every((p) => ownB.has(p.chunkId)),
        q,
      ).toBe(true);
    }
    expect((await ask(a, 'SKU-7741')).passages).toEqual([]);
    expect(await ask(empty, 'How do I get a refund?')).toMatchObject({ passages: [], models: [] });
  });
});

describe('retrieve: embedding models', () => {
  it('compares the query only with vectors of the same model; other models count through full-text', async () => {
    const tenant = await createTenant();
    const sourceId = await ingest(tenant, 'Refund policy', `# Refunds\n\n${REFUNDS}`);
    const query = 'How do I get a refund?';
    const queryVector = embedLocal(query);
    // Chunks of another model: random vectors, one whose vector is the local query vector itself
    // (similarity 1 if it were wrongly compared), and one whose text matches every search term.
    const rows = [
      { content: 'Zebra migration follows the rains across the Serengeti.', embedding: queryVector },
      { content: 'Volcanic soil holds water well.', embedding: randomUnitVector() },
      { content: 'Lighthouses were once lit by whale oil.', embedding: randomUnitVector() },
      { content: 'To get a refund for a gift, ask the buyer.', embedding: randomUnitVector() },
    ];
    await insertChunks(tenant.projectId, sourceId, 'other-model', rows);

    const { passages, models } = await ask(tenant, query, { minSimilarity: -1 });
    expect(models).toEqual([LOCAL_EMBEDDING_MODEL]);
    const contents = passages.map((p) => p.content);
    expect(contents).not.toContain(rows[0]!.content);
    expect(contents).not.toContain(rows[1]!.content);
    const textOnly = passages.find((p) => p.content === rows[3]!.content);
    expect(textOnly?.similarity).toBe(0);
    expect(passages[0]?.content).toBe(REFUNDS);

    // With an embedder for the other model, the query is embedded once per model and each
    // model's chunks are compared with that model's vector only.
    const calls: string[][] = [];
    const other: Embedder = {
      model: 'other-model',
      dimensions: EMBEDDING_DIMENSIONS,
      embed: (texts) => {
        calls.push(texts);
        return Promise.resolve(texts.map(() => queryVector));
      },
    };
    const both = await retrieve(sql, {
      projectId: tenant.projectId,
      query,
      embedders: (model) => (model === 'other-model' ? other : localOnly(model)),
    });
    expect(calls).toEqual([[query]]);
    expect([...both.models].sort()).toEqual(['other-model', LOCAL_EMBEDDING_MODEL]);
    const zebra = both.passages.find((p) => p.content === rows[0]!.content);
    expect(zebra?.similarity).toBeCloseTo(1, 5);
  });

  it('still returns topK rows of a project whose chunks are few among the index (iterative HNSW scan)', async () => {
    // A stand-in for a semantic provider (not a lexical model, so no shared word is required):
    // this project's chunks are found by their vectors alone, never by full-text.
    const semantic: Embedder = {
      model: 'semantic-test',
      dimensions: EMBEDDING_DIMENSIONS,
      embed: (texts) => Promise.resolve(texts.map((t) => embedLocal(t))),
    };
    const [mine, noisy] = await Promise.all([createTenant(), createTenant()]);
    const [mineSource, noisySource] = await Promise.all([
      ingest(mine, 'Widgets', 'Widgets come in many sizes.'),
      ingest(noisy, 'Refund rules', 'Refund rules differ per order type.'),
    ]);
    const lines = (n: number, line: (i: number) => string) =>
      Array.from({ length: n }, (_, i) => ({ content: line(i + 1), embedding: embedLocal(line(i + 1)) }));
    const own = await insertChunks(
      mine.projectId,
      mineSource,
      semantic.model,
      lines(36, (i) => `Widget model W-${i} ships in a cardboard box of size ${i}.`),
    );
    await insertChunks(
      noisy.projectId,
      noisySource,
      semantic.model,
      lines(120, (i) => `Refunds for order type ${i} are processed within ${i} days.`),
    );
    // Sorting disabled on this connection makes the planner walk the HNSW index (ordered by
    // distance) instead of the project index plus a sort. The question is far closer to the
    // other project's 120 chunks: without an iterative scan the first ef_search candidates hold
    // none of this project's rows and nothing comes back.
    const forced = testSql();
    try {
      await forced`set enable_sort = off`;
      const { passages, models } = await retrieve(forced, {
        projectId: mine.projectId,
        query: 'How many days until refunds are processed?',
        embedders: (model) => (model === semantic.model ? semantic : undefined),
        minSimilarity: -1,
      });
      expect(models).toEqual([semantic.model]);
      expect(passages).toHaveLength(6);
      expect(passages.every((p) => own.includes(p.chunkId))).toBe(true);
    } finally {
      await forced.end();
    }
  });

  it('finds nothing for an absent topic among many short local-model chunks (hash collisions)', async () => {
    const tenant = await createTenant();
    const rules = Array.from(
      { length: 120 },
      (_, i) => `# Part ${i + 1}\n\nRefunds for order type ${i + 1} are processed within ${i + 1} days.`,
    );
    await ingest(tenant, 'Refund rules', rules.join('\n\n'));
    for (const q of ['Do you sell gift cards?', 'gift cards', 'Do you have vegan options?']) {
      expect((await ask(tenant, q)).passages, q).toEqual([]);
    }
    expect((await ask(tenant, 'refunds for order type 98')).passages[0]?.headingPath).toEqual(['Part 98']);
  });
});

function randomUnitVector(): number[] {
  const v = Array.from({ length: EMBEDDING_DIMENSIONS }, () => Math.random() - 0.5);
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return v.map((x) => x / norm);
}

describe('retrieve: the search SQL (supabase/migrations/20261201000000_faster_search.sql)', () => {
  type Tier = { k: number; matches: string; above: string | null };
  const tiers = (text: string) =>
    sql<Tier[]>`select k, matches::text, above::text from term_tiers(${text}, 0.5, 128)`.then((rows) => [...rows]);

  it('term_tiers: all terms first, then all but one, down to half; each tier knows the one above', async () => {
    const rows = await tiers('Aurora kettle warranty');
    expect(rows.map((r) => r.k)).toEqual([3, 2]);
    expect(rows[0]).toEqual({ k: 3, matches: "'aurora' & 'kettl' & 'warranti'", above: null });
    expect(rows[1]!.matches.split(' | ').sort()).toEqual([
      "'aurora' & 'kettl'",
      "'aurora' & 'warranti'",
      "'kettl' & 'warranti'",
    ]);
    expect(rows[1]!.above).toBe(rows[0]!.matches);
    // Stopwords only: no tier, so no text search. Quotes and backslashes are lexemes, not syntax.
    expect(await tiers('the of and')).toEqual([]);
    expect((await tiers("o'brien back\\slash it's")).length).toBeGreaterThan(0);
  });

  it('term_tiers: a long question widens its lower tiers instead of spelling out thousands of groups', async () => {
    const question = 'ordered Aurora kettle last week arrived broken lid hinge cracked want money back quickly';
    const rows = await tiers(question);
    const groups = rows.map((r) => r.matches.split(' | ').length);
    const n = rows[0]!.k;
    expect(rows.map((r) => r.k)).toEqual(Array.from({ length: n - Math.ceil(n / 2) + 1 }, (_, i) => n - i));
    expect(Math.max(...groups)).toBeLessThanOrEqual(128);
    // Widened tiers ask for fewer terms per group: still a superset of the tier they stand for.
    const terms = rows.map((r) => r.matches.split(' | ')[0]!.split(' & ').length);
    terms.forEach((n, i) => expect(n).toBeLessThanOrEqual(rows[i]!.k));
  });

  it('a chunk holding every search term ranks first even when many hold all but one (text only)', async () => {
    const tenant = await createTenant();
    const sourceId = await ingest(tenant, 'Kettles', `# Kettles\n\n${KETTLE}`);
    // 60 chunks share two of the three terms; they fill a ranked list of any-term matches alone.
    const crowd = Array.from({ length: 60 }, (_, i) => ({
      content: `Model ${i} kettle: the warranty lasts ${i + 1} months, and the kettle warranty is transferable.`,
      embedding: randomUnitVector(),
    }));
    const target = { content: 'The Borealis kettle has a lifetime warranty.', embedding: randomUnitVector() };
    await insertChunks(tenant.projectId, sourceId, 'other-model', [...crowd, target]);
    const { passages } = await retrieve(sql, {
      projectId: tenant.projectId,
      query: 'Borealis kettle warranty',
      embedders: () => undefined, // no vectors at all: full-text search alone
      topK: 3,
    });
    expect(passages[0]?.content).toBe(target.content);
  });

  it('nearest_chunks keeps its HNSW settings to the transaction that calls it', async () => {
    const ef = "select current_setting('hnsw.ef_search', true) as ef";
    await sql.begin(async (tx) => {
      const before = (await tx.unsafe<{ ef: string | null }[]>(ef))[0]!.ef;
      await tx`select count(*) from nearest_chunks(${crypto.randomUUID()}, 'none', ${`[${randomUnitVector().join(',')}]`}, 300)`;
      // set_config(…, true) lasts to the end of the transaction, and never past it.
      expect((await tx.unsafe<{ ef: string | null }[]>(ef))[0]!.ef).toBe('600');
      expect(before).not.toBe('600');
    });
    expect((await sql.unsafe<{ ef: string | null }[]>(ef))[0]!.ef).not.toBe('600');
  });
});

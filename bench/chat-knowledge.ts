/**
 * The knowledge of `npm run bench:chat`: a synthetic product catalogue of 10,000 sections, one
 * chunk each, and questions about it. Every product has a made-up name of its own (found by
 * one chunk), a category shared by 1/40 of the catalogue and three of sixteen kinds of fact, so
 * a question's search terms match a few hundred to a couple of thousand chunks, not all of them.
 *
 * Seeding writes through the ingestion pipeline's own code (extractDocument → ingestExtracted:
 * chunking, the local embedder `parley-local-v1`, upsertChunks, knowledge version, source
 * status), bundled with esbuild and run in Node against the stack's Postgres. Only the queue
 * and R2 hops are skipped, because 10,000 chunks through the queue take minutes; the source and
 * document rows are inserted as POST /sources inserts them. Then `analyze chunks` (see below).
 */
import postgres, { type Sql } from 'postgres';
import { bundleParley } from './lib.ts';

const SYLLABLES = 'ka lo mi ru ze vo ni ta pe su dra ken bo fi gu ha jo le ma no pi qua ri sa tu vi wo xan yo zu'.split(
  ' ',
);
const CATEGORIES = (
  'kettle lamp backpack blender chair heater router speaker jacket tent scooter camera drone printer ' +
  'monitor keyboard mattress stroller toaster grinder projector headset thermostat doorbell vacuum ' +
  'treadmill guitar microscope telescope sewing-machine dehumidifier fridge kayak skateboard hammock ' +
  'espresso-machine aquarium snowboard barbecue easel'
).split(' ');
const CITIES = 'Lyon Porto Gdansk Tampere Graz Bilbao Brno Aarhus Ghent Turin'.split(' ');
const MATERIALS = 'recycled aluminium|oiled walnut|ripstop nylon|borosilicate glass|cast iron|bamboo fibre'.split('|');
const COLOURS = 'slate blue|sand|forest green|coral|graphite|ivory|mustard|plum'.split('|');

/** Made-up, distinct product names: three syllables, unique for the first 27,000. */
export function productName(i: number): string {
  const n = SYLLABLES.length;
  const word = `${SYLLABLES[i % n]}${SYLLABLES[Math.floor(i / n) % n]}${SYLLABLES[Math.floor(i / n / n) % n]}`;
  return word[0]!.toUpperCase() + word.slice(1);
}

const pick = <T>(list: T[], i: number): T => list[i % list.length]!;

/** The kinds of fact a section states, with the question that asks for each. */
const FACTS: Array<{ fact: (p: string, i: number) => string; ask: (p: string) => string }> = [
  {
    fact: (p, i) => `The ${p} costs ${19 + (i % 480)} euros including tax.`,
    ask: (p) => `How much does the ${p} cost?`,
  },
  {
    fact: (p, i) => `The ${p} comes with a warranty of ${6 + (i % 5) * 6} months against manufacturing defects.`,
    ask: (p) => `What warranty comes with the ${p}?`,
  },
  {
    fact: (p, i) =>
      `Customers can return the ${p} within ${14 + (i % 4) * 7} days of delivery for a full refund when unused.`,
    ask: (p) => `Can customers return the ${p} for a refund?`,
  },
  {
    fact: (p, i) => `The ${p} ships from the ${pick(CITIES, i)} warehouse within ${1 + (i % 5)} business days.`,
    ask: (p) => `Which warehouse does the ${p} ship from?`,
  },
  { fact: (p, i) => `The ${p} is made of ${pick(MATERIALS, i)}.`, ask: (p) => `What material is the ${p} made of?` },
  { fact: (p, i) => `The ${p} weighs ${300 + (i % 90) * 10} grams.`, ask: (p) => `How heavy is the ${p}?` },
  {
    fact: (p, i) => `The ${p} runs for ${4 + (i % 20)} hours on a full battery charge.`,
    ask: (p) => `How long does the battery of the ${p} last?`,
  },
  {
    fact: (p, i) => `The ${p} is sold in ${pick(COLOURS, i)} and ${pick(COLOURS, i + 3)}.`,
    ask: (p) => `Which colours is the ${p} sold in?`,
  },
  {
    fact: (p) => `Assembly of the ${p} takes about ten minutes with the included hex key.`,
    ask: (p) => `How long does assembly of the ${p} take?`,
  },
  {
    fact: (p, i) => `The ${p} draws ${20 + (i % 60) * 5} watts at full power.`,
    ask: (p) => `How many watts does the ${p} draw?`,
  },
  {
    fact: (p) => `Replacement parts for the ${p} are stocked for seven years after purchase.`,
    ask: (p) => `Are replacement parts available for the ${p}?`,
  },
  {
    fact: (p) => `The ${p} is certified for outdoor use and resists light rain.`,
    ask: (p) => `Can the ${p} be used outdoors?`,
  },
  {
    fact: (p) => `Cleaning the ${p} needs only a damp cloth and mild soap; avoid solvents.`,
    ask: (p) => `How should the ${p} be cleaned?`,
  },
  {
    fact: (p, i) => `The ${p} fits in a box of ${30 + (i % 40)} by ${20 + (i % 30)} centimetres.`,
    ask: (p) => `What are the box dimensions of the ${p}?`,
  },
  {
    fact: (p) => `Firmware updates for the ${p} install automatically overnight.`,
    ask: (p) => `How are firmware updates installed on the ${p}?`,
  },
  {
    fact: (p) => `The ${p} can be recycled through the take-back programme at any partner store.`,
    ask: (p) => `How can the ${p} be recycled?`,
  },
];

/** Background text with a long-tailed vocabulary, as real manuals have. */
function filler(i: number, chars: number): string {
  const out: string[] = [];
  let length = 0;
  for (let k = 0; length < chars; k++) {
    // Suffixed so that no filler word is a product's name.
    const a = `${productName((i * 7 + k * 13) % 27_000).toLowerCase()}el`;
    const b = `${productName((i * 11 + k * 29 + 5) % 27_000).toLowerCase()}on`;
    const sentence = `Owners often pair it with the ${a} accessory, and the ${b} adapter is sold separately in some regions.`;
    out.push(sentence);
    length += sentence.length + 1;
  }
  return out.join(' ');
}

/** Which facts section `i` states (three distinct kinds). */
const factsOf = (i: number): number[] =>
  [i % 16, (i * 5 + 3) % 16, (i * 11 + 7) % 16].filter((f, k, all) => all.indexOf(f) === k);

export const product = (i: number): string => `${productName(i)} ${pick(CATEGORIES, i)}`;

function section(i: number): string {
  const p = product(i);
  const facts = factsOf(i).map((f) => FACTS[f]!.fact(p, i));
  return `## ${p}\n\n${facts.join(' ')}\n\n${filler(i, 1150 - facts.join(' ').length)}`;
}

/** A first-turn question about section `i`: distinct per section, answered by its chunk. */
export function question(i: number): string {
  return FACTS[factsOf(i)[0]!]!.ask(product(i));
}

/** `documents` Markdown documents with `perDocument` sections each. */
export function catalogue(documents: number, perDocument: number): Array<{ title: string; markdown: string }> {
  return Array.from({ length: documents }, (_, d) => ({
    title: `Product catalogue, volume ${d + 1}`,
    markdown: Array.from({ length: perDocument }, (_, s) => section(d * perDocument + s)).join('\n\n'),
  }));
}

interface Embedder {
  model: string;
  embed(texts: string[]): Promise<number[][]>;
}

/** Parley's own functions, typed as far as the bench uses them. */
interface Pipeline {
  extractDocument(input: { bytes: Uint8Array; filename: string; contentType?: string }): Promise<unknown>;
  ingestExtracted(deps: unknown, ids: unknown, doc: unknown, extracted: unknown): Promise<string>;
  localEmbedder(): Embedder;
  retrieve(
    sql: Sql,
    input: { projectId: string; query: string; embedders: (model: string) => Embedder | undefined },
  ): Promise<{ passages: unknown[] }>;
}

// Deliberate module state: the bundle is built once per run.
let pipeline: Promise<Pipeline> | undefined;
const loadPipeline = (): Promise<Pipeline> => (pipeline ??= bundlePipeline());

function bundlePipeline(): Promise<Pipeline> {
  return bundleParley<Pipeline>([
    "export { extractDocument } from './src/ingest/extract/index.ts';",
    "export { ingestExtracted } from './src/ingest/pipeline.ts';",
    "export { localEmbedder } from './src/ai/local-embedder.ts';",
    "export { retrieve } from './src/chat/retrieve.ts';",
  ]);
}

/** Ingests the documents into the project as text sources, then ANALYZEs; returns the project's chunk count. */
export async function seedKnowledge(
  databaseUrl: string,
  projectId: string,
  documents: Array<{ title: string; markdown: string }>,
): Promise<number> {
  const pipeline = await loadPipeline();
  const embedder = pipeline.localEmbedder();
  const sql: Sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    for (const doc of documents) {
      const [source] = await sql<{ id: string }[]>`
        insert into sources (project_id, type, title, config) values (${projectId}, 'text', ${doc.title}, '{}')
        returning id`;
      const [row] = await sql<object[]>`
        insert into documents (project_id, source_id, key, title, format)
        values (${projectId}, ${source!.id}, 'text', ${doc.title}, 'md')
        returning id, url, title, format, content_hash, embedding_model`;
      const extracted = await pipeline.extractDocument({
        bytes: new TextEncoder().encode(doc.markdown),
        filename: 'text',
        contentType: 'text/markdown',
      });
      const deps = {
        sql,
        bucket: null, // ingestExtracted reads no bytes: extraction happened above
        embed: async (texts: string[]) => ({ vectors: await embedder.embed(texts), model: embedder.model }),
        preferredModel: embedder.model,
      };
      const outcome = await pipeline.ingestExtracted(
        deps,
        { project_id: projectId, source_id: source!.id },
        row,
        extracted,
      );
      if (outcome !== 'ingested') throw new Error(`seeding ${doc.title}: ${outcome}`);
    }
    // Production Postgres' autovacuum analyzes a table after a bulk load; PGlite runs no
    // autovacuum, and on its stale statistics the planner sorts every chunk by distance
    // instead of using the HNSW index (over 100 ms a search at 10,000 chunks).
    await sql`analyze chunks`;
    const [count] = await sql<{ n: number }[]>`select count(*)::int as n from chunks where project_id = ${projectId}`;
    return count?.n ?? 0;
  } finally {
    await sql.end({ timeout: 2 });
  }
}

/**
 * The turn's retrieval alone (src/chat/retrieve.ts: models query, query embedding, hybrid
 * search), run from Node against the same Postgres: one duration per question, in ms.
 */
export async function retrievalTimes(databaseUrl: string, projectId: string, questions: string[]): Promise<number[]> {
  const { retrieve, localEmbedder } = await loadPipeline();
  const local = localEmbedder();
  const embedders = (model: string) => (model === local.model ? local : undefined);
  const sql: Sql = postgres(databaseUrl, { max: 4, fetch_types: false, onnotice: () => {} });
  try {
    await retrieve(sql, { projectId, query: 'warm up the connection', embedders });
    const times: number[] = [];
    for (const query of questions) {
      const t0 = performance.now();
      await retrieve(sql, { projectId, query, embedders });
      times.push(performance.now() - t0);
    }
    return times;
  } finally {
    await sql.end({ timeout: 2 });
  }
}

/**
 * Where a document's raw bytes live: R2, under projects/<project>/sources/<source>/<document>.
 * Pasted text and FAQs are stored the same way as uploads, so one ingestion path serves all.
 */
export function documentKey(projectId: string, sourceId: string, documentId: string): string {
  return `projects/${projectId}/sources/${sourceId}/${documentId}`;
}

export function sourcePrefix(projectId: string, sourceId: string): string {
  return `projects/${projectId}/sources/${sourceId}/`;
}

/** Deletes every object under a prefix (R2 lists at most 1000 keys a page). */
export async function deletePrefix(bucket: R2Bucket, prefix: string): Promise<number> {
  let deleted = 0;
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix, cursor });
    const keys = page.objects.map((o) => o.key);
    if (keys.length > 0) await bucket.delete(keys);
    deleted += keys.length;
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return deleted;
}

/** FAQ items as Markdown: one `##` section per question, so each pair chunks on its own. */
export function faqMarkdown(title: string | undefined, items: { question: string; answer: string }[]): string {
  const body = items.map((item) => `## ${item.question.replace(/\n+/g, ' ')}\n\n${item.answer}`).join('\n\n');
  return title ? `# ${title}\n\n${body}\n` : `${body}\n`;
}

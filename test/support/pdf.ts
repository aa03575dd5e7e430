/**
 * A minimal valid PDF for ingestion tests: one Helvetica text line per string, one page per
 * array, an optional /Title. (test/extract.test.ts builds the same shape plus encrypted variants.)
 */
const utf8 = (text: string) => new TextEncoder().encode(text);

export function makePdf(pages: string[][], title?: string): Uint8Array {
  const objects: string[] = [];
  const add = (body: string) => objects.push(body);
  add('<< /Type /Catalog /Pages 2 0 R >>');
  add(`<< /Type /Pages /Kids [${pages.map((_, i) => `${4 + i * 2} 0 R`).join(' ')}] /Count ${pages.length} >>`);
  add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>');
  for (const lines of pages) {
    const contents = objects.length + 2;
    add(
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents ${contents} 0 R >>`,
    );
    const ops = lines.map((l, i) => `${i === 0 ? '72 720 Td' : '0 -16 Td'} (${l.replace(/[()\\]/g, '\\$&')}) Tj`);
    const stream = `BT /F1 12 Tf ${ops.join(' ')} ET`;
    add(`<< /Length ${utf8(stream).length} >>\nstream\n${stream}\nendstream`);
  }
  const info = title ? add(`<< /Title (${title}) >>`) : 0;

  let out = '%PDF-1.4\n';
  const offsets = objects.map((body, i) => {
    const offset = utf8(out).length;
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
    return offset;
  });
  const xref = offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('');
  const trailer = `/Size ${objects.length + 1} /Root 1 0 R${info ? ` /Info ${info} 0 R` : ''}`;
  const start = utf8(out).length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${xref}trailer\n<< ${trailer} >>\nstartxref\n${start}\n%%EOF\n`;
  return utf8(out);
}

/** A plain multi-page PDF (Helvetica text, uncompressed streams) of about `targetBytes`, for benchmarks. */
export function buildPdf(targetBytes: number): Uint8Array {
  const line = 'Parley benchmark text about refunds, shipping, warranties and support hours. ';
  const pageText = Array.from({ length: 60 }, (_, i) => `BT /F1 10 Tf 40 ${780 - i * 12} Td (${line} ${i}) Tj ET`).join(
    '\n',
  );
  const pages = Math.max(1, Math.ceil(targetBytes / (pageText.length + 200)));
  const objects: string[] = [];
  const add = (body: string) => objects.push(body);
  add('<< /Type /Catalog /Pages 2 0 R >>');
  add(''); // pages, filled below
  add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>');
  const kids: number[] = [];
  for (let p = 0; p < pages; p++) {
    const content = `${pageText}\nBT /F1 10 Tf 40 40 Td (Page ${p + 1}) Tj ET`;
    add(`<< /Length ${content.length} >>\nstream\n${content}\nendstream`);
    const contentRef = objects.length;
    add(
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents ${contentRef} 0 R >>`,
    );
    kids.push(objects.length);
  }
  objects[1] = `<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(' ')}] /Count ${kids.length} >>`;
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('');
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${xref}trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${out.length}\n%%EOF\n`;
  return new TextEncoder().encode(out);
}

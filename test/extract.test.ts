/**
 * extractDocument inside workerd: every format, format detection and every failure reason.
 * Fixtures are built here rather than committed: DOCX with fflate's zipSync, PDFs hand-written
 * (including a real RC4-encrypted one), CSVs and zip bombs generated in memory.
 */
import { createHash } from 'node:crypto';
import { strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { chunkDocument } from '../src/ingest/chunk';
import { extractDocument, type ExtractInput } from '../src/ingest/extract';
import { ExtractionError, type ExtractionFailure } from '../src/ingest/types';

const utf8 = (text: string) => new TextEncoder().encode(text);

async function failure(input: ExtractInput): Promise<ExtractionError> {
  try {
    await extractDocument(input);
  } catch (err) {
    if (err instanceof ExtractionError) return err;
    throw err;
  }
  throw new Error('expected extraction to fail');
}

async function expectFailure(input: ExtractInput, reason: ExtractionFailure, message: RegExp): Promise<void> {
  const err = await failure(input);
  expect({ reason: err.reason, message: err.message }).toEqual({ reason, message: expect.stringMatching(message) });
}

// ---------------------------------------------------------------------------------------------
// PDF fixtures: one Helvetica text line per string, one page per array; optionally encrypted with
// the Standard security handler, revision 2 (40-bit RC4), with a real user password.

const PAD = Uint8Array.from(
  '28bf4e5e4e758a4164004e56fffa01082e2e00b6d0683e802f0ca9fe6453697a'.match(/../g) ?? [],
  (h) => parseInt(h, 16),
);
const md5 = (...parts: Uint8Array[]) => {
  const hash = createHash('md5');
  parts.forEach((p) => hash.update(p));
  return new Uint8Array(hash.digest());
};
const padded = (password: string) => Uint8Array.from([...utf8(password), ...PAD].slice(0, 32));
const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');

function rc4(key: Uint8Array, data: Uint8Array): Uint8Array {
  const s = Uint8Array.from({ length: 256 }, (_, i) => i);
  const swap = (a: number, b: number) => ([s[a], s[b]] = [s[b] ?? 0, s[a] ?? 0]);
  for (let i = 0, j = 0; i < 256; i++) {
    j = (j + (s[i] ?? 0) + (key[i % key.length] ?? 0)) & 255;
    swap(i, j);
  }
  const out = new Uint8Array(data.length);
  for (let k = 0, i = 0, j = 0; k < data.length; k++) {
    i = (i + 1) & 255;
    j = (j + (s[i] ?? 0)) & 255;
    swap(i, j);
    out[k] = (data[k] ?? 0) ^ (s[((s[i] ?? 0) + (s[j] ?? 0)) & 255] ?? 0);
  }
  return out;
}

function makePdf(pages: string[][], options: { title?: string; userPassword?: string } = {}): Uint8Array {
  const id = md5(utf8('parley-fixture'));
  const owner = rc4(md5(padded('owner')).subarray(0, 5), padded(options.userPassword ?? ''));
  const permissions = Uint8Array.of(0xfc, 0xff, 0xff, 0xff); // P = -4, little-endian
  const fileKey = md5(padded(options.userPassword ?? ''), owner, permissions, id).subarray(0, 5);
  const encrypt = (num: number, data: Uint8Array) =>
    options.userPassword === undefined ? data : rc4(md5(fileKey, Uint8Array.of(num, 0, 0, 0, 0)).subarray(0, 10), data);

  const objects: (string | Uint8Array)[] = [];
  const add = (body: string | Uint8Array) => objects.push(body) + 0;
  const kids = pages.map((_, i) => `${4 + i * 2} 0 R`).join(' ');
  add('<< /Type /Catalog /Pages 2 0 R >>');
  add(`<< /Type /Pages /Kids [${kids}] /Count ${pages.length} >>`);
  add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>');
  for (const lines of pages) {
    const num = objects.length + 2;
    add(
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents ${num} 0 R >>`,
    );
    const ops = lines.map((l, i) => `${i === 0 ? '72 720 Td' : '0 -16 Td'} (${l.replace(/[()\\]/g, '\\$&')}) Tj`);
    const stream = encrypt(num, utf8(`BT /F1 12 Tf ${ops.join(' ')} ET`));
    add(Uint8Array.from([...utf8(`<< /Length ${stream.length} >>\nstream\n`), ...stream, ...utf8('\nendstream')]));
  }
  const info = options.title && options.userPassword === undefined ? add(`<< /Title (${options.title}) >>`) : 0;
  const encryptRef =
    options.userPassword === undefined
      ? 0
      : add(`<< /Filter /Standard /V 1 /R 2 /O <${hex(owner)}> /U <${hex(rc4(fileKey, PAD))}> /P -4 >>`);

  const parts: Uint8Array[] = [utf8('%PDF-1.4\n%\u00e2\u00e3\n')];
  let length = parts[0]?.length ?? 0;
  const offsets = objects.map((body, i) => {
    const chunk = Uint8Array.from([
      ...utf8(`${i + 1} 0 obj\n`),
      ...(typeof body === 'string' ? utf8(body) : body),
      ...utf8('\nendobj\n'),
    ]);
    parts.push(chunk);
    length += chunk.length;
    return length - chunk.length;
  });
  const xref = offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('');
  const trailer = [`/Size ${objects.length + 1} /Root 1 0 R`];
  if (info) trailer.push(`/Info ${info} 0 R`);
  if (encryptRef) trailer.push(`/Encrypt ${encryptRef} 0 R /ID [<${hex(id)}> <${hex(id)}>]`);
  parts.push(
    utf8(
      `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${xref}trailer\n<< ${trailer.join(' ')} >>\nstartxref\n${length}\n%%EOF\n`,
    ),
  );
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

// ---------------------------------------------------------------------------------------------
// DOCX fixtures.

const W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"';
const para = (text: string, style?: string) =>
  `<w:p>${style ? `<w:pPr><w:pStyle w:val="${style}"/></w:pPr>` : ''}<w:r><w:t xml:space="preserve">${text}</w:t></w:r></w:p>`;

function makeDocx(body: string, extra: Record<string, string> = {}): Uint8Array {
  const files: Record<string, Uint8Array> = {
    '[Content_Types].xml': strToU8('<?xml version="1.0"?><Types/>'),
    'word/document.xml': strToU8(
      `<?xml version="1.0" encoding="UTF-8"?><w:document ${W}><w:body>${body}</w:body></w:document>`,
    ),
  };
  for (const [name, text] of Object.entries(extra)) files[name] = strToU8(text);
  return zipSync(files, { level: 9 });
}

describe('extractDocument: plain text, Markdown and encodings', () => {
  it('splits plain text into paragraphs', async () => {
    const doc = await extractDocument({
      bytes: utf8('First  paragraph\r\nstill first.\r\n\r\n\r\nSecond one.\n'),
      filename: 'notes.txt',
    });
    expect(doc.format).toBe('txt');
    expect(doc.sections).toEqual([
      { text: 'First paragraph\nstill first.', headingPath: [] },
      { text: 'Second one.', headingPath: [] },
    ]);
  });

  it('turns Markdown headings into heading paths, keeps code, skips front matter', async () => {
    const md = [
      '---',
      'title: "Help Center"',
      'tags: [internal]',
      '---',
      '# Getting started',
      '',
      'Welcome to [Parley](https://parley.example). ![the logo](logo.png)',
      '',
      '## Install',
      '```bash',
      '# not a heading',
      'npm install parley',
      '```',
      'Setext heading',
      '--------------',
      'Text under setext.',
      '',
      '# Billing',
      'Pay monthly.',
    ].join('\n');
    const doc = await extractDocument({ bytes: utf8(md), filename: 'help.md' });
    expect(doc.title).toBe('Help Center');
    expect(doc.sections).toEqual([
      { text: 'Welcome to Parley. the logo', headingPath: ['Getting started'] },
      { text: '# not a heading\nnpm install parley', headingPath: ['Getting started', 'Install'] },
      { text: 'Text under setext.', headingPath: ['Getting started', 'Setext heading'] },
      { text: 'Pay monthly.', headingPath: ['Billing'] },
    ]);
    expect(JSON.stringify(doc)).not.toContain('internal');
  });

  it('reads UTF-8 and UTF-16 with a byte-order mark', async () => {
    const bom8 = await extractDocument({ bytes: Uint8Array.from([0xef, 0xbb, 0xbf, ...utf8('Café')]) });
    expect(bom8.sections[0]?.text).toBe('Café');
    const utf16 = Uint8Array.from([0xff, 0xfe, ...[...'Grüße'].flatMap((c) => [c.charCodeAt(0), 0])]);
    expect((await extractDocument({ bytes: utf16, filename: 'a.txt' })).sections[0]?.text).toBe('Grüße');
  });

  it('rejects undeclared non-UTF-8 text, but honours a declared charset', async () => {
    const latin1 = Uint8Array.from([...utf8('caf'), 0xe9, ...utf8(' cr'), 0xe8, ...utf8('me')]);
    await expectFailure({ bytes: latin1, filename: 'menu.txt' }, 'not_utf8', /not valid UTF-8.*Save it as UTF-8/);
    const declared = await extractDocument({ bytes: latin1, contentType: 'text/plain; charset=windows-1252' });
    expect(declared.sections[0]?.text).toBe('café crème');
    const page = Uint8Array.from([
      ...utf8('<html><head><meta charset="iso-8859-1"></head><body><p>caf'),
      0xe9,
      ...utf8('</p>'),
    ]);
    expect((await extractDocument({ bytes: page, filename: 'menu.html' })).sections[0]?.text).toBe('café');
  });
});

describe('extractDocument: HTML', () => {
  const page = `<!doctype html><html><head><title>Acme &amp; Co &mdash; Pricing</title>
    <link rel="canonical" href="/pricing?ref=nav#top"><script>var x = "<p>not text</p>";</script><style>p{}</style></head>
    <body><header><nav><a href="/home">Home</a></nav><h1>Site banner</h1></header>
    <main><article><header><h1>Pricing</h1></header>
      <p>Plans start at &euro;10 &ndash; billed &#x6D;onthly.</p>
      <h2>Refunds</h2><p>Full refund within <b>30&nbsp;days</b>.<br>No questions asked.</p>
      <ul><li>Item one<li>Item two</ul>
      <table><tr><th>Plan</th><th>Price</th></tr><tr><td><p>Pro</p></td><td></td><td>10</tr></table>
      <div aria-hidden="true">Hidden text</div><div role="navigation">Breadcrumbs</div><p hidden>Secret</p>
      <noscript>Enable JS</noscript><form><label>Email</label></form><svg><text>svg text</text></svg>
      <iframe src="/ad">Ad</iframe>
      <h3>Details</h3><p>See <a href="https://other.example/docs#intro">docs</a>, <a href="mailto:a@b.c">mail</a>,
      <a href="javascript:void(0)">js</a> and <a href="/pricing#faq">faq</a>.</p>
    </article></main><aside>Related posts</aside><footer>Copyright</footer></body></html>`;

  it('keeps the content, headings and table rows and drops page chrome', async () => {
    const doc = await extractDocument({ bytes: utf8(page), url: 'https://acme.example/en/pricing' });
    expect(doc.format).toBe('html');
    expect(doc.title).toBe('Acme & Co — Pricing');
    expect(doc.sections).toEqual([
      { text: 'Plans start at €10 – billed monthly.', headingPath: ['Pricing'] },
      { text: 'Full refund within 30 days.\nNo questions asked.', headingPath: ['Pricing', 'Refunds'] },
      { text: 'Item one', headingPath: ['Pricing', 'Refunds'] },
      { text: 'Item two', headingPath: ['Pricing', 'Refunds'] },
      { text: 'Plan | Price', headingPath: ['Pricing', 'Refunds'] },
      { text: 'Pro | 10', headingPath: ['Pricing', 'Refunds'] },
      { text: 'See docs, mail, js and faq.', headingPath: ['Pricing', 'Refunds', 'Details'] },
    ]);
    const all = JSON.stringify(doc.sections);
    for (const chrome of [
      'not text',
      'Site banner',
      'Hidden',
      'Breadcrumbs',
      'Secret',
      'Enable JS',
      'Email',
      'svg text',
      'Related',
      'Copyright',
    ]) {
      expect(all).not.toContain(chrome);
    }
  });

  it('collects the canonical URL and absolute http(s) links without fragments', async () => {
    const doc = await extractDocument({ bytes: utf8(page), url: 'https://acme.example/en/pricing' });
    expect(doc.canonicalUrl).toBe('https://acme.example/pricing?ref=nav');
    expect(doc.links).toEqual([
      'https://acme.example/home',
      'https://other.example/docs',
      'https://acme.example/pricing',
    ]);
  });

  it('decodes entities split anywhere by the streaming parser', async () => {
    const long = `<p>${'Tom &amp; Jerry &eacute;t&eacute; '.repeat(20_000)}</p>`;
    const doc = await extractDocument({ bytes: utf8(long), contentType: 'text/html' });
    const text = doc.sections.map((s) => s.text).join('');
    expect(text).not.toMatch(/&\w+;/);
    expect(text.split('Tom & Jerry été').length - 1).toBe(20_000);
    const bare = await extractDocument({ bytes: utf8('<p>?a=1&copy=2 &amp Tom &#169;</p>'), contentType: 'text/html' });
    expect(bare.sections[0]?.text).toBe('?a=1&copy=2 & Tom ©');
  });

  it('reports a page with nothing but chrome as having no text', async () => {
    const nav = '<html><body><nav><a href="https://a.example/x">Home</a></nav><script>x()</script></body></html>';
    await expectFailure({ bytes: utf8(nav), filename: 'index.html' }, 'no_text', /no text to index/);
  });
});

describe('extractDocument: CSV', () => {
  it('parses RFC 4180 quoting and turns rows into readable records', async () => {
    const csv = 'Name,Plan,Price,Notes\r\nAda,Pro,10,"likes ""quotes"", commas"\r\n"Grace\nHopper",,20,\r\n\r\n';
    const doc = await extractDocument({ bytes: utf8(csv), filename: 'customers.csv' });
    expect(doc.sections.map((s) => s.text)).toEqual([
      'Name: Ada; Plan: Pro; Price: 10; Notes: likes "quotes", commas',
      'Name: Grace\nHopper; Price: 20',
    ]);
  });

  it('sniffs semicolon and tab delimiters', async () => {
    const semi = await extractDocument({ bytes: utf8('Produkt;Preis\nTee;3,50\n'), filename: 'preise.csv' });
    expect(semi.sections[0]?.text).toBe('Produkt: Tee; Preis: 3,50');
    const tsv = await extractDocument({ bytes: utf8('a\tb\n1\t2'), filename: 'x.tsv' });
    expect(tsv.sections[0]?.text).toBe('a: 1; b: 2');
  });

  it('fails readably on an unterminated quote and on a header without rows', async () => {
    await expectFailure(
      { bytes: utf8('a,b\n1,2\n3,"oops\n4,5\n'), filename: 'x.csv' },
      'corrupt',
      /never closes.*line 3/,
    );
    await expectFailure({ bytes: utf8('a,b\n'), filename: 'x.csv' }, 'no_text', /header row but no records/);
  });

  it('handles a 100,000-row CSV in one linear pass', async () => {
    const rows = ['id,name,plan,comment'];
    for (let i = 0; i < 100_000; i++)
      rows.push(`${i},Customer ${i},${i % 3 ? 'Pro' : 'Free'},"said ""hi"", then left"`);
    const bytes = utf8(rows.join('\n'));
    const started = performance.now();
    const doc = await extractDocument({ bytes, filename: 'big.csv' });
    const chunks = chunkDocument(doc);
    // Observed, not asserted (STYLE.md: benchmarks print numbers). Visible with --silent=false.
    console.log(
      `100k-row CSV (${bytes.length} bytes): extract+chunk ${Math.round(performance.now() - started)} ms, ${chunks.length} chunks`,
    );
    expect(doc.sections).toHaveLength(100_000);
    expect(doc.sections[99_999]?.text).toBe(
      'id: 99999; name: Customer 99999; plan: Free; comment: said "hi", then left',
    );
    expect(chunks.every((c) => c.text.length <= 1200)).toBe(true);
    expect(
      chunks
        .map((c) => c.text)
        .join('\n\n')
        .split('\n\n'),
    ).toHaveLength(100_000);
  });
});

describe('extractDocument: DOCX', () => {
  it('reads paragraphs, runs, heading styles, the title and table rows', async () => {
    const body = [
      para('Quarterly &amp; Annual Report', 'Title'),
      para('Overview', 'Heading1'),
      '<w:p><w:r><w:t>Revenue </w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>grew</w:t></w:r><w:r><w:tab/><w:t>fast.</w:t></w:r>',
      '<w:del><w:r><w:delText>deleted words</w:delText></w:r></w:del></w:p>',
      para('Regions', 'Heading2'),
      '<w:tbl><w:tr><w:tc>' + para('Region') + '</w:tc><w:tc>' + para('Sales') + '</w:tc></w:tr>',
      '<w:tr><w:tc>' + para('EMEA') + '</w:tc><w:tc>' + para('12') + '</w:tc></w:tr></w:tbl>',
      '<w:p><w:r><mc:AlternateContent><mc:Choice><w:t>Box text</w:t></mc:Choice><mc:Fallback><w:t>Box text</w:t></mc:Fallback></mc:AlternateContent></w:r></w:p>',
      para('Outlook', 'Heading1'),
      para('Stable.'),
    ].join('');
    const doc = await extractDocument({ bytes: makeDocx(body), filename: 'report.docx' });
    expect(doc.format).toBe('docx');
    expect(doc.title).toBe('Quarterly & Annual Report');
    expect(doc.sections).toEqual([
      { text: 'Revenue grew fast.', headingPath: ['Overview'] },
      { text: 'Region | Sales', headingPath: ['Overview', 'Regions'] },
      { text: 'EMEA | 12', headingPath: ['Overview', 'Regions'] },
      { text: 'Box text', headingPath: ['Overview', 'Regions'] },
      { text: 'Stable.', headingPath: ['Outlook'] },
    ]);
  });

  it('recognises localised heading styles through styles.xml and takes the title from core.xml', async () => {
    const styles = `<w:styles ${W}><w:style w:type="paragraph" w:styleId="berschrift1"><w:name w:val="heading 1"/></w:style></w:styles>`;
    const core = '<cp:coreProperties><dc:title>Handbuch</dc:title></cp:coreProperties>';
    const bytes = makeDocx(para('Einleitung', 'berschrift1') + para('Hallo Welt.'), {
      'word/styles.xml': styles,
      'docProps/core.xml': core,
    });
    const doc = await extractDocument({ bytes, filename: 'handbuch.docx' });
    expect(doc).toMatchObject({ title: 'Handbuch', sections: [{ text: 'Hallo Welt.', headingPath: ['Einleitung'] }] });
  });

  it('refuses a zip bomb by its real inflated size, even when the archive lies about it', async () => {
    const bomb = makeDocx(para('a'.repeat(8 * 1024 * 1024)));
    await expectFailure({ bytes: bomb, filename: 'bomb.docx' }, 'too_large', /too much data.*200:1/);
    // Rewrite every declared size of word/document.xml to 1 KB: only the real output counts.
    const liar = bomb.slice();
    const view = new DataView(liar.buffer);
    for (let i = 0; i < liar.length - 4; i++) {
      const sig = view.getUint32(i, true);
      if (sig !== 0x04034b50 && sig !== 0x02014b50) continue;
      const nameAt = sig === 0x04034b50 ? 30 : 46;
      const nameLength = view.getUint16(i + (sig === 0x04034b50 ? 26 : 28), true);
      const name = new TextDecoder().decode(liar.subarray(i + nameAt, i + nameAt + nameLength));
      if (name === 'word/document.xml') view.setUint32(i + (sig === 0x04034b50 ? 22 : 24), 1024, true);
    }
    await expectFailure({ bytes: liar, filename: 'bomb.docx' }, 'too_large', /too much data/);
  });

  it('refuses an archive that declares more than 50 MB without inflating it', async () => {
    const bytes = makeDocx(para('small'));
    const view = new DataView(bytes.buffer);
    for (let i = bytes.length - 22; i >= 0; i--) {
      if (view.getUint32(i, true) !== 0x02014b50) continue;
      const name = new TextDecoder().decode(bytes.subarray(i + 46, i + 46 + view.getUint16(i + 28, true)));
      if (name === 'word/document.xml') view.setUint32(i + 24, 60 * 1024 * 1024, true);
    }
    await expectFailure({ bytes, filename: 'big.docx' }, 'too_large', /declares 60\.0 MB/);
  });

  it('reports a damaged archive as corrupt', async () => {
    const bytes = makeDocx(para('Hello there, this is a document.'));
    const truncated = bytes.slice(0, 40);
    await expectFailure({ bytes: truncated, filename: 'cut.docx' }, 'corrupt', /damaged ZIP/);
  });
});

describe('extractDocument: PDF', () => {
  it('extracts text per page with 1-based page numbers and the title', async () => {
    const bytes = makePdf([['Welcome to Parley.', 'Second line (page one).'], [], ['Refunds take 5 days.']], {
      title: 'Manual',
    });
    const doc = await extractDocument({ bytes, filename: 'manual.pdf', contentType: 'application/pdf' });
    expect(doc.format).toBe('pdf');
    expect(doc.title).toBe('Manual');
    expect(doc.sections.map((s) => [s.page, s.text.replace(/\s+/g, ' ')])).toEqual([
      [1, 'Welcome to Parley. Second line (page one).'],
      [3, 'Refunds take 5 days.'],
    ]);
  });

  it('recognises a password-protected PDF (and the fixture opens with its password)', async () => {
    const bytes = makePdf([['Top secret pricing.']], { userPassword: 'hunter2' });
    await expectFailure({ bytes, filename: 'locked.pdf' }, 'encrypted', /password-protected/);
    const { extractText, getDocumentProxy } = await import('unpdf');
    const pdf = await getDocumentProxy(bytes.slice(), { password: 'hunter2' });
    expect((await extractText(pdf, { mergePages: true })).text).toContain('Top secret pricing.');
  });

  it('reports damaged PDFs as corrupt', async () => {
    const valid = makePdf([['Some text on a page.']]);
    const garbage = Uint8Array.from([
      ...utf8('%PDF-1.7\n'),
      ...Array.from({ length: 2000 }, (_, i) => (i * 7919) % 251),
    ]);
    for (const bytes of [garbage, utf8('%PDF-1.4\n%%EOF\n'), valid.slice(0, 9)]) {
      await expectFailure({ bytes, filename: 'broken.pdf' }, 'corrupt', /damaged or not a valid PDF/);
    }
  });

  it('reports a PDF without a text layer as having no text', async () => {
    await expectFailure({ bytes: makePdf([[]]), filename: 'scan.pdf' }, 'no_text', /scan/);
  });
});

describe('extractDocument: format detection and refusals', () => {
  const pdf = makePdf([['Hello from a PDF.']]);

  it('lets magic bytes win over a generic type and sniffs undeclared text', async () => {
    expect((await extractDocument({ bytes: pdf })).format).toBe('pdf');
    expect((await extractDocument({ bytes: pdf, contentType: 'application/octet-stream' })).format).toBe('pdf');
    expect((await extractDocument({ bytes: utf8('<!DOCTYPE html><p>Hi</p>') })).format).toBe('html');
    expect(
      (await extractDocument({ bytes: utf8('# Hi\n\nthere'), contentType: 'text/plain', filename: 'a.md' })).format,
    ).toBe('md');
    expect(
      (await extractDocument({ bytes: utf8('a,b\n1,2'), url: 'https://x.example/files/data.csv?v=2' })).format,
    ).toBe('csv');
    const aboutPdf = utf8('<!doctype html><title>The %PDF- header</title><p>Every PDF starts with %PDF-.</p>');
    expect((await extractDocument({ bytes: aboutPdf })).format).toBe('html');
    const junkFirst = Uint8Array.from([...utf8('junk from a mail gateway\n'), ...pdf]);
    expect((await extractDocument({ bytes: junkFirst, filename: 'a.pdf' })).sections[0]?.text).toBe(
      'Hello from a PDF.',
    );
  });

  it('fails on empty and oversized input', async () => {
    await expectFailure({ bytes: new Uint8Array(0), filename: 'blank.txt' }, 'empty', /"blank.txt" is empty/);
    await expectFailure({ bytes: utf8('x'.repeat(2000)), maxBytes: 1000 }, 'too_large', /limit is 1000 bytes/);
    await expectFailure({ bytes: utf8(' \n\t\n '), filename: 'spaces.txt' }, 'no_text', /no text to index/);
  });

  it('reports declared types that contradict the bytes', async () => {
    await expectFailure(
      { bytes: utf8('just some text'), filename: 'report.pdf' },
      'type_mismatch',
      /"report.pdf" is declared as a PDF.*plain text/,
    );
    await expectFailure(
      { bytes: utf8('not a zip'), filename: 'letter.docx' },
      'type_mismatch',
      /Word document.*plain text/,
    );
    const zip = zipSync({ 'readme.txt': strToU8('hello') });
    await expectFailure({ bytes: zip, filename: 'letter.docx' }, 'type_mismatch', /not a Word document/);
    await expectFailure({ bytes: pdf, contentType: 'text/csv' }, 'type_mismatch', /declared as CSV.*a PDF/);
    const png = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13);
    await expectFailure({ bytes: png, filename: 'notes.txt' }, 'type_mismatch', /a PNG image/);
  });

  it('refuses unsupported types', async () => {
    const png = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13);
    await expectFailure({ bytes: png }, 'unsupported_type', /looks like a PNG image.*Parley reads PDF/);
    await expectFailure({ bytes: png, contentType: 'image/png' }, 'unsupported_type', /content type image\/png/);
    await expectFailure({ bytes: utf8('{"a":1}'), filename: 'data.json' }, 'unsupported_type', /\.json extension/);
    await expectFailure(
      { bytes: zipSync({ 'a.txt': strToU8('a') }) },
      'unsupported_type',
      /ZIP archive but not a Word document/,
    );
  });

  it('recognises a password-protected Word file (an OLE container holding EncryptedPackage)', async () => {
    const name = [...'EncryptedPackage'].flatMap((c) => [c.charCodeAt(0), 0]);
    const ole = Uint8Array.from([
      0xd0,
      0xcf,
      0x11,
      0xe0,
      0xa1,
      0xb1,
      0x1a,
      0xe1,
      ...new Array<number>(500).fill(0),
      ...name,
    ]);
    await expectFailure({ bytes: ole, filename: 'secret.docx' }, 'encrypted', /password-protected Word document/);
  });
});

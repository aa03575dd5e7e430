/**
 * A synthetic order export for `npm run bench:ingest`: `order_id,customer,product,quantity,price,
 * status,notes`, deterministic, RFC 4180 (notes with commas, doubled quotes and line breaks are
 * quoted), a few accented names (so the decoded text is not pure ASCII, as real exports are not).
 * `record(i)` is the text Parley's CSV extraction makes of row i ("order_id: …; customer: …"),
 * to look for in the stored chunks.
 */
const FIRST = 'Ada Grace Alan Zoë José Linus Margaret Edsger Barbara Ken Frances Dennis Hedy Tim Radia Guido'.split(
  ' ',
);
const LAST =
  'Lovelace Hopper Turing Müller García Torvalds Hamilton Dijkstra Liskov Thompson Allen Ritchie Lamarr Kay Perlman Rossum'.split(
    ' ',
  );
const PRODUCTS: Array<[string, number]> = [
  ['Walnut desk lamp', 49.9],
  ['Ceramic pour-over kettle', 34.5],
  ['Merino travel blanket', 89],
  ['USB-C docking station', 129.99],
  ['Bamboo cutting board', 19.95],
  ['Noise-cancelling headset', 199],
  ['Cast iron skillet 28 cm', 59.9],
  ['Ergonomic office chair', 349],
  ['Linen duvet cover', 119],
  ['Wireless barcode scanner', 74.25],
  ['Stainless water bottle', 24.9],
  ['Standing desk frame', 429],
];
const STATUSES = ['delivered', 'delivered', 'delivered', 'shipped', 'processing', 'returned', 'cancelled'];
/** Most orders have no note; the rest exercise quoting. */
const NOTES = [
  '',
  '',
  '',
  'Leave at the door',
  'Gift wrap, no invoice in the box',
  'Customer asked: "deliver after 5pm"',
  'Call before delivery\nside entrance',
  'Refund issued',
];

export const CSV_HEADER = ['order_id', 'customer', 'product', 'quantity', 'price', 'status', 'notes'];

/** The field values of row i (0-based data row). */
export function row(i: number): string[] {
  const [product, unit] = PRODUCTS[(i * 7) % PRODUCTS.length]!;
  const quantity = 1 + ((i * 13) % 5);
  return [
    `ORD-${String(i + 1).padStart(7, '0')}`,
    `${FIRST[i % FIRST.length]} ${LAST[Math.floor(i / FIRST.length) % LAST.length]}`,
    product,
    String(quantity),
    (unit * quantity).toFixed(2),
    STATUSES[(i * 3) % STATUSES.length]!,
    NOTES[(i * 5 + Math.floor(i / 11)) % NOTES.length]!,
  ];
}

const quote = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** Row i as Parley's CSV extraction renders it: "Header: value" pairs, empty values left out. */
export function record(i: number): string {
  return row(i)
    .map((v, k) => (v ? `${CSV_HEADER[k]}: ${v}` : ''))
    .filter(Boolean)
    .join('; ');
}

/** The whole file (header + `rows` rows, CRLF line ends as spreadsheet exports write them). */
export function buildCsv(rows: number): Uint8Array {
  const lines = [CSV_HEADER.join(',')];
  for (let i = 0; i < rows; i++) lines.push(row(i).map(quote).join(','));
  return new TextEncoder().encode(`${lines.join('\r\n')}\r\n`);
}

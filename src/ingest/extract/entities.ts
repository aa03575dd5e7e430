/**
 * Character-reference decoding for HTML and XML text. HTMLRewriter hands text and attribute
 * values over raw (`&amp;` stays `&amp;`), and WordprocessingML escapes the XML five, so both
 * extractors decode here. Numeric references are decoded fully; named ones cover the XML five
 * plus the entities that actually show up in web copy (typography, currency, Latin-1 letters).
 * An unknown name is left as written rather than guessed.
 */

const COMMON: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
  ensp: '\u2002',
  emsp: '\u2003',
  thinsp: '\u2009',
  shy: '\u00ad',
  zwj: '\u200d',
  zwnj: '\u200c',
  lrm: '\u200e',
  rlm: '\u200f',
  ndash: '\u2013',
  mdash: '\u2014',
  hellip: '\u2026',
  lsquo: '\u2018',
  rsquo: '\u2019',
  sbquo: '\u201a',
  ldquo: '\u201c',
  rdquo: '\u201d',
  bdquo: '\u201e',
  laquo: '\u00ab',
  raquo: '\u00bb',
  lsaquo: '\u2039',
  rsaquo: '\u203a',
  bull: '\u2022',
  middot: '\u00b7',
  dagger: '\u2020',
  Dagger: '\u2021',
  prime: '\u2032',
  Prime: '\u2033',
  copy: '\u00a9',
  reg: '\u00ae',
  trade: '\u2122',
  sect: '\u00a7',
  para: '\u00b6',
  deg: '\u00b0',
  plusmn: '\u00b1',
  times: '\u00d7',
  divide: '\u00f7',
  minus: '\u2212',
  le: '\u2264',
  ge: '\u2265',
  ne: '\u2260',
  asymp: '\u2248',
  infin: '\u221e',
  frac12: '\u00bd',
  frac14: '\u00bc',
  frac34: '\u00be',
  sup1: '\u00b9',
  sup2: '\u00b2',
  sup3: '\u00b3',
  micro: '\u00b5',
  euro: '\u20ac',
  pound: '\u00a3',
  yen: '\u00a5',
  cent: '\u00a2',
  curren: '\u00a4',
  iexcl: '\u00a1',
  iquest: '\u00bf',
  larr: '\u2190',
  rarr: '\u2192',
  uarr: '\u2191',
  darr: '\u2193',
  harr: '\u2194',
  check: '\u2713',
  szlig: '\u00df',
};

// Latin-1 letters: &Agrave; … &yuml;, generated from their code points instead of listed by hand.
const LATIN1_NAMES =
  'Agrave Aacute Acirc Atilde Auml Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml ' +
  'ETH Ntilde Ograve Oacute Ocirc Otilde Ouml _ Oslash Ugrave Uacute Ucirc Uuml Yacute THORN _ ' +
  'agrave aacute acirc atilde auml aring aelig ccedil egrave eacute ecirc euml igrave iacute icirc iuml ' +
  'eth ntilde ograve oacute ocirc otilde ouml _ oslash ugrave uacute ucirc uuml yacute thorn yuml';
const NAMED: Record<string, string> = {
  ...COMMON,
  ...Object.fromEntries(
    LATIN1_NAMES.split(' ')
      .map((name, i) => [name, String.fromCodePoint(0xc0 + i)])
      .filter(([name]) => name !== '_'),
  ),
};

const REFERENCE = /&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([A-Za-z][A-Za-z0-9]{1,31}))(;?)/g;
/** Names still decoded without their `;`, as browsers do; any other bare `&name` (e.g. `?a=1&copy=2`) stays. */
const BARE = new Set(['amp', 'lt', 'gt', 'quot', 'nbsp']);

function fromCodePoint(code: number): string {
  // NUL, surrogates and out-of-range values become U+FFFD, as the HTML spec does.
  if (code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return '\ufffd';
  return String.fromCodePoint(code);
}

/** Decodes `&name;`, `&#123;` and `&#x7B;` references; leaves anything unrecognised untouched. */
export function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(REFERENCE, (match, dec?: string, hex?: string, name?: string, semicolon?: string) => {
    if (dec !== undefined) return fromCodePoint(Number.parseInt(dec, 10));
    if (hex !== undefined) return fromCodePoint(Number.parseInt(hex, 16));
    if (name === undefined || !Object.hasOwn(NAMED, name) || (!semicolon && !BARE.has(name))) return match;
    return NAMED[name] ?? match;
  });
}

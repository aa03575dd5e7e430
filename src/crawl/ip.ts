/**
 * IP address parsing and classification for the SSRF check. IPv4 is parsed the way the WHATWG
 * URL parser does (decimal, hex, octal and short forms such as `127.1`), so every spelling of an
 * address lands on the same number. Classification is an allowlist at heart: an address is
 * `public` only when it is outside every special-purpose range (IANA registries for IPv4 and
 * IPv6); IPv6 forms that embed an IPv4 address (IPv4-mapped, NAT64, 6to4) are judged by it.
 */

/** `public`, `loopback`, or a short readable label of the blocked range. */
export type AddressClass = 'public' | 'loopback' | { blocked: string };

const V4_RANGES: ReadonlyArray<readonly [string, number, string]> = [
  // Specific entries first: the first matching range names the class.
  ['169.254.169.254', 32, 'cloud metadata'],
  ['168.63.129.16', 32, 'cloud metadata'],
  ['255.255.255.255', 32, 'broadcast'],
  ['0.0.0.0', 8, 'unspecified ("this network")'],
  ['10.0.0.0', 8, 'private network'],
  ['100.64.0.0', 10, 'carrier-grade NAT'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private network'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, '6to4 relay anycast'],
  ['192.168.0.0', 16, 'private network'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

/**
 * Parses an IPv4 host the WHATWG way: 1–4 dot-separated parts, each decimal, `0x` hex or
 * leading-zero octal, the last part filling the remaining bytes. Returns the address as an
 * unsigned 32-bit number, or null when `host` is not an IPv4 address.
 */
export function parseIpv4(host: string): number | null {
  const parts = host.split('.');
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  if (parts.length === 0 || parts.length > 4) return null;
  const numbers: number[] = [];
  for (const part of parts) {
    const n = parseIpv4Part(part);
    if (n === null) return null;
    numbers.push(n);
  }
  const last = numbers.pop() ?? 0;
  if (numbers.some((n) => n > 255) || last >= 256 ** (4 - numbers.length)) return null;
  return numbers.reduce((acc, n, i) => acc + n * 256 ** (3 - i), 0) + last;
}

function parseIpv4Part(part: string): number | null {
  if (/^0[xX][0-9a-fA-F]*$/.test(part)) return part.length === 2 ? 0 : parseInt(part.slice(2), 16);
  if (/^0[0-7]+$/.test(part)) return parseInt(part.slice(1), 8);
  if (/^(0|[1-9][0-9]*)$/.test(part)) return Number(part);
  return null;
}

/**
 * True when a hostname's last label is numeric (decimal or `0x` hex): the WHATWG parser then
 * treats the whole host as IPv4 (or rejects it), so such a host is never a DNS name.
 */
export function endsInNumber(host: string): boolean {
  const labels = host.split('.');
  if (labels.length > 1 && labels[labels.length - 1] === '') labels.pop();
  const last = labels[labels.length - 1] ?? '';
  return /^[0-9]+$/.test(last) || /^0[xX][0-9a-fA-F]*$/.test(last);
}

/** Parses an IPv6 address (no brackets, no zone id) into eight 16-bit groups, or null. */
export function parseIpv6(text: string): number[] | null {
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parseGroups = (s: string): number[] | null => {
    if (s === '') return [];
    const groups: number[] = [];
    const pieces = s.split(':');
    for (const [i, piece] of pieces.entries()) {
      if (i === pieces.length - 1 && piece.includes('.')) {
        const v4 = /^\d{1,3}(\.\d{1,3}){3}$/.test(piece) ? parseIpv4(piece) : null;
        if (v4 === null) return null;
        groups.push(Math.floor(v4 / 65536), v4 % 65536);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(piece)) {
        groups.push(parseInt(piece, 16));
      } else {
        return null;
      }
    }
    return groups;
  };
  const head = parseGroups(halves[0] ?? '');
  const tail = halves.length === 2 ? parseGroups(halves[1] ?? '') : [];
  if (!head || !tail) return null;
  if (halves.length === 1) return head.length === 8 ? head : null;
  const missing = 8 - head.length - tail.length;
  return missing >= 1 ? [...head, ...new Array<number>(missing).fill(0), ...tail] : null;
}

export function classifyIpv4(address: number): AddressClass {
  for (const [base, bits, label] of V4_RANGES) {
    const start = parseIpv4(base) ?? 0;
    const size = 2 ** (32 - bits);
    if (address >= start && address < start + size) return label === 'loopback' ? 'loopback' : { blocked: label };
  }
  return 'public';
}

/**
 * Classifies IPv6. Only global unicast (2000::/3) outside its special blocks is public; an
 * embedded IPv4 address that is not public blocks the IPv6 form too (and embedded loopback is
 * reported as blocked, not as loopback: only ::1 is IPv6 loopback).
 */
export function classifyIpv6(g: readonly number[]): AddressClass {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g;
  const embedded = (hi: number, lo: number, how: string): AddressClass => {
    const inner = classifyIpv4(hi * 65536 + lo);
    if (inner === 'public') return 'public';
    return { blocked: `${inner === 'loopback' ? 'loopback' : inner.blocked} (${how})` };
  };
  const firstFiveZero = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (firstFiveZero && g5 === 0 && g6 === 0) return g7 === 1 ? 'loopback' : { blocked: 'unspecified' };
  if (firstFiveZero && g5 === 0xffff) return embedded(g6, g7, 'IPv4-mapped');
  if (firstFiveZero && g5 === 0) return { blocked: 'reserved (IPv4-compatible)' };
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return embedded(g6, g7, 'NAT64');
  if (g0 === 0x2002) return embedded(g1, g2, '6to4');
  if (g0 === 0xfd00 && g1 === 0x0ec2 && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0 && g6 === 0 && g7 === 0x254) {
    return { blocked: 'cloud metadata' };
  }
  if ((g0 & 0xfe00) === 0xfc00) return { blocked: 'unique-local' };
  if ((g0 & 0xffc0) === 0xfe80) return { blocked: 'link-local' };
  if ((g0 & 0xffc0) === 0xfec0) return { blocked: 'site-local' };
  if ((g0 & 0xff00) === 0xff00) return { blocked: 'multicast' };
  if ((g0 & 0xe000) !== 0x2000) return { blocked: 'reserved' };
  if (g0 === 0x2001 && g1 === 0x0db8) return { blocked: 'documentation' };
  if (g0 === 0x2001 && g1 < 0x0200) return { blocked: 'IETF protocol assignments (Teredo, ORCHID…)' };
  if (g0 === 0x3fff && g1 < 0x1000) return { blocked: 'documentation' };
  return 'public';
}

/** Classifies an address given as text (dotted IPv4 or IPv6, brackets allowed); null if neither. */
export function classifyAddress(text: string): AddressClass | null {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (bare.includes(':')) {
    const groups = parseIpv6(bare);
    return groups ? classifyIpv6(groups) : null;
  }
  const v4 = parseIpv4(bare);
  return v4 === null ? null : classifyIpv4(v4);
}

/** A readable name for a class, for refusal messages. */
export function describeClass(c: AddressClass): string {
  return typeof c === 'string' ? c : c.blocked;
}

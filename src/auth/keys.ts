/**
 * API key material: `sk_…` (secret) and `pk_…` (publishable) keys carry 192 random bits
 * (base64url), are shown once, and are stored only as a SHA-256 hash. The first characters
 * serve as a display prefix. No relative imports: scripts share this file under Node too.
 */
export type KeyType = 'secret' | 'publishable';

const PREFIX: Record<KeyType, string> = { secret: 'sk_', publishable: 'pk_' };
const KEY_PATTERN = /^(sk|pk)_[A-Za-z0-9_-]{32}$/;

function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function generateKey(type: KeyType): string {
  return PREFIX[type] + base64url(crypto.getRandomValues(new Uint8Array(24)));
}

/** The part shown in listings: type prefix plus 6 characters (36 bits — identifies, never unlocks). */
export function displayPrefix(key: string): string {
  return key.slice(0, 9);
}

export async function hashKey(key: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(key));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Cheap shape check before any lookup; returns the key type or undefined. */
export function keyType(candidate: string): KeyType | undefined {
  if (!KEY_PATTERN.test(candidate)) return undefined;
  return candidate.startsWith('sk_') ? 'secret' : 'publishable';
}

/**
 * Bounds for deliberate isolate-level caches. A Map iterates in insertion order, so moving a key
 * to the end whenever it is used and dropping keys from the front beyond a maximum makes a
 * least-recently-used cache of a plain Map.
 */

/** Stores `value` as the newest entry of `map`, dropping the oldest entries beyond `max`. */
export function remember<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  for (const oldest of map.keys()) {
    if (map.size <= max) break;
    map.delete(oldest);
  }
}

/** Reads `key` and marks it as the most recently used entry of `map`. */
export function recall<K, V>(map: Map<K, V>, key: K): V | undefined {
  const value = map.get(key);
  if (value !== undefined) {
    map.delete(key);
    map.set(key, value);
  }
  return value;
}

import { Redis } from 'ioredis';

/** Deletes every key matching pattern (SCAN, not KEYS, so a busy Redis is not blocked). */
export async function deleteKeys(url: string, pattern: string): Promise<void> {
  const r = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      if (keys.length) await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
}

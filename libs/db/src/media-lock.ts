import { sql } from 'drizzle-orm';
import type { DbTransaction } from './media.repository';

/**
 * Holds a media's lock until the transaction ends. A dispatch holds it while it creates the engine job or
 * records the resized images, and a delete takes it too: a delete then sees the engine job a dispatch
 * recorded, and a dispatch finishing after a delete sees the media gone.
 */
export async function lockMedia(tx: DbTransaction, mediaId: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`dispatch:${mediaId}`}))`);
}

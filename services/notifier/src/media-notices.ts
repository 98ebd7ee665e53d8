import { eq, sql } from 'drizzle-orm';
import { media, type Db } from '@mp/db';
import type { MediaKind, MediaStatus } from '@mp/contracts';

export interface MediaNotice {
  id: string;
  userId: string;
  /** The file name as the user gave it (the stored, sanitised one for media from before it was kept). */
  name: string;
  kind: MediaKind;
  status: MediaStatus;
  progress: number | null;
  statusDetail: string | null;
}

/** Read-only (the media repository of libs/db owns the table): what a notify job refers to, re-read. */
export function createMediaNotices(db: Db) {
  // Prepared once: this runs for every notify job.
  const findNotice = db
    .select({
      id: media.id,
      userId: media.userId,
      name: sql<string>`coalesce(${media.originalName}, ${media.name})`,
      kind: media.kind,
      status: media.status,
      progress: media.progress,
      statusDetail: media.statusDetail,
    })
    .from(media)
    .where(eq(media.id, sql.placeholder('id')))
    .limit(1)
    .prepare('notifier_find_media_notice');
  return {
    async findNotice(id: string): Promise<MediaNotice | null> {
      const [row] = await findNotice.execute({ id });
      return row ?? null;
    },
  };
}

export type MediaNotices = ReturnType<typeof createMediaNotices>;

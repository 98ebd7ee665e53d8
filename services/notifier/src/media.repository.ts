import { eq, media, type Db } from '@mp/db';
import type { MediaStatus } from '@mp/contracts';

export interface MediaNotice {
  id: string;
  userId: string;
  name: string;
  status: MediaStatus;
  progress: number | null;
  statusDetail: string | null;
}

/** Read-only: the notifier only re-reads what a notify job refers to. */
export function createMediaRepository(db: Db) {
  return {
    async findNotice(id: string): Promise<MediaNotice | null> {
      const [row] = await db
        .select({
          id: media.id,
          userId: media.userId,
          name: media.name,
          status: media.status,
          progress: media.progress,
          statusDetail: media.statusDetail,
        })
        .from(media)
        .where(eq(media.id, id))
        .limit(1);
      return row ?? null;
    },
  };
}

export type MediaRepository = ReturnType<typeof createMediaRepository>;

import path from 'node:path';
import { z } from 'zod';
import { decodeS3EventKey, type MediaKind, type S3EventRecord } from '@mp/contracts';
import { parseMediaKey, sanitizeName } from '@mp/storage';

const S3EventSchema = z.object({
  Records: z.array(
    z.looseObject({
      eventName: z.string(),
      s3: z.looseObject({
        bucket: z.looseObject({ name: z.string() }),
        object: z.looseObject({ key: z.string(), size: z.number().nonnegative().optional() }),
      }),
    }),
  ),
});

/** A direct-to-S3 upload that should become a media row. */
export interface UploadCandidate {
  key: string;
  userId: string;
  mediaId: string;
  name: string;
  size: number | undefined;
}

export interface IgnoredRecord {
  key: string;
  reason: 'not-created' | 'other-bucket' | 'not-an-upload' | 'bad-key';
}

/** Whether a decoded SNS Message is an S3 event notification (Records) or S3's configuration test. */
export function s3MessageKind(value: Record<string, unknown>): 'records' | 'test' | null {
  if (value.Event === 's3:TestEvent') return 'test';
  return Array.isArray(value.Records) ? 'records' : null;
}

export function parseS3Records(
  value: unknown,
): { ok: true; records: S3EventRecord[] } | { ok: false; message: string } {
  const parsed = S3EventSchema.safeParse(value);
  if (parsed.success) return { ok: true, records: parsed.data.Records as S3EventRecord[] };
  const issue = parsed.error.issues[0]!;
  return { ok: false, message: `${issue.path.join('.') || 'message'}: ${issue.message}` };
}

/**
 * The records that are new objects under the upload prefix of our bucket, keys decoded.
 * AWS names events `ObjectCreated:Put`; MinIO prefixes them with `s3:`.
 */
export function uploadCandidates(
  records: readonly S3EventRecord[],
  bucket: string,
): { uploads: UploadCandidate[]; ignored: IgnoredRecord[] } {
  const uploads: UploadCandidate[] = [];
  const ignored: IgnoredRecord[] = [];
  for (const r of records) {
    const raw = r.s3.object.key;
    if (!/^(s3:)?ObjectCreated:/.test(r.eventName)) {
      ignored.push({ key: raw, reason: 'not-created' });
      continue;
    }
    if (r.s3.bucket.name !== bucket) {
      ignored.push({ key: raw, reason: 'other-bucket' });
      continue;
    }
    const key = decodeKey(raw);
    if (key === null) {
      ignored.push({ key: raw, reason: 'bad-key' });
      continue;
    }
    const parsed = parseMediaKey(key);
    if (!parsed) {
      ignored.push({ key, reason: 'not-an-upload' });
      continue;
    }
    // Upload keys are built with a sanitised name; any other name did not come from us.
    if (sanitizeName(parsed.name) !== parsed.name) {
      ignored.push({ key, reason: 'bad-key' });
      continue;
    }
    uploads.push({ key, ...parsed, size: r.s3.object.size });
  }
  return { uploads, ignored };
}

const KIND_BY_EXTENSION: Record<string, MediaKind> = {
  '.mp3': 'audio',
  '.wav': 'audio',
  '.flac': 'audio',
  '.m4a': 'audio',
  '.aac': 'audio',
  '.ogg': 'audio',
  '.oga': 'audio',
  '.opus': 'audio',
  '.aif': 'audio',
  '.aiff': 'audio',
  '.mp4': 'video',
  '.m4v': 'video',
  '.mov': 'video',
  '.mkv': 'video',
  '.webm': 'video',
  '.avi': 'video',
  '.mpg': 'video',
  '.mpeg': 'video',
  '.jpg': 'image',
  '.jpeg': 'image',
  '.png': 'image',
  '.gif': 'image',
  '.webp': 'image',
};

const MIME_BY_EXTENSION: Record<string, string> = {
  '.mp3': 'audio/mpeg',
  '.wav': 'audio/wav',
  '.flac': 'audio/flac',
  '.m4a': 'audio/mp4',
  '.aac': 'audio/aac',
  '.ogg': 'audio/ogg',
  '.oga': 'audio/ogg',
  '.opus': 'audio/opus',
  '.aif': 'audio/aiff',
  '.aiff': 'audio/aiff',
  '.mp4': 'video/mp4',
  '.m4v': 'video/mp4',
  '.mov': 'video/quicktime',
  '.mkv': 'video/x-matroska',
  '.webm': 'video/webm',
  '.avi': 'video/x-msvideo',
  '.mpg': 'video/mpeg',
  '.mpeg': 'video/mpeg',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
};

/**
 * The media kind and content type of an uploaded object: its Content-Type when that names a kind,
 * else its extension. Null when it is not audio, video or an image.
 */
export function mediaTypeOf(
  contentType: string | undefined,
  name: string,
): { kind: MediaKind; contentType: string } | null {
  const mime = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  const top = mime.split('/')[0];
  if (top === 'audio' || top === 'video' || top === 'image') return { kind: top, contentType: mime };
  const ext = path.extname(name).toLowerCase();
  const kind = Object.hasOwn(KIND_BY_EXTENSION, ext) ? KIND_BY_EXTENSION[ext] : undefined;
  return kind ? { kind, contentType: MIME_BY_EXTENSION[ext]! } : null;
}

function decodeKey(raw: string): string | null {
  try {
    return decodeS3EventKey(raw);
  } catch {
    return null;
  }
}

import { GetBucketCorsCommand, PutBucketCorsCommand, type CORSRule, type S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '@mp/logging';

// A player in the page (hls.js) fetches a stream's segments from S3 with XHR, from the gateway's origin: S3 must
// answer them with CORS headers. Every object needs a presigned URL anyway, so a rule allowing GET and HEAD from
// any origin opens nothing that was closed. A bucket that already has a CORS configuration is left alone.

export const PLAYBACK_CORS_RULE: CORSRule = {
  AllowedOrigins: ['*'],
  AllowedMethods: ['GET', 'HEAD'],
  AllowedHeaders: ['*'],
  ExposeHeaders: ['Content-Length', 'Content-Range', 'ETag'],
  MaxAgeSeconds: 3600,
};

export type CorsOutcome = 'present' | 'added' | 'other-rules' | 'failed';

/** Adds the playback rule to a bucket that has no CORS configuration; answers what it found or did. */
export async function ensurePlaybackCors(s3: S3Client, bucket: string, log: Logger): Promise<CorsOutcome> {
  try {
    const current = await s3.send(new GetBucketCorsCommand({ Bucket: bucket })).catch((err: unknown) => {
      const e = err as { name?: string; Code?: string };
      if (e.name === 'NoSuchCORSConfiguration' || e.Code === 'NoSuchCORSConfiguration') return null;
      throw err;
    });
    const rules = current?.CORSRules ?? [];
    if (rules.some((r) => r.AllowedOrigins?.includes('*') && r.AllowedMethods?.includes('GET'))) return 'present';
    if (rules.length) {
      log.warn(
        { bucket },
        "the bucket has CORS rules of its own: videos play in the page only if they allow GET from the page's origin",
      );
      return 'other-rules';
    }
    await s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: [PLAYBACK_CORS_RULE] } }));
    log.info({ bucket }, 'added a CORS rule (GET from any origin, presigned URLs only) for playing videos in the page');
    return 'added';
  } catch (err) {
    log.warn(
      { bucket, err: (err as Error).message },
      'could not check or set the bucket CORS rule that playing videos in the page needs',
    );
    return 'failed';
  }
}

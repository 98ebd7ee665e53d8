import {
  DeleteObjectsCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchBucket,
  NoSuchKey,
  NotFound,
  S3ServiceException,
  type HeadObjectCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';

/**
 * True when S3 answered that the object is not there. HEAD answers carry no body, so the SDK names every
 * 404 of a HeadObject `NotFound` from its status alone; GetObject's body names it `NoSuchKey`. Both are
 * typed, on AWS, LocalStack and s3rver alike, so no status-code fallback is needed.
 */
export function isNotFound(err: unknown): boolean {
  return err instanceof NotFound || err instanceof NoSuchKey;
}

/**
 * True when S3 answered that the bucket does not exist. The SDK models NoSuchBucket for a few operations
 * only; for the others (GetObject, PutObject) it throws an S3ServiceException named after the error code.
 */
export function isNoSuchBucket(err: unknown): boolean {
  return err instanceof NoSuchBucket || (err instanceof S3ServiceException && err.name === 'NoSuchBucket');
}

/** The object's metadata, or undefined when there is no such object. */
export async function headObject(
  s3: S3Client,
  bucket: string,
  key: string,
  opts: { signal?: AbortSignal | undefined } = {},
): Promise<HeadObjectCommandOutput | undefined> {
  try {
    return await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: opts.signal });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export async function objectExists(
  s3: S3Client,
  bucket: string,
  key: string,
  opts: { signal?: AbortSignal | undefined } = {},
): Promise<boolean> {
  return (await headObject(s3, bucket, key, opts)) !== undefined;
}

/** Every key under the prefix, in S3's (lexicographic) order, across all pages. */
export async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/** Deletes the keys, 1000 a request (DeleteObjects' limit); a key that is already gone counts as deleted. */
export async function deleteKeys(s3: S3Client, bucket: string, keys: readonly string[]): Promise<number> {
  for (let i = 0; i < keys.length; i += 1000) {
    await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })) },
      }),
    );
  }
  return keys.length;
}

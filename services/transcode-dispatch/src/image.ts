import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import sharp, { type FormatEnum } from 'sharp';
import { imageTarget, type ImageOutput } from './profile';

export interface MadeImage {
  format: string;
  key: string;
  contentType: string;
  size: number;
  width: number;
  height: number;
}

const FORMATS: Record<string, { ext: string; mime: string }> = {
  jpeg: { ext: '.jpg', mime: 'image/jpeg' },
  png: { ext: '.png', mime: 'image/png' },
  webp: { ext: '.webp', mime: 'image/webp' },
  gif: { ext: '.gif', mime: 'image/gif' },
  tiff: { ext: '.tiff', mime: 'image/tiff' },
  avif: { ext: '.avif', mime: 'image/avif' },
  heif: { ext: '.jpg', mime: 'image/jpeg' },
};

/**
 * The image path: resize with sharp (the original system's half-size copy, and a thumbnail), each written
 * beside the other outputs. The original is streamed to a temporary file, never held in memory.
 */
export async function makeImageOutputs(opts: {
  s3: S3Client;
  bucket: string;
  inputKey: string;
  outputPrefix: string;
  base: string;
  outputs: ImageOutput[];
  tmpRoot?: string | undefined;
}): Promise<MadeImage[]> {
  const dir = await mkdtemp(path.join(opts.tmpRoot ?? tmpdir(), 'dispatch-img-'));
  try {
    const input = path.join(dir, 'input');
    const obj = await opts.s3.send(new GetObjectCommand({ Bucket: opts.bucket, Key: opts.inputKey }));
    await pipeline(obj.Body as Readable, createWriteStream(input));
    const meta = await sharp(input, { limitInputPixels: 268_402_689 }).metadata();
    if (!meta.width || !meta.height || !meta.format) throw new Error('The image could not be read.');
    // Keep the original's format where sharp can write it (heif → jpeg).
    const fmt = FORMATS[meta.format] ?? FORMATS.jpeg!;
    const outFormat = meta.format === 'heif' || !FORMATS[meta.format] ? 'jpeg' : meta.format;
    // Largest first: the original is decoded once, for the largest output (a JPEG shrinks on load), and each
    // smaller output is made from the one before it, a far smaller file to decode. The answer keeps the
    // profile's order.
    const planned = opts.outputs
      .map((o, i) => ({ o, i, target: imageTarget(o, meta.width!, meta.height!) }))
      .sort((a, b) => b.target.width * b.target.height - a.target.width * a.target.height);
    let larger = input;
    const made: MadeImage[] = [];
    for (const { o, i, target } of planned) {
      const file = path.join(dir, `${o.format}${fmt.ext}`);
      const info = await sharp(larger)
        .resize(target.width, target.height, { fit: 'fill' })
        .toFormat(outFormat as keyof FormatEnum)
        .toFile(file);
      larger = file;
      const key = `${opts.outputPrefix}${opts.base}${o.suffix}${fmt.ext}`;
      await new Upload({
        client: opts.s3,
        params: { Bucket: opts.bucket, Key: key, Body: createReadStream(file), ContentType: fmt.mime },
      }).done();
      made[i] = {
        format: o.format,
        key,
        contentType: fmt.mime,
        size: (await stat(file)).size,
        width: info.width,
        height: info.height,
      };
    }
    return made;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

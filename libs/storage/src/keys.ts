import path from 'node:path';

const MAX_NAME_BYTES = 200;

/**
 * A file name safe for an S3 key and a local path: no directories, no control characters, no leading
 * dots, Unicode kept (NFC), length bounded. Never empty.
 */
export function sanitizeName(input: string): string {
  let name = input.normalize('NFC');
  // Only the last path segment, whatever the separator.
  name = name.split(/[/\\]/).pop() ?? '';
  name = name
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, '')
    .replace(/[<>:"|?*#%{}^~[\]`]/g, '_')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^\.+/, '');
  name = truncateUtf8(name, MAX_NAME_BYTES);
  return name.length > 0 ? name : 'file';
}

function truncateUtf8(s: string, maxBytes: number): string {
  if (Buffer.byteLength(s) <= maxBytes) return s;
  const ext = path.extname(s).slice(0, 16);
  let base = s.slice(0, s.length - ext.length);
  while (Buffer.byteLength(base + ext) > maxBytes) base = [...base].slice(0, -1).join('');
  return base + ext;
}

/** The name without its extension, for output names. */
export function baseName(name: string): string {
  const ext = path.extname(name);
  const base = ext ? name.slice(0, -ext.length) : name;
  return base.length > 0 ? base : name;
}

const ID = /^[0-9a-f-]{36}$/;

function checkId(label: string, id: string): void {
  if (!ID.test(id)) throw new Error(`invalid ${label}: ${id}`);
}

/** `media/<userId>/<mediaId>/<sanitised name>` */
export function mediaKey(userId: string, mediaId: string, name: string): string {
  checkId('userId', userId);
  checkId('mediaId', mediaId);
  return `media/${userId}/${mediaId}/${sanitizeName(name)}`;
}

/** `transcoded/<userId>/<mediaId>/` — outputs live outside the upload prefix, so they never trigger a transcode. */
export function outputPrefix(userId: string, mediaId: string): string {
  checkId('userId', userId);
  checkId('mediaId', mediaId);
  return `transcoded/${userId}/${mediaId}/`;
}

/** Parses an upload key back into its ids, or null when the key is not an upload. */
export function parseMediaKey(key: string): { userId: string; mediaId: string; name: string } | null {
  const m = /^media\/([0-9a-f-]{36})\/([0-9a-f-]{36})\/([^/]+)$/.exec(key);
  if (!m) return null;
  return { userId: m[1]!, mediaId: m[2]!, name: m[3]! };
}

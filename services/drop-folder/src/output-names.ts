import { baseName, sanitizeName } from '@mp/storage';

/** The folder under OUT_DIR for one source: its name without the extension, safe as a path segment. */
export function outputFolderName(sourceName: string): string {
  return sanitizeName(baseName(sanitizeName(sourceName)));
}

/**
 * The local name of a downloaded output: the name the storage gives it (Content-Disposition, else the last
 * segment of the URL), made safe for a path (no separators, no leading dots); the format when there is none.
 */
export function outputFileName(contentDisposition: string | null, url: string, format: string): string {
  const fromHeader = contentDisposition ? dispositionName(contentDisposition) : null;
  const fromUrl = decodeSafely(new URL(url).pathname.split('/').pop() ?? '');
  return sanitizeName(fromHeader || fromUrl || format);
}

function dispositionName(header: string): string | null {
  const extended = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(header);
  if (extended?.[1]) return decodeSafely(extended[1].trim());
  const plain = /filename\s*=\s*"?([^";]+)"?/.exec(header);
  return plain?.[1]?.trim() ?? null;
}

function decodeSafely(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

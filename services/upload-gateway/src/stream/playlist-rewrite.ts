// The gateway's rewrite of a stored HLS playlist for a player with no bearer header: every URI line is
// replaced by what `to` makes of it. A URI that is not a plain file name next to the playlist (no scheme,
// no slash, no `..`) is refused, so nothing from a stored playlist reaches an S3 key unvalidated. Pure.
// URIs inside tags (#EXT-X-KEY, #EXT-X-I-FRAME-STREAM-INF, #EXT-X-MAP) are rewritten the same way.

const NAME = /^[A-Za-z0-9][\w.-]{0,200}$/;

export class PlaylistError extends Error {}

export function isPlainName(uri: string): boolean {
  return NAME.test(uri) && !uri.includes('..');
}

export function rewritePlaylist(text: string, to: (name: string) => string): string {
  const map = (uri: string) => {
    if (!isPlainName(uri)) throw new PlaylistError(`playlist names ${JSON.stringify(uri)}, not a file beside it`);
    return to(uri);
  };
  return text
    .split('\n')
    .map((raw) => {
      const line = raw.trim();
      if (!line) return line;
      if (line.startsWith('#')) return line.replace(/URI="([^"]*)"/g, (_, uri: string) => `URI="${map(uri)}"`);
      return map(line);
    })
    .join('\n');
}

import { randomInt } from 'node:crypto';

export const ID_PATTERN = /^\d{13}-\w{6}$/;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** Ids as the service made them: creation time in epoch ms, a dash, six lowercase alphanumerics. */
export function newId(now: number = Date.now()): string {
  let suffix = '';
  for (let i = 0; i < 6; i++) suffix += ALPHABET[randomInt(ALPHABET.length)];
  return `${String(now).padStart(13, '0')}-${suffix}`;
}

export type ArnKind = 'pipeline' | 'preset' | 'job';

export interface ArnScope {
  region: string;
  accountId: string;
}

export const arn = (scope: ArnScope, kind: ArnKind, id: string) =>
  `arn:aws:elastictranscoder:${scope.region}:${scope.accountId}:${kind}/${id}`;

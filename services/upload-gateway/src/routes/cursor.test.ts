import { describe, expect, it } from 'vitest';
import { encodeCursor } from '@mp/db';
import { parseCursor } from './cursor';

const ID = '0b9f7a0e-6b1c-4f7e-9a51-2d1f0c3e4b5a';
const b64 = (s: string) => Buffer.from(s).toString('base64url');

describe('parseCursor', () => {
  it('reads back what encodeCursor wrote', () => {
    const cursor = { createdAt: new Date('2026-03-04T05:06:07.089Z'), id: ID };
    expect(parseCursor(encodeCursor(cursor))).toEqual(cursor);
  });

  it.each([
    ['year 1', { createdAt: new Date('0001-01-01T00:00:00.000Z'), id: ID }],
    ['year 9999', { createdAt: new Date('9999-12-31T23:59:59.999Z'), id: ID }],
  ])('takes the edges of the range: %s', (_name, cursor) => {
    expect(parseCursor(encodeCursor(cursor))).toEqual(cursor);
  });

  it.each([
    ['an empty string', ''],
    ['no separator', b64(`2026-03-04T05:06:07.089Z${ID}`)],
    ['36 dashes for an id', b64(`2026-03-04T05:06:07.089Z|${'-'.repeat(36)}`)],
    ['an id with a letter past f', b64(`2026-03-04T05:06:07.089Z|0b9f7a0e-6b1c-4f7e-9a51-2d1f0c3e4b5g`)],
    ['an upper-case id', b64(`2026-03-04T05:06:07.089Z|${ID.toUpperCase()}`)],
    ['a third field', b64(`2026-03-04T05:06:07.089Z|${ID}|x`)],
    ['a date past year 9999', b64(`+275760-09-13T00:00:00.000Z|${ID}`)],
    ['a date before year 1', b64(`-271821-04-20T00:00:00.000Z|${ID}`)],
    ['year 0', b64(`0000-01-01T00:00:00.000Z|${ID}`)],
    ['a date that is no day', b64(`2026-02-31T00:00:00.000Z|${ID}`)],
    ['a date in another spelling', b64(`2026-03-04|${ID}`)],
    ['a number for a date', b64(`1700000000000|${ID}`)],
    ['padded base64', `${encodeCursor({ createdAt: new Date('2026-03-04T05:06:07.089Z'), id: ID })}=`],
  ])('refuses %s', (_name, given) => {
    expect(parseCursor(given)).toBeNull();
  });
});

import { describe, expect, it } from 'vitest';
import { bearerToken } from './index';

describe('bearerToken', () => {
  it.each([
    ['Bearer abcdefgh1234', 'abcdefgh1234'],
    ['bearer abcdefgh1234', 'abcdefgh1234'],
    ['BEARER abcdefgh1234', 'abcdefgh1234'],
    ['  Bearer abcdefgh1234  ', 'abcdefgh1234'],
  ])('reads %j, whatever the case of its scheme', (header, token) => expect(bearerToken(header)).toBe(token));

  it.each([
    undefined,
    '',
    'Basic abcdefgh1234',
    'Bearer short',
    'Bearer has space in it',
    `Bearer ${'x'.repeat(300)}`,
    'Bearerabcdefgh1234',
  ])('refuses %j', (header) => expect(bearerToken(header)).toBeNull());
});

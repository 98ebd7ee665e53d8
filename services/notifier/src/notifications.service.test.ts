import { describe, expect, it } from 'vitest';
import { parseNotificationId } from './notifications.service';

describe('parseNotificationId', () => {
  it.each([
    ['1', 1],
    ['42', 42],
    [42, 42],
    ['9007199254740991', 9007199254740991],
    ['0', null],
    ['-1', null],
    ['01', null],
    ['1.5', null],
    ['1e3', null],
    [' 1', null],
    ['abc', null],
    ['9007199254740993', null],
    ['99999999999999999999', null],
    [0, null],
    [1.5, null],
    [null, null],
    [{}, null],
  ])('%j → %j', (raw, id) => {
    expect(parseNotificationId(raw)).toBe(id);
  });
});

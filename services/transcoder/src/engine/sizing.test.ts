import { describe, expect, it } from 'vitest';
import { fitGeometry, geometryFilters } from './sizing';

const hd = { width: '1280', height: '720' };

describe('fitGeometry', () => {
  it.each([
    ['ShrinkToFit', 'NoPad', [1920, 1080], hd, { width: 1280, height: 720 }, ['scale=1280:720']],
    ['ShrinkToFit', 'NoPad', [320, 240], hd, { width: 320, height: 240 }, []],
    ['ShrinkToFit', 'NoPad', [1080, 1920], hd, { width: 406, height: 720 }, ['scale=406:720']],
    ['Fit', 'NoPad', [320, 240], hd, { width: 960, height: 720 }, ['scale=960:720']],
    [
      'Fit',
      'Pad',
      [1920, 800],
      hd,
      { width: 1280, height: 720 },
      ['scale=1280:534', 'pad=1280:720:(ow-iw)/2:(oh-ih)/2'],
    ],
    ['Fill', 'NoPad', [320, 240], hd, { width: 1280, height: 720 }, ['scale=1280:960', 'crop=1280:720']],
    [
      'ShrinkToFill',
      'NoPad',
      [1920, 1080],
      { width: '720', height: '480' },
      { width: 720, height: 480 },
      ['scale=854:480', 'crop=720:480'],
    ],
    [
      'ShrinkToFill',
      'Pad',
      [320, 240],
      { width: '720', height: '480' },
      { width: 720, height: 480 },
      ['pad=720:480:(ow-iw)/2:(oh-ih)/2'],
    ],
    ['Stretch', 'NoPad', [320, 240], hd, { width: 1280, height: 720 }, ['scale=1280:720']],
    ['Keep', 'NoPad', [1920, 1080], hd, { width: 1280, height: 720 }, ['crop=1280:720']],
    ['Keep', 'Pad', [640, 360], hd, { width: 1280, height: 720 }, ['pad=1280:720:(ow-iw)/2:(oh-ih)/2']],
    [
      'ShrinkToFit',
      'NoPad',
      [4000, 3000],
      { width: 'auto', height: 'auto' },
      { width: 1440, height: 1080 },
      ['scale=1440:1080'],
    ],
    ['ShrinkToFit', 'NoPad', [321, 241], hd, { width: 322, height: 242 }, ['scale=322:242']],
  ] as const)('%s/%s %j in %j', (sizing, padding, [w, h], max, size, filters) => {
    const g = fitGeometry({ width: w, height: h }, max, sizing, padding);
    expect({ width: g.width, height: g.height }).toEqual(size);
    expect(geometryFilters({ width: w, height: h }, g)).toEqual(filters);
  });

  it('never exceeds the box with fit policies, and always gives even sizes', () => {
    for (const [w, h] of [
      [333, 999],
      [1919, 1079],
      [17, 4001],
      [3, 3],
    ] as const) {
      for (const sizing of ['Fit', 'ShrinkToFit', 'Fill', 'ShrinkToFill', 'Stretch', 'Keep']) {
        const g = fitGeometry({ width: w, height: h }, { width: '426', height: '240' }, sizing, 'NoPad');
        expect(g.width).toBeLessThanOrEqual(426);
        expect(g.height).toBeLessThanOrEqual(240);
        expect((g.width % 2) + (g.height % 2)).toBe(0);
      }
    }
  });
});

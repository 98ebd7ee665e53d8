import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDropFolderConfig } from './config';

const base = {
  DROP_DIR: '/srv/drop',
  OUT_DIR: '/srv/out',
  FAILED_DIR: '/srv/drop/failed',
  GATEWAY_URL: 'http://gateway:3000',
  NOTIFIER_URL: 'http://notifier:3001',
  API_TOKEN: 'mp_0123456789abcdef0123',
};

describe('loadDropFolderConfig', () => {
  it('applies defaults, keeps the state file in the drop folder', () => {
    expect(loadDropFolderConfig(base)).toMatchObject({
      STATE_FILE: path.join('/srv/drop', '.drop-state.json'),
      STABLE_MS: 2000,
      MAX_ATTEMPTS: 3,
    });
    expect(loadDropFolderConfig(base).ARCHIVE_DIR).toBeUndefined();
  });

  it('treats an empty ARCHIVE_DIR as unset and resolves relative paths', () => {
    const c = loadDropFolderConfig({ ...base, ARCHIVE_DIR: '', OUT_DIR: 'out' });
    expect(c.ARCHIVE_DIR).toBeUndefined();
    expect(c.OUT_DIR).toBe(path.resolve('out'));
  });

  it('refuses a destination that is the drop folder itself', () => {
    expect(() => loadDropFolderConfig({ ...base, ARCHIVE_DIR: '/srv/drop/' })).toThrowError(
      /^config: ARCHIVE_DIR is invalid/,
    );
  });

  it('names a missing token', () => {
    expect(() => loadDropFolderConfig({ ...base, API_TOKEN: undefined })).toThrowError(
      /^config: API_TOKEN is required/,
    );
  });
});

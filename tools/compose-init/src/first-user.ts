import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createUser, hashToken } from '@mp/auth';
import { UsersRepository, type Db } from '@mp/db';

export interface FirstUser {
  id: string;
  name: string;
  token: string;
}

const FILE = 'first-user.json';

/**
 * The first user, created once. Its token is kept in the data folder (mode 600) because the database only
 * holds its hash; if the database was reset since, a new user is made and the file replaced.
 */
export async function ensureFirstUser(
  db: Db,
  dataDir: string,
  name: string,
): Promise<{ user: FirstUser; created: boolean }> {
  const file = path.join(dataDir, FILE);
  const saved = await readSaved(file);
  if (saved && (await stillValid(db, saved))) return { user: saved, created: false };

  const user = await createUser(db, name);
  await mkdir(dataDir, { recursive: true });
  // Written aside then renamed, so a crash never leaves half a file that hides the user.
  await writeFile(`${file}.tmp`, JSON.stringify(user), { mode: 0o600 });
  await rename(`${file}.tmp`, file);
  return { user, created: true };
}

async function readSaved(file: string): Promise<FirstUser | null> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<FirstUser>;
    if (typeof parsed.id === 'string' && typeof parsed.name === 'string' && typeof parsed.token === 'string') {
      return { id: parsed.id, name: parsed.name, token: parsed.token };
    }
    return null;
  } catch {
    return null;
  }
}

async function stillValid(db: Db, saved: FirstUser): Promise<boolean> {
  const row = await new UsersRepository(db).get(saved.id);
  return row?.tokenHash === hashToken(saved.token);
}

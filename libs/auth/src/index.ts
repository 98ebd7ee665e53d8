import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { UsersRepository, type Db, type User } from '@mp/db';

const PREFIX = 'mpt_';

/** A new API token: 32 random bytes, shown once. */
export function generateToken(): string {
  return PREFIX + randomBytes(32).toString('base64url');
}

/** Tokens are stored as SHA-256: they are high-entropy, so a slow hash adds nothing. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Extracts the token from `Bearer <token>`; null when absent or malformed. */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  // The scheme is case-insensitive (RFC 7235, 2.1).
  const m = /^Bearer ([A-Za-z0-9_\-.~+/]{8,256}=*)$/i.exec(header.trim());
  return m ? m[1]! : null;
}

/** The user a token belongs to, or null. The one implementation every service uses. */
export async function authenticate(db: Db, token: string | null): Promise<User | null> {
  if (!token) return null;
  return new UsersRepository(db).findByTokenHash(hashToken(token));
}

export async function createUser(db: Db, name: string): Promise<{ id: string; name: string; token: string }> {
  const token = generateToken();
  const row = await new UsersRepository(db).create(name, hashToken(token));
  return { id: row.id, name: row.name, token };
}

/** Constant-time comparison for shared secrets such as ADMIN_TOKEN. */
export function secretEquals(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

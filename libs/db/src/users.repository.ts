import { eq } from 'drizzle-orm';
import type { Db } from './client';
import type { DbTransaction } from './media.repository';
import { users, type User } from './schema';

/** The only place that talks SQL for users. Tokens are kept as hashes; callers hash them (libs/auth). */
export class UsersRepository {
  constructor(private readonly db: Db | DbTransaction) {}

  async create(name: string, tokenHash: string): Promise<User> {
    const [row] = await this.db.insert(users).values({ name, tokenHash }).returning();
    return row!;
  }

  async get(id: string): Promise<User | null> {
    const [row] = await this.db.select().from(users).where(eq(users.id, id)).limit(1);
    return row ?? null;
  }

  async findByTokenHash(tokenHash: string): Promise<User | null> {
    const [row] = await this.db.select().from(users).where(eq(users.tokenHash, tokenHash)).limit(1);
    return row ?? null;
  }

  /** An S3 upload creates a media row only for a user that exists. */
  async exists(id: string): Promise<boolean> {
    const [row] = await this.db.select({ id: users.id }).from(users).where(eq(users.id, id));
    return row !== undefined;
  }
}

import { eq, users, type Db, type DbTransaction } from '@mp/db';

/** Read-only: an S3 upload creates a media row only for a user that exists. */
export class UsersRepository {
  constructor(private readonly db: Db | DbTransaction) {}

  async exists(id: string): Promise<boolean> {
    const [row] = await this.db.select({ id: users.id }).from(users).where(eq(users.id, id));
    return row !== undefined;
  }
}

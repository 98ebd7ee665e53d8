import { and, asc, desc, eq, gte, inArray, lte, sql } from 'drizzle-orm';
import type { TranscoderDb } from './db/client';
import { jobs, pipelines } from './db/schema';
import { PAGE_SIZE, type PageQuery } from './et/paging';
import type { PipelineRow } from './et/wire';

export type PipelineInsert = typeof pipelines.$inferInsert;
export type PipelineChanges = Partial<Omit<PipelineInsert, 'id' | 'createdAt'>>;

export class PipelinesRepository {
  constructor(private readonly db: TranscoderDb) {}

  async create(row: PipelineInsert): Promise<PipelineRow> {
    const [created] = await this.db.insert(pipelines).values(row).returning();
    return created!;
  }

  async get(id: string): Promise<PipelineRow | undefined> {
    return this.db.query.pipelines.findFirst({ where: eq(pipelines.id, id) });
  }

  async list(q: PageQuery): Promise<{ rows: PipelineRow[]; next?: string }> {
    const bound =
      q.token === undefined ? undefined : q.ascending ? gte(pipelines.id, q.token) : lte(pipelines.id, q.token);
    const rows = await this.db
      .select()
      .from(pipelines)
      .where(bound)
      .orderBy(q.ascending ? asc(pipelines.id) : desc(pipelines.id))
      .limit(PAGE_SIZE + 1);
    return rows.length > PAGE_SIZE ? { rows: rows.slice(0, PAGE_SIZE), next: rows[PAGE_SIZE]!.id } : { rows };
  }

  async update(id: string, changes: PipelineChanges): Promise<PipelineRow | undefined> {
    if (Object.keys(changes).length === 0) return this.get(id);
    const [row] = await this.db.update(pipelines).set(changes).where(eq(pipelines.id, id)).returning();
    return row;
  }

  /** Deletes a pipeline unless it has Submitted or Progressing jobs; the row lock orders it against CreateJob. */
  async deleteIfIdle(id: string): Promise<'deleted' | 'missing' | 'in-use'> {
    return this.db.transaction(async (tx) => {
      const [locked] = await tx.select({ id: pipelines.id }).from(pipelines).where(eq(pipelines.id, id)).for('update');
      if (!locked) return 'missing';
      const [active] = await tx
        .select({ n: sql<number>`count(*)::int` })
        .from(jobs)
        .where(and(eq(jobs.pipelineId, id), inArray(jobs.status, ['Submitted', 'Progressing'])));
      if (active!.n > 0) return 'in-use';
      await tx.delete(pipelines).where(eq(pipelines.id, id));
      return 'deleted';
    });
  }
}

import { and, asc, desc, eq, gte, inArray, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import type { TranscoderDb } from './db/client';
import { jobOutputs, jobs, pipelines, type EtJobStatus, type JobPlaylist } from './db/schema';
import { PAGE_SIZE, type PageQuery } from './et/paging';
import type { JobRecord, JobRow, OutputRow, PipelineRow } from './et/wire';

export type Tx = Parameters<Parameters<TranscoderDb['transaction']>[0]>[0];
type NewJob = typeof jobs.$inferInsert;
type NewOutput = Omit<typeof jobOutputs.$inferInsert, 'jobId'>;

export type ClaimResult =
  | { kind: 'claimed'; job: JobRecord; pipeline: PipelineRow; firstStart: boolean; attempt: number }
  | { kind: 'paused' }
  | { kind: 'busy' }
  | { kind: 'done' };

export interface OutputResult {
  outputId: string;
  status: 'Complete' | 'Error';
  statusDetail?: string | undefined;
  errorCode?: number | undefined;
  duration?: number | undefined;
  durationMillis?: number | undefined;
  width?: number | undefined;
  height?: number | undefined;
  fileSize?: number | undefined;
  frameRate?: string | undefined;
  thumbnailKeys?: string[] | undefined;
}

export interface JobResult {
  status: 'Complete' | 'Error';
  detected?: Record<string, unknown> | undefined;
  errorCode?: number | undefined;
  errorDetail?: string | undefined;
  outputs: OutputResult[];
  /** Every playlist of the job with its final status. */
  playlists?: JobPlaylist[] | undefined;
}

const TERMINAL: EtJobStatus[] = ['Complete', 'Error', 'Canceled'];

/**
 * The job state machine: Submitted → Progressing → Complete | Error, or Submitted → Canceled. Every
 * transition is one conditional UPDATE, so two workers (or a worker and CancelJob) cannot both win.
 */
export class JobsRepository {
  constructor(private readonly db: TranscoderDb) {}

  /** Inserts a job and its outputs; undefined when the pipeline does not exist (any more). */
  async create(job: NewJob, outputs: NewOutput[]): Promise<JobRecord | undefined> {
    return this.db.transaction(async (tx) => {
      // Shares the pipeline row with other CreateJobs, excludes DeletePipeline until commit.
      const [pipeline] = await tx
        .select({ id: pipelines.id })
        .from(pipelines)
        .where(eq(pipelines.id, job.pipelineId))
        .for('share');
      if (!pipeline) return undefined;
      const [row] = await tx.insert(jobs).values(job).returning();
      const rows = await tx
        .insert(jobOutputs)
        .values(outputs.map((o) => ({ ...o, jobId: row!.id })))
        .returning();
      return { ...row!, outputs: rows.sort((a, b) => a.position - b.position) };
    });
  }

  async get(id: string, db: TranscoderDb | Tx = this.db): Promise<JobRecord | undefined> {
    const [row] = await db.select().from(jobs).where(eq(jobs.id, id));
    if (!row) return undefined;
    const outputs = await db
      .select()
      .from(jobOutputs)
      .where(eq(jobOutputs.jobId, id))
      .orderBy(asc(jobOutputs.position));
    return { ...row, outputs };
  }

  listByPipeline(pipelineId: string, q: PageQuery) {
    return this.list(eq(jobs.pipelineId, pipelineId), q);
  }

  listByStatus(status: EtJobStatus, q: PageQuery) {
    return this.list(eq(jobs.status, status), q);
  }

  private async list(where: SQL, q: PageQuery): Promise<{ rows: JobRecord[]; next?: string }> {
    const bound = q.token === undefined ? undefined : q.ascending ? gte(jobs.id, q.token) : lte(jobs.id, q.token);
    const rows = await this.db
      .select()
      .from(jobs)
      .where(and(where, bound))
      .orderBy(q.ascending ? asc(jobs.id) : desc(jobs.id))
      .limit(PAGE_SIZE + 1);
    const page = rows.slice(0, PAGE_SIZE);
    const outputs = page.length
      ? await this.db
          .select()
          .from(jobOutputs)
          .where(
            inArray(
              jobOutputs.jobId,
              page.map((r) => r.id),
            ),
          )
          .orderBy(asc(jobOutputs.position))
      : [];
    const byJob = new Map<string, OutputRow[]>();
    for (const o of outputs) byJob.set(o.jobId, [...(byJob.get(o.jobId) ?? []), o]);
    const records = page.map((r) => ({ ...r, outputs: byJob.get(r.id) ?? [] }));
    return rows.length > PAGE_SIZE ? { rows: records, next: rows[PAGE_SIZE]!.id } : { rows: records };
  }

  /** Cancels a Submitted job. */
  async cancel(id: string, nowMs: number): Promise<'canceled' | 'missing' | EtJobStatus> {
    return this.db.transaction(async (tx) => {
      const [updated] = await tx
        .update(jobs)
        .set({ status: 'Canceled', finishTimeMillis: nowMs })
        .where(and(eq(jobs.id, id), eq(jobs.status, 'Submitted')))
        .returning({ id: jobs.id });
      if (updated) {
        await tx.update(jobOutputs).set({ status: 'Canceled' }).where(eq(jobOutputs.jobId, id));
        return 'canceled';
      }
      const [row] = await tx.select({ status: jobs.status }).from(jobs).where(eq(jobs.id, id));
      return row ? row.status : 'missing';
    });
  }

  /**
   * Takes a job for one worker: a Submitted job, or a Progressing one whose holder's lease lapsed. Holds
   * jobs of a Paused pipeline, and keeps at most `limit` jobs of one pipeline Progressing.
   * `onStart` runs inside the transaction when the job leaves Submitted (its PROGRESSING notification).
   */
  async claim(
    id: string,
    owner: string,
    opts: { leaseMs: number; limit: number; nowMs: number },
    onStart: (tx: Tx, job: JobRecord, pipeline: PipelineRow) => Promise<void>,
  ): Promise<ClaimResult> {
    return this.db.transaction(async (tx) => {
      const [job] = await tx
        .select({ status: jobs.status, pipelineId: jobs.pipelineId, held: sql<boolean>`${jobs.leaseUntil} > now()` })
        .from(jobs)
        .where(eq(jobs.id, id))
        .for('update');
      if (!job || TERMINAL.includes(job.status)) return { kind: 'done' } as const;
      if (job.status === 'Progressing' && job.held) return { kind: 'busy' } as const;
      const [pipeline] = await tx.select().from(pipelines).where(eq(pipelines.id, job.pipelineId));
      if (!pipeline) return { kind: 'done' } as const;
      if (pipeline.status === 'Paused' && job.status === 'Submitted') return { kind: 'paused' } as const;

      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`transcoder-pipeline:${pipeline.id}`}))`);
      const [running] = await tx
        .select({ n: sql<number>`count(*)::int` })
        .from(jobs)
        .where(
          and(
            eq(jobs.pipelineId, pipeline.id),
            eq(jobs.status, 'Progressing'),
            sql`${jobs.leaseUntil} > now()`,
            sql`${jobs.id} <> ${id}`,
          ),
        );
      if (running!.n >= opts.limit) return { kind: 'busy' } as const;

      const firstStart = job.status === 'Submitted';
      const [claimed] = await tx
        .update(jobs)
        .set({
          status: 'Progressing',
          startTimeMillis: sql`coalesce(${jobs.startTimeMillis}, ${opts.nowMs})`,
          progress: sql`coalesce(${jobs.progress}, 0)`,
          leaseOwner: owner,
          leaseUntil: sql`now() + make_interval(secs => ${opts.leaseMs / 1000})`,
          attempts: sql`${jobs.attempts} + 1`,
        })
        .where(eq(jobs.id, id))
        .returning();
      if (firstStart) {
        await tx
          .update(jobOutputs)
          .set({ status: 'Progressing' })
          .where(and(eq(jobOutputs.jobId, id), eq(jobOutputs.status, 'Submitted')));
      }
      const record = (await this.get(id, tx))!;
      if (firstStart) await onStart(tx, record, pipeline);
      return { kind: 'claimed', job: record, pipeline, firstStart, attempt: claimed!.attempts } as const;
    });
  }

  /** Extends the holder's lease (and records progress); false once the lease was lost to another worker. */
  async heartbeat(id: string, owner: string, leaseMs: number, progress?: number): Promise<boolean> {
    const rows = await this.db
      .update(jobs)
      .set({
        leaseUntil: sql`now() + make_interval(secs => ${leaseMs / 1000})`,
        ...(progress === undefined ? {} : { progress }),
      })
      .where(and(eq(jobs.id, id), eq(jobs.leaseOwner, owner), eq(jobs.status, 'Progressing')))
      .returning({ id: jobs.id });
    return rows.length > 0;
  }

  /**
   * Records progress (and extends the lease) for the holder; `onProgress` writes its notification in the same
   * transaction.
   */
  async progress(
    id: string,
    owner: string,
    leaseMs: number,
    pct: number,
    onProgress: (tx: Tx, job: JobRecord, pipeline: PipelineRow) => Promise<string[]>,
  ): Promise<string[]> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx
        .update(jobs)
        .set({ progress: pct, leaseUntil: sql`now() + make_interval(secs => ${leaseMs / 1000})` })
        .where(
          and(
            eq(jobs.id, id),
            eq(jobs.leaseOwner, owner),
            eq(jobs.status, 'Progressing'),
            sql`coalesce(${jobs.progress}, 0) < ${pct}`,
          ),
        )
        .returning({ pipelineId: jobs.pipelineId });
      if (!row) return [];
      const [pipeline] = await tx.select().from(pipelines).where(eq(pipelines.id, row.pipelineId));
      if (!pipeline) return [];
      return onProgress(tx, (await this.get(id, tx))!, pipeline);
    });
  }

  /** Gives the job up at once (shutdown), so another worker need not wait for the lease to lapse. */
  async release(id: string, owner: string): Promise<void> {
    await this.db
      .update(jobs)
      .set({ leaseUntil: sql`now()` })
      .where(and(eq(jobs.id, id), eq(jobs.leaseOwner, owner), eq(jobs.status, 'Progressing')));
  }

  /**
   * Records the outcome, only if this worker still holds the job: the one write that ends a job, so it
   * happens exactly once. `onFinish` runs in the same transaction (the COMPLETED/ERROR notification).
   */
  async finish(
    id: string,
    owner: string,
    result: JobResult,
    nowMs: number,
    onFinish: (tx: Tx, job: JobRecord) => Promise<void>,
  ): Promise<JobRecord | undefined> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx
        .update(jobs)
        .set({
          status: result.status,
          finishTimeMillis: nowMs,
          detected: result.detected ?? null,
          errorCode: result.errorCode ?? null,
          errorDetail: result.errorDetail ?? null,
          ...(result.playlists ? { playlists: result.playlists } : {}),
          progress: result.status === 'Complete' ? 100 : sql`${jobs.progress}`,
          leaseOwner: null,
          leaseUntil: null,
        })
        .where(and(eq(jobs.id, id), eq(jobs.leaseOwner, owner), eq(jobs.status, 'Progressing')))
        .returning();
      if (!row) return undefined;
      for (const o of result.outputs) {
        await tx
          .update(jobOutputs)
          .set({
            status: o.status,
            statusDetail: o.statusDetail ?? null,
            errorCode: o.errorCode ?? null,
            duration: o.duration ?? null,
            durationMillis: o.durationMillis ?? null,
            width: o.width ?? null,
            height: o.height ?? null,
            fileSize: o.fileSize ?? null,
            frameRate: o.frameRate ?? null,
            thumbnailKeys: o.thumbnailKeys ?? null,
          })
          .where(and(eq(jobOutputs.jobId, id), eq(jobOutputs.outputId, o.outputId)));
      }
      const record = (await this.get(id, tx))!;
      await onFinish(tx, record);
      return record;
    });
  }

  /** Jobs that should be in the queue: Submitted ones, and Progressing ones whose worker went away. */
  async unfinished(limit = 500): Promise<string[]> {
    const rows = await this.db
      .select({ id: jobs.id })
      .from(jobs)
      .where(or(eq(jobs.status, 'Submitted'), and(eq(jobs.status, 'Progressing'), lt(jobs.leaseUntil, sql`now()`))))
      .orderBy(asc(jobs.id))
      .limit(limit);
    return rows.map((r) => r.id);
  }

  async submittedIn(pipelineId: string): Promise<string[]> {
    const rows = await this.db
      .select({ id: jobs.id })
      .from(jobs)
      .where(and(eq(jobs.pipelineId, pipelineId), eq(jobs.status, 'Submitted')))
      .orderBy(asc(jobs.id));
    return rows.map((r) => r.id);
  }
}

export type { JobRow, OutputRow };

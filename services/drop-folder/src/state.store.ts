import { open, readFile, rename } from 'node:fs/promises';
import { z } from '@mp/config';
import { Phase, type FileRecord } from './file-record';

const RecordSchema = z.object({
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  name: z.string().min(1),
  size: z.number(),
  mtimeMs: z.number(),
  phase: z.enum(Phase),
  mediaId: z.string().nullable(),
  attempts: z.number(),
  retryAt: z.number().nullable(),
  error: z.string().nullable(),
  createdAt: z.number(),
  updatedAt: z.number(),
  waitingSince: z.number().nullable(),
  outputs: z.array(z.string()),
  settled: z.boolean(),
});

const StateSchema = z.object({ version: z.literal(1), files: z.record(z.string(), RecordSchema) });

/**
 * Every file's record, keyed by checksum, in one JSON file. Each change is written to a temporary file,
 * synced, then renamed over the old one, so a crash leaves either the old state or the new, never half.
 */
export class StateStore {
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly file: string,
    private readonly records: Map<string, FileRecord>,
  ) {}

  /** A missing file is an empty state; an unreadable one stops the start rather than upload everything again. */
  static async open(file: string): Promise<StateStore> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new StateStore(file, new Map());
      throw err;
    }
    const parsed = StateSchema.safeParse(JSON.parse(text));
    if (!parsed.success) throw new Error(`state file ${file} is not valid: ${parsed.error.issues[0]?.message}`);
    return new StateStore(file, new Map(Object.entries(parsed.data.files)));
  }

  get(sha256: string): FileRecord | undefined {
    return this.records.get(sha256);
  }

  all(): FileRecord[] {
    return [...this.records.values()];
  }

  put(rec: FileRecord): Promise<void> {
    this.records.set(rec.sha256, rec);
    return this.save();
  }

  delete(sha256: string): Promise<void> {
    this.records.delete(sha256);
    return this.save();
  }

  /** Resolves once everything changed so far is on disk. */
  flush(): Promise<void> {
    return this.writing;
  }

  private save(): Promise<void> {
    // Writes run one after the other; each writes the whole current state.
    this.writing = this.writing.catch(() => {}).then(() => this.write());
    return this.writing;
  }

  private async write(): Promise<void> {
    const body = JSON.stringify({ version: 1, files: Object.fromEntries(this.records) }, null, 1);
    const tmp = `${this.file}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(body);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.file);
  }
}

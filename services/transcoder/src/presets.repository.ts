import { eq, sql } from 'drizzle-orm';
import type { TranscoderDb } from './db/client';
import { presets } from './db/schema';
import { isSystemPresetId, systemPreset } from './engine/system-presets';
import type { EtPreset } from './engine/types';
import type { ArnScope } from './et/ids';
import { customPresetToWire, type PresetRow } from './et/wire';

export class PresetsRepository {
  constructor(private readonly db: TranscoderDb) {}

  async create(row: typeof presets.$inferInsert): Promise<PresetRow> {
    const [created] = await this.db.insert(presets).values(row).returning();
    return created!;
  }

  get(id: string): Promise<PresetRow | undefined> {
    return this.db.query.presets.findFirst({ where: eq(presets.id, id) });
  }

  /** A preset by id as the API shows it: system presets from the engine's table, custom ones from Postgres. */
  async find(id: string, scope: ArnScope): Promise<EtPreset | undefined> {
    if (isSystemPresetId(id)) return systemPreset(id, scope.region, scope.accountId);
    const row = await this.get(id);
    return row ? customPresetToWire(row, scope) : undefined;
  }

  all(): Promise<PresetRow[]> {
    return this.db.select().from(presets);
  }

  async count(): Promise<number> {
    const [row] = await this.db.select({ n: sql<number>`count(*)::int` }).from(presets);
    return row!.n;
  }

  async delete(id: string): Promise<boolean> {
    const rows = await this.db.delete(presets).where(eq(presets.id, id)).returning({ id: presets.id });
    return rows.length > 0;
  }
}

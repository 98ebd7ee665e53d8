import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { architectureDocPath, withChainSection } from './architecture-doc';
import { chain, queueLinks } from './chain';
import { JobName } from './jobs';
import { QueueJobs, QueueName, queuePolicies } from './queues';

describe('the chain table', () => {
  it('lists every queue once, with the job its queue carries and a policy', () => {
    const links = queueLinks();
    expect(links.map((l) => l.queue).sort()).toEqual(Object.values(QueueName).sort());
    for (const l of links) {
      expect(QueueJobs[l.queue]).toEqual([l.job]);
      expect(queuePolicies[l.queue]).toBeDefined();
    }
    expect(links.map((l) => l.job).sort()).toEqual(Object.values(JobName).sort());
  });

  it('names a payload schema that accepts an ids-only payload of its job', () => {
    const samples: Record<string, unknown> = {
      [JobName.transcode]: { mediaId: '00000000-0000-4000-8000-000000000001' },
      [JobName.notify]: { mediaId: '00000000-0000-4000-8000-000000000001', kind: 'media.complete' },
      [JobName.etTranscode]: { jobId: '1700000000000-abc123' },
      [JobName.etDeliver]: { deliveryId: '42' },
    };
    for (const l of queueLinks()) expect(l.payload.safeParse(samples[l.job]).success).toBe(true);
  });

  it('has a producer and a consumer for every hop', () => {
    for (const l of chain) {
      expect(l.producers.length).toBeGreaterThan(0);
      expect(l.consumer).toBeTruthy();
    }
  });

  it('points at code that exists', () => {
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const paths = chain.flatMap((l) => [...l.code.produce, l.code.consume]).map((p) => p.replace(/ \(.*\)$/, ''));
    expect(paths.filter((p) => !existsSync(root + p))).toEqual([]);
  });

  it('is what docs/architecture.md shows (npx tsx libs/contracts/src/architecture-doc.ts rewrites it)', () => {
    const doc = readFileSync(architectureDocPath, 'utf8');
    expect(withChainSection(doc)).toBe(doc);
  });
});

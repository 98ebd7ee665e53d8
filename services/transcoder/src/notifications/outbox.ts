import { randomUUID } from 'node:crypto';
import type { EtState } from '@mp/contracts';
import { deliveries, messages } from '../db/schema';
import type { JobRecord, PipelineRow } from '../et/wire';
import type { Tx } from '../jobs.repository';
import { jacksonPretty, jobNotification, subjectFor } from './message';

/** Where a topic's messages go: 'sns' (Publish) and/or subscriber URLs (direct delivery). */
export type TargetsOf = (topicArn: string) => string[];

const TOPIC_OF: Record<EtState, keyof PipelineRow['notifications']> = {
  PROGRESSING: 'Progressing',
  COMPLETED: 'Completed',
  WARNING: 'Warning',
  ERROR: 'Error',
};

/**
 * Writes a job notification and its deliveries inside the transaction that changed the job, so a state
 * change and its message are recorded together or not at all. Returns the delivery ids to queue after commit.
 */
export async function recordNotification(
  tx: Tx,
  args: { state: EtState; job: JobRecord; pipeline: PipelineRow; targetsOf: TargetsOf; progress?: number },
): Promise<string[]> {
  const topicArn = args.pipeline.notifications[TOPIC_OF[args.state]];
  if (!topicArn) return [];
  const targets = args.targetsOf(topicArn);
  if (targets.length === 0) return [];
  const id = randomUUID();
  const body = jacksonPretty(
    jobNotification(args.state, args.job, args.progress === undefined ? {} : { progress: args.progress }),
  );
  await tx.insert(messages).values({
    id,
    jobId: args.job.id,
    state: args.state,
    topicArn,
    subject: subjectFor(args.state, args.job.id),
    body,
  });
  const rows = await tx
    .insert(deliveries)
    .values(targets.map((target) => ({ messageId: id, target })))
    .returning({ id: deliveries.id });
  return rows.map((r) => r.id);
}

/** Targets from configuration: SNS when an SNS endpoint is set, plus the subscriber URLs of the topic. */
export function targetsFromConfig(opts: { snsEnabled: boolean; subscriptions: Record<string, string[]> }): TargetsOf {
  return (topicArn) => [...(opts.snsEnabled ? ['sns'] : []), ...(opts.subscriptions[topicArn] ?? [])];
}

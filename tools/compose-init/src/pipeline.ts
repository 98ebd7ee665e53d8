import {
  CreatePipelineCommand,
  ElasticTranscoderClient,
  UpdatePipelineNotificationsCommand,
  paginateListPipelines,
  type Notifications,
  type Pipeline,
} from '@aws-sdk/client-elastic-transcoder';
import type { ComposeInitConfig } from './config';

export type PipelineOutcome = 'created' | 'notifications-updated' | 'unchanged';

type PipelineSettings = Pick<
  ComposeInitConfig,
  | 'ET_ENDPOINT'
  | 'ET_REGION'
  | 'ET_ACCOUNT_ID'
  | 'ET_ACCESS_KEY_ID'
  | 'ET_SECRET_ACCESS_KEY'
  | 'ET_PIPELINE_NAME'
  | 'ET_TOPIC_ARN'
  | 'S3_BUCKET'
>;

/** Every job state is announced on the one topic sns-ingest subscribes to. */
export function wantedNotifications(
  topicArn: string,
): Required<Pick<Notifications, 'Progressing' | 'Completed' | 'Warning' | 'Error'>> {
  return { Progressing: topicArn, Completed: topicArn, Warning: topicArn, Error: topicArn };
}

export function notificationsMatch(actual: Notifications | undefined, topicArn: string): boolean {
  const wanted = wantedNotifications(topicArn);
  return (Object.keys(wanted) as Array<keyof typeof wanted>).every((k) => actual?.[k] === wanted[k]);
}

/**
 * The pipeline transcode-dispatch looks up by name: created once, through the same Elastic Transcoder
 * API and SDK the services use; on later runs only its notifications are put back if they drifted.
 */
export async function ensurePipeline(c: PipelineSettings): Promise<{ id: string; outcome: PipelineOutcome }> {
  const client = new ElasticTranscoderClient({
    endpoint: c.ET_ENDPOINT,
    region: c.ET_REGION,
    credentials: { accessKeyId: c.ET_ACCESS_KEY_ID, secretAccessKey: c.ET_SECRET_ACCESS_KEY },
  });
  try {
    const existing = await findPipeline(client, c.ET_PIPELINE_NAME);
    const notifications = wantedNotifications(c.ET_TOPIC_ARN);
    if (existing?.Id) {
      if (notificationsMatch(existing.Notifications, c.ET_TOPIC_ARN)) return { id: existing.Id, outcome: 'unchanged' };
      await client.send(new UpdatePipelineNotificationsCommand({ Id: existing.Id, Notifications: notifications }));
      return { id: existing.Id, outcome: 'notifications-updated' };
    }
    const created = await client.send(
      new CreatePipelineCommand({
        Name: c.ET_PIPELINE_NAME,
        InputBucket: c.S3_BUCKET,
        OutputBucket: c.S3_BUCKET,
        Role: `arn:aws:iam::${c.ET_ACCOUNT_ID}:role/Elastic_Transcoder_Default_Role`,
        Notifications: notifications,
      }),
    );
    const id = created.Pipeline?.Id;
    if (!id) throw new Error('CreatePipeline answered without a pipeline id');
    return { id, outcome: 'created' };
  } finally {
    client.destroy();
  }
}

async function findPipeline(client: ElasticTranscoderClient, name: string): Promise<Pipeline | undefined> {
  for await (const page of paginateListPipelines({ client }, {})) {
    const found = page.Pipelines?.find((p) => p.Name === name);
    if (found) return found;
  }
  return undefined;
}

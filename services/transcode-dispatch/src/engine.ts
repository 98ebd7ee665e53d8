import {
  CancelJobCommand,
  CreateJobCommand,
  ElasticTranscoderClient,
  ListJobsByPipelineCommand,
  ValidationException,
  IncompatibleVersionException,
  AccessDeniedException,
  ResourceNotFoundException,
  ReadJobCommand,
  ResourceInUseException,
  paginateListPipelines,
  type Job,
} from '@aws-sdk/client-elastic-transcoder';
import { MetadataKey } from '@mp/contracts';
import type { DispatchConfig } from './config';
import type { PlannedOutput, PlannedPlaylist } from './profile';

export interface EngineJobRequest {
  pipelineId: string;
  inputKey: string;
  outputKeyPrefix: string;
  outputs: PlannedOutput[];
  playlists?: PlannedPlaylist[];
  mediaId: string;
  userId: string;
}

/** The Elastic Transcoder API as the dispatch worker uses it, through the AWS SDK client. */
export class Engine {
  private pipelineId: Promise<string> | null = null;

  constructor(
    private readonly client: ElasticTranscoderClient,
    private readonly pipelineName: string,
  ) {}

  static fromConfig(cfg: DispatchConfig): Engine {
    const client = new ElasticTranscoderClient({
      endpoint: cfg.ET_ENDPOINT,
      region: cfg.ET_REGION,
      credentials: { accessKeyId: cfg.ET_ACCESS_KEY_ID, secretAccessKey: cfg.ET_SECRET_ACCESS_KEY },
      maxAttempts: 3,
    });
    return new Engine(client, cfg.ET_PIPELINE_NAME);
  }

  /** Finds the pipeline by name with the ListPipelines paginator, once; a miss is not cached. */
  pipeline(): Promise<string> {
    this.pipelineId ??= this.findPipeline().catch((err: unknown) => {
      this.pipelineId = null;
      throw err;
    });
    return this.pipelineId;
  }

  private async findPipeline(): Promise<string> {
    for await (const page of paginateListPipelines({ client: this.client }, {})) {
      const found = page.Pipelines?.find((p) => p.Name === this.pipelineName);
      if (found?.Id) return found.Id;
    }
    throw new PipelineNotFound(this.pipelineName);
  }

  async createJob(req: EngineJobRequest): Promise<string> {
    const res = await this.client.send(
      new CreateJobCommand({
        PipelineId: req.pipelineId,
        Input: {
          Key: req.inputKey,
          FrameRate: 'auto',
          Resolution: 'auto',
          AspectRatio: 'auto',
          Interlaced: 'auto',
          Container: 'auto',
        },
        OutputKeyPrefix: req.outputKeyPrefix,
        Outputs: req.outputs.map((o) => ({
          Key: o.key,
          PresetId: o.presetId,
          ...(o.thumbnailPattern ? { ThumbnailPattern: o.thumbnailPattern } : {}),
          ...(o.segmentDuration ? { SegmentDuration: o.segmentDuration } : {}),
        })),
        ...(req.playlists?.length
          ? { Playlists: req.playlists.map((p) => ({ Name: p.name, Format: p.format, OutputKeys: p.outputKeys })) }
          : {}),
        UserMetadata: { [MetadataKey.mediaId]: req.mediaId, [MetadataKey.userId]: req.userId },
      }),
    );
    if (!res.Job?.Id) throw new Error('CreateJob answered without a job id');
    return res.Job.Id;
  }

  /** A job created earlier for this media (a call whose answer was lost), newest first, back to `since`. */
  async findJobForMedia(pipelineId: string, mediaId: string, since: Date): Promise<Job | null> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListJobsByPipelineCommand({ PipelineId: pipelineId, Ascending: 'false', PageToken: token }),
      );
      for (const job of page.Jobs ?? []) {
        if (job.UserMetadata?.[MetadataKey.mediaId] === mediaId) return job;
        const created = job.Timing?.SubmitTimeMillis;
        if (created !== undefined && created < since.getTime() - 60_000) return null;
      }
      token = page.NextPageToken;
    } while (token);
    return null;
  }

  /**
   * Cancels a job that has not started (CancelJob works only while it is Submitted) and answers its status
   * then: Canceled, Progressing, Complete, Error, or missing when the engine does not know it.
   */
  async cancelIfSubmitted(jobId: string): Promise<string> {
    const status = async () => (await this.client.send(new ReadJobCommand({ Id: jobId }))).Job?.Status ?? 'missing';
    try {
      const before = await status();
      if (before !== 'Submitted') return before;
      try {
        await this.client.send(new CancelJobCommand({ Id: jobId }));
        return 'Canceled';
      } catch (err) {
        // A worker took it between the two calls.
        if (err instanceof ResourceInUseException) return await status();
        throw err;
      }
    } catch (err) {
      if (err instanceof ResourceNotFoundException) return 'missing';
      throw err;
    }
  }

  close(): void {
    this.client.destroy();
  }
}

export class PipelineNotFound extends Error {
  constructor(name: string) {
    super(`No Elastic Transcoder pipeline is named "${name}".`);
    this.name = 'PipelineNotFound';
  }
}

/** Errors that no retry can fix: the request itself is wrong, or names a preset that does not exist. */
export function isPermanent(err: unknown): boolean {
  return (
    err instanceof ValidationException ||
    err instanceof IncompatibleVersionException ||
    err instanceof AccessDeniedException ||
    err instanceof ResourceNotFoundException
  );
}

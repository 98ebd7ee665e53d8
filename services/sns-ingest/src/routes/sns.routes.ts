import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError, type SnsEnvelope } from '@mp/contracts';
import { parseEnvelope, verifyEnvelope, type VerifyEnvelopeOptions, type VerifyErrorCode } from '@mp/sns';
import type { IngestService, Outcome } from '../ingest.service';

export interface SnsRouteOptions {
  ingest: IngestService;
  verify: VerifyEnvelopeOptions;
  allowedTopicArns: readonly string[];
  maxBodyBytes: number;
  onOutcome(type: string, outcome: Outcome | 'refused'): void;
}

const STATUS: Record<VerifyErrorCode, number> = {
  SNS_MALFORMED: 400,
  SNS_BAD_SIGNATURE_VERSION: 400,
  SNS_TOPIC: 403,
  SNS_CERT_HOST: 403,
  SNS_SUBSCRIBE_URL_HOST: 403,
  SNS_EXPIRED: 403,
  SNS_BAD_SIGNATURE: 403,
  // Our side or the network, not the sender: SNS should try again.
  SNS_CERT_FETCH: 502,
};

/**
 * POST /sns: SNS HTTP(S) deliveries, as SNS sends them (JSON in a text/plain body, x-amz-sns-* headers).
 * https://docs.aws.amazon.com/sns/latest/dg/sns-http-https-endpoint-as-subscriber.html
 */
export async function registerSnsRoutes(app: FastifyInstance, opts: SnsRouteOptions): Promise<void> {
  await app.register(async (scope) => {
    // The body stays a string whatever Content-Type SNS was configured to send (headerContentType).
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: opts.maxBodyBytes }, (_req, body, done) =>
      done(null, body),
    );
    scope.setErrorHandler((err: { code?: string }) => {
      if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
        throw new AppError(413, 'SNS_BODY_TOO_LARGE', `The body is larger than ${opts.maxBodyBytes} bytes.`);
      }
      throw err;
    });

    scope.post('/sns', async (req, reply) => {
      refuseForeignTopicHeader(req, opts.allowedTopicArns);
      const envelope = readEnvelope(req);
      const verified = await verifyEnvelope(envelope, opts.verify);
      if (!verified.ok) {
        opts.onOutcome(envelope.Type, 'refused');
        req.log.warn(
          { code: verified.code, messageId: envelope.MessageId, topicArn: envelope.TopicArn },
          'SNS message refused',
        );
        throw new AppError(STATUS[verified.code], verified.code, verified.message);
      }
      const log = req.log.child({ snsMessageId: envelope.MessageId, snsType: envelope.Type });
      const outcome = await opts.ingest.handle(envelope, log);
      opts.onOutcome(envelope.Type, outcome);
      return reply.status(200).send({ status: outcome });
    });
  });
}

/** The seed's check, kept: the topic header is read before anything else. */
function refuseForeignTopicHeader(req: FastifyRequest, allowed: readonly string[]): void {
  const topic = header(req, 'x-amz-sns-topic-arn');
  if (topic !== undefined && !allowed.includes(topic)) {
    throw new AppError(403, 'SNS_TOPIC', `TopicArn ${topic} is not accepted here.`);
  }
}

function readEnvelope(req: FastifyRequest): SnsEnvelope {
  if (typeof req.body !== 'string' || req.body.length === 0) {
    throw new AppError(400, 'SNS_MALFORMED', 'The body must be an SNS message in JSON.');
  }
  const parsed = parseEnvelope(req.body);
  if (!parsed.ok) throw new AppError(400, parsed.code, `${parsed.message}.`);
  const envelope = parsed.envelope;
  const mismatch = (
    [
      ['x-amz-sns-message-type', envelope.Type],
      ['x-amz-sns-message-id', envelope.MessageId],
      ['x-amz-sns-topic-arn', envelope.TopicArn],
    ] as const
  ).find(([name, value]) => header(req, name) !== undefined && header(req, name) !== value);
  if (mismatch) throw new AppError(400, 'SNS_HEADER_MISMATCH', `Header ${mismatch[0]} does not match the message.`);
  return envelope;
}

function header(req: FastifyRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

import type { FastifyInstance } from 'fastify';
import { AppError } from '@mp/contracts';
import type { SigningIdentity } from '@mp/sns';
import type { DeliveriesRepository } from '../deliveries.repository';
import { SIGNING_CERT_PATH } from '../notifications/signing';

const xml = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * What SNS itself serves to an HTTP subscriber, for direct delivery: the signing certificate, and the
 * SubscribeURL / UnsubscribeURL links (GET /sns?Action=ConfirmSubscription|Unsubscribe).
 */
export function snsRoutes(app: FastifyInstance, deps: { identity: SigningIdentity; deliveries: DeliveriesRepository }) {
  app.get(SIGNING_CERT_PATH, async (_req, reply) =>
    reply
      .header('content-type', 'application/x-pem-file')
      .header('cache-control', 'public, max-age=3600')
      .send(deps.identity.certificatePem),
  );

  app.get('/sns', async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    if (q.Action === 'ConfirmSubscription' && q.TopicArn && q.Token) {
      const sub = await deps.deliveries.confirm(q.TopicArn, q.Token);
      if (!sub) throw new AppError(404, 'NotFound', 'No subscription matches this TopicArn and Token.');
      return reply
        .type('text/xml')
        .send(
          `<ConfirmSubscriptionResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><ConfirmSubscriptionResult><SubscriptionArn>${xml(sub.arn)}</SubscriptionArn></ConfirmSubscriptionResult><ResponseMetadata><RequestId>${req.id}</RequestId></ResponseMetadata></ConfirmSubscriptionResponse>`,
        );
    }
    if (q.Action === 'Unsubscribe' && q.SubscriptionArn) {
      const sub = await deps.deliveries.unsubscribe(q.SubscriptionArn);
      if (!sub) throw new AppError(404, 'NotFound', 'No such subscription.');
      return reply
        .type('text/xml')
        .send(
          `<UnsubscribeResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><ResponseMetadata><RequestId>${req.id}</RequestId></ResponseMetadata></UnsubscribeResponse>`,
        );
    }
    throw new AppError(
      400,
      'InvalidParameter',
      'Expected Action=ConfirmSubscription with TopicArn and Token, or Action=Unsubscribe with SubscriptionArn.',
    );
  });
}

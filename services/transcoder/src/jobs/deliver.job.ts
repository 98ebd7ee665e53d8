import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Logger } from '@mp/logging';
import { signEnvelope, type SigningIdentity, type UnsignedEnvelope } from '@mp/sns';
import type { DeliveriesRepository, MessageRow, SubscriptionRow } from '../deliveries.repository';
import { confirmationEnvelope, deliveryHeaders, notificationEnvelope } from '../notifications/envelopes';
import { SIGNING_CERT_PATH } from '../notifications/signing';

export interface DeliverDeps {
  deliveries: DeliveriesRepository;
  sns?: SNSClient | undefined;
  identity: SigningIdentity;
  publicUrl: string;
  log: Logger;
  /** Resend an unanswered SubscriptionConfirmation after this long. */
  reconfirmAfterMs?: number;
}

/** A delivery that should be tried again later (BullMQ backoff). */
export class RetryLater extends Error {}

/**
 * Delivers one message to one target: SNS Publish, or an HTTP POST of a signed SNS envelope to a
 * subscriber URL, after that URL confirmed its subscription. Throws to be retried with backoff.
 */
export async function deliverNotification(deliveryId: string, deps: DeliverDeps): Promise<'delivered' | 'skipped'> {
  const found = await deps.deliveries.get(deliveryId);
  if (!found || found.delivery.status !== 'pending') return 'skipped';
  const { delivery, message } = found;
  try {
    if (delivery.target === 'sns') {
      const id = await publishToSns(message, deps);
      await deps.deliveries.delivered(delivery.id, id);
    } else {
      const sent = await postToSubscriber(message, delivery.target, deps);
      if (!sent) {
        await deps.deliveries.failed(delivery.id, 'subscription was deleted (Unsubscribe)');
        return 'skipped';
      }
      await deps.deliveries.delivered(delivery.id);
    }
    return 'delivered';
  } catch (err) {
    await deps.deliveries.attempted(delivery.id, (err as Error).message);
    throw err;
  }
}

async function publishToSns(m: MessageRow, deps: DeliverDeps): Promise<string | undefined> {
  if (!deps.sns) throw new Error('SNS delivery requested but SNS_ENDPOINT is not configured');
  const out = await deps.sns.send(new PublishCommand({ TopicArn: m.topicArn, Subject: m.subject, Message: m.body }));
  return out.MessageId;
}

async function postToSubscriber(m: MessageRow, url: string, deps: DeliverDeps): Promise<boolean> {
  let subscription = await deps.deliveries.subscription(m.topicArn, url);
  if (subscription.status === 'unsubscribed') return false;
  if (subscription.status === 'pending') {
    if (await deps.deliveries.takeConfirmationTurn(subscription.arn, deps.reconfirmAfterMs ?? 60_000)) {
      await post(url, confirmationEnvelope(subscription, deps.publicUrl, new Date()), deps);
      deps.log.info({ topicArn: m.topicArn, endpoint: url }, 'subscription confirmation sent');
    }
    subscription = (await deps.deliveries.subscriptionByArn(subscription.arn))!;
    if (subscription.status !== 'confirmed')
      throw new RetryLater(`subscription of ${url} to ${m.topicArn} is not confirmed yet`);
  }
  await post(url, notificationEnvelope(m, subscription, deps.publicUrl), deps, subscription);
  return true;
}

async function post(
  url: string,
  unsigned: UnsignedEnvelope,
  deps: DeliverDeps,
  subscription?: SubscriptionRow,
): Promise<void> {
  const envelope = signEnvelope(unsigned, {
    privateKeyPem: deps.identity.privateKeyPem,
    signingCertUrl: `${deps.publicUrl}${SIGNING_CERT_PATH}`,
    signatureVersion: '2',
  });
  const res = await fetch(url, {
    method: 'POST',
    headers: deliveryHeaders(envelope.Type, envelope.MessageId, envelope.TopicArn, subscription?.arn),
    body: JSON.stringify(envelope),
    signal: AbortSignal.timeout(15_000),
    redirect: 'manual',
  });
  await res.arrayBuffer().catch(() => undefined);
  if (res.status < 200 || res.status > 299)
    throw new Error(`${url} answered ${res.status} to ${envelope.Type} ${envelope.MessageId}`);
}

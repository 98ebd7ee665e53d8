import type { UnsignedEnvelope } from '@mp/sns';
import type { MessageRow, SubscriptionRow } from '../deliveries.repository';

// SNS HTTP/S delivery bodies (docs: http-subscription-confirmation-json, http-notification-json). The
// confirm and unsubscribe links point at this server, which answers them as SNS does.

export function subscribeUrl(publicUrl: string, s: Pick<SubscriptionRow, 'topicArn' | 'token'>): string {
  const q = new URLSearchParams({ Action: 'ConfirmSubscription', TopicArn: s.topicArn, Token: s.token });
  return `${publicUrl}/sns?${q}`;
}

export function unsubscribeUrl(publicUrl: string, subscriptionArn: string): string {
  const q = new URLSearchParams({ Action: 'Unsubscribe', SubscriptionArn: subscriptionArn });
  return `${publicUrl}/sns?${q}`;
}

export function confirmationEnvelope(s: SubscriptionRow, publicUrl: string, now: Date): UnsignedEnvelope {
  return {
    Type: 'SubscriptionConfirmation',
    MessageId: s.confirmationMessageId,
    Token: s.token,
    TopicArn: s.topicArn,
    Message: `You have chosen to subscribe to the topic ${s.topicArn}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
    SubscribeURL: subscribeUrl(publicUrl, s),
    Timestamp: now.toISOString(),
  };
}

/** The same MessageId and Timestamp on every retry, so a retried delivery is byte-for-byte the same message. */
export function notificationEnvelope(m: MessageRow, s: SubscriptionRow, publicUrl: string): UnsignedEnvelope {
  return {
    Type: 'Notification',
    MessageId: m.id,
    TopicArn: m.topicArn,
    Subject: m.subject,
    Message: m.body,
    Timestamp: m.createdAt.toISOString(),
    UnsubscribeURL: unsubscribeUrl(publicUrl, s.arn),
  };
}

export function deliveryHeaders(
  type: UnsignedEnvelope['Type'],
  messageId: string,
  topicArn: string,
  subscriptionArn?: string,
) {
  return {
    'content-type': 'text/plain; charset=UTF-8',
    'user-agent': 'Amazon Simple Notification Service Agent',
    'x-amz-sns-message-type': type,
    'x-amz-sns-message-id': messageId,
    'x-amz-sns-topic-arn': topicArn,
    ...(subscriptionArn ? { 'x-amz-sns-subscription-arn': subscriptionArn } : {}),
  };
}

import type { SnsEnvelope } from '@mp/contracts';

/** The envelope fields that can take part in a signature. */
export type SignedFields = Pick<SnsEnvelope, 'Type' | 'MessageId' | 'TopicArn' | 'Message' | 'Timestamp'> &
  Partial<Pick<SnsEnvelope, 'Subject' | 'SubscribeURL' | 'Token'>>;

type SignedKey = keyof SignedFields;

// https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html
const NOTIFICATION_KEYS: readonly SignedKey[] = ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'];
const CONFIRMATION_KEYS: readonly SignedKey[] = [
  'Message',
  'MessageId',
  'SubscribeURL',
  'Timestamp',
  'Token',
  'TopicArn',
  'Type',
];

/**
 * The canonical string SNS signs: `Key\nValue\n` for each key of the message type, in that order,
 * skipping keys the envelope does not carry (in practice only Subject).
 */
export function stringToSign(envelope: SignedFields): string {
  const keys = envelope.Type === 'Notification' ? NOTIFICATION_KEYS : CONFIRMATION_KEYS;
  let out = '';
  for (const key of keys) {
    const value = envelope[key];
    if (value !== undefined) out += `${key}\n${value}\n`;
  }
  return out;
}

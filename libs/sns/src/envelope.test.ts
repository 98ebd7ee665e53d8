import { describe, expect, it } from 'vitest';
import { parseEnvelope } from './envelope';

// The 2016 ETS notification from the research notes (Message shortened).
const notification = {
  Type: 'Notification',
  MessageId: 'e8b8c107-a693-5ef4-a815-8ec2056b573f',
  TopicArn: 'arn:aws:sns:us-west-2:784245509715:video_uploads_elastictranscoder',
  Subject: 'Amazon Elastic Transcoder has scheduled job 1464574390308-dd3t38 for transcoding.',
  Message: '{\n  "state" : "PROGRESSING",\n  "version" : "2012-09-25"\n}',
  Timestamp: '2016-05-30T02:13:12.258Z',
  SignatureVersion: '1',
  Signature: 'dC12vOPx==',
  SigningCertURL: 'https://sns.us-west-2.amazonaws.com/SimpleNotificationService-bb750dd426d95ee9390147a5624348ee.pem',
  UnsubscribeURL: 'https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=x',
};

const confirmation = {
  Type: 'SubscriptionConfirmation',
  MessageId: '165545c9-2a5c-472c-8df2-7ff2be2b3b1b',
  Token: '2336412f37',
  TopicArn: 'arn:aws:sns:us-west-2:123456789012:MyTopic',
  Message: 'You have chosen to subscribe to the topic arn:aws:sns:us-west-2:123456789012:MyTopic.',
  SubscribeURL: 'https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&Token=2336412f37',
  Timestamp: '2012-04-26T20:45:04.751Z',
  SignatureVersion: '1',
  Signature: 'EXAMPLE==',
  SigningCertURL: 'https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem',
};

describe('parseEnvelope', () => {
  it('accepts a Notification as an object or as the JSON text SNS posts', () => {
    expect(parseEnvelope(notification)).toEqual({ ok: true, envelope: notification });
    expect(parseEnvelope(JSON.stringify(notification))).toEqual({ ok: true, envelope: notification });
  });

  it.each(['SubscriptionConfirmation', 'UnsubscribeConfirmation'])('accepts a %s', (Type) => {
    expect(parseEnvelope({ ...confirmation, Type })).toEqual({ ok: true, envelope: { ...confirmation, Type } });
  });

  it('keeps only known fields, drops null optionals, keeps MessageAttributes', () => {
    const attributes = { SDLCEnv: { Type: 'String', Value: 'PROD' } };
    const result = parseEnvelope({ ...notification, Subject: null, Extra: 'x', MessageAttributes: attributes });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.envelope).not.toHaveProperty('Subject');
    expect(result.envelope).not.toHaveProperty('Extra');
    expect(result.envelope.MessageAttributes).toEqual(attributes);
  });

  it('keeps an attribute named __proto__ as plain data', () => {
    const result = parseEnvelope(`{"Type":"Notification","MessageId":"m","TopicArn":"t","Message":"x",
      "Timestamp":"2016-05-30T02:13:12.258Z","SignatureVersion":"2","Signature":"s","SigningCertURL":"u",
      "MessageAttributes":{"__proto__":{"Type":"String","Value":"v"}}}`);
    expect(result.ok && Object.getPrototypeOf(result.envelope.MessageAttributes)).toBe(Object.prototype);
    expect(result.ok && Object.keys(result.envelope.MessageAttributes ?? {})).toEqual(['__proto__']);
  });

  it.each<[string, unknown, string]>([
    ['not JSON', '{"Type":', 'body is not valid JSON'],
    ['null', null, 'body must be a JSON object'],
    ['an array', [notification], 'body must be a JSON object'],
    ['a number', 42, 'body must be a JSON object'],
    ['no Type', { ...notification, Type: undefined }, 'Type is required'],
    [
      'an unknown Type',
      { ...notification, Type: 'Alert' },
      'Type must be one of Notification, SubscriptionConfirmation, UnsubscribeConfirmation',
    ],
    ['no MessageId', { ...notification, MessageId: undefined }, 'MessageId is required for Notification'],
    ['no TopicArn', { ...notification, TopicArn: null }, 'TopicArn is required for Notification'],
    ['no Message', { ...notification, Message: undefined }, 'Message is required for Notification'],
    ['no Timestamp', { ...notification, Timestamp: undefined }, 'Timestamp is required for Notification'],
    [
      'no SignatureVersion',
      { ...notification, SignatureVersion: undefined },
      'SignatureVersion is required for Notification',
    ],
    ['no Signature', { ...notification, Signature: undefined }, 'Signature is required for Notification'],
    [
      'no SigningCertURL',
      { ...notification, SigningCertURL: undefined },
      'SigningCertURL is required for Notification',
    ],
    [
      'no SubscribeURL on a confirmation',
      { ...confirmation, SubscribeURL: undefined },
      'SubscribeURL is required for SubscriptionConfirmation',
    ],
    [
      'no Token on an unsubscribe',
      { ...confirmation, Type: 'UnsubscribeConfirmation', Token: undefined },
      'Token is required for UnsubscribeConfirmation',
    ],
    ['a numeric Message', { ...notification, Message: 1 }, 'Message must be a string'],
    ['a numeric SignatureVersion', { ...notification, SignatureVersion: 2 }, 'SignatureVersion must be a string'],
    ['an object Subject', { ...notification, Subject: {} }, 'Subject must be a string'],
    ['a non-ISO Timestamp', { ...notification, Timestamp: 'May 30 2016' }, 'Timestamp must be an ISO-8601 UTC date'],
    [
      'an impossible Timestamp',
      { ...notification, Timestamp: '2016-13-45T02:13:12.258Z' },
      'Timestamp must be an ISO-8601 UTC date',
    ],
    [
      'MessageAttributes not an object',
      { ...notification, MessageAttributes: 'x' },
      'MessageAttributes must be an object',
    ],
    [
      'a bad attribute',
      { ...notification, MessageAttributes: { a: { Type: 'String' } } },
      'MessageAttributes.a must have string Type and Value',
    ],
  ])('refuses %s as SNS_MALFORMED', (_name, body, message) => {
    expect(parseEnvelope(body)).toEqual({ ok: false, code: 'SNS_MALFORMED', message });
  });

  it('refuses an unknown SignatureVersion as SNS_BAD_SIGNATURE_VERSION', () => {
    expect(parseEnvelope({ ...notification, SignatureVersion: '3' })).toEqual({
      ok: false,
      code: 'SNS_BAD_SIGNATURE_VERSION',
      message: 'SignatureVersion "3" is not supported (1 or 2)',
    });
  });
});

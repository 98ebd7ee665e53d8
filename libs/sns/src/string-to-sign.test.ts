import { describe, expect, it } from 'vitest';
import { stringToSign } from './string-to-sign';
import type { SignedFields } from './string-to-sign';

const notification = {
  Type: 'Notification',
  MessageId: '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324',
  TopicArn: 'arn:aws:sns:us-west-2:123456789012:MyTopic',
  Subject: 'My First Message',
  Message: 'Hello world!',
  Timestamp: '2012-05-02T00:54:06.655Z',
} satisfies SignedFields;

const confirmation = {
  Type: 'SubscriptionConfirmation',
  MessageId: '165545c9-2a5c-472c-8df2-7ff2be2b3b1b',
  Token:
    '2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad02428b09ceece29417f1f02d609c582afbacc99c583a916b9981dd2728f4ae6fdb82efd087cc3b7849e05798d2d2785c03b0879594eeac82c01f235d0e717736',
  TopicArn: 'arn:aws:sns:us-west-2:123456789012:MyTopic',
  Message:
    'You have chosen to subscribe to the topic arn:aws:sns:us-west-2:123456789012:MyTopic.\nTo confirm the subscription, visit the SubscribeURL included in this message.',
  SubscribeURL:
    'https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-west-2:123456789012:MyTopic&Token=2336412f37',
  Timestamp: '2012-04-26T20:45:04.751Z',
} satisfies SignedFields;

describe('stringToSign', () => {
  it.each<[string, SignedFields, string[]]>([
    [
      'Notification with Subject: Message, MessageId, Subject, Timestamp, TopicArn, Type',
      notification,
      [
        'Message',
        'Hello world!',
        'MessageId',
        '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324',
        'Subject',
        'My First Message',
        'Timestamp',
        '2012-05-02T00:54:06.655Z',
        'TopicArn',
        'arn:aws:sns:us-west-2:123456789012:MyTopic',
        'Type',
        'Notification',
      ],
    ],
    [
      'Notification without Subject leaves the key out',
      { ...notification, Subject: undefined },
      [
        'Message',
        'Hello world!',
        'MessageId',
        '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324',
        'Timestamp',
        '2012-05-02T00:54:06.655Z',
        'TopicArn',
        'arn:aws:sns:us-west-2:123456789012:MyTopic',
        'Type',
        'Notification',
      ],
    ],
    [
      'Notification with an empty Subject still signs the key',
      { ...notification, Subject: '' },
      [
        'Message',
        'Hello world!',
        'MessageId',
        '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324',
        'Subject',
        '',
        'Timestamp',
        '2012-05-02T00:54:06.655Z',
        'TopicArn',
        'arn:aws:sns:us-west-2:123456789012:MyTopic',
        'Type',
        'Notification',
      ],
    ],
    [
      'Notification ignores SubscribeURL and Token',
      { ...notification, Subject: undefined, SubscribeURL: 'https://x', Token: 't' },
      [
        'Message',
        'Hello world!',
        'MessageId',
        '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324',
        'Timestamp',
        '2012-05-02T00:54:06.655Z',
        'TopicArn',
        'arn:aws:sns:us-west-2:123456789012:MyTopic',
        'Type',
        'Notification',
      ],
    ],
    [
      'SubscriptionConfirmation: Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type',
      confirmation,
      [
        'Message',
        confirmation.Message,
        'MessageId',
        confirmation.MessageId,
        'SubscribeURL',
        confirmation.SubscribeURL,
        'Timestamp',
        confirmation.Timestamp,
        'Token',
        confirmation.Token,
        'TopicArn',
        confirmation.TopicArn,
        'Type',
        'SubscriptionConfirmation',
      ],
    ],
    [
      'UnsubscribeConfirmation signs Token too, and never Subject',
      { ...confirmation, Type: 'UnsubscribeConfirmation', Subject: 'ignored' },
      [
        'Message',
        confirmation.Message,
        'MessageId',
        confirmation.MessageId,
        'SubscribeURL',
        confirmation.SubscribeURL,
        'Timestamp',
        confirmation.Timestamp,
        'Token',
        confirmation.Token,
        'TopicArn',
        confirmation.TopicArn,
        'Type',
        'UnsubscribeConfirmation',
      ],
    ],
  ])('%s', (_name, envelope, lines) => {
    expect(stringToSign(envelope)).toBe(lines.map((line) => `${line}\n`).join(''));
  });

  it('keeps the Message verbatim: real newlines, JSON, non-ASCII', () => {
    const message = '{\n  "state" : "COMPLETED",\n  "title" : "été 🎬"\n}';
    const text = stringToSign({ ...notification, Subject: undefined, Message: message });
    expect(text.startsWith(`Message\n${message}\nMessageId\n`)).toBe(true);
  });
});

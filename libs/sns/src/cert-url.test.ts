import { describe, expect, it } from 'vitest';
import { certUrlAllowed, urlHostAllowed } from './cert-url';
import type { UrlPolicy } from './cert-url';

const PEM = '/SimpleNotificationService-bb750dd426d95ee9390147a5624348ee.pem';
const AWS_ONLY: UrlPolicy = {};
const LOCALSTACK: UrlPolicy = {
  allowedHosts: ['localhost.localstack.cloud:4566', 'Transcoder.Internal'],
  requireHttps: false,
};
const LOCAL_HTTPS: UrlPolicy = { allowedHosts: ['localhost.localstack.cloud:4566', 'transcoder.internal:443'] };

describe('certUrlAllowed', () => {
  it.each<[string, UrlPolicy, boolean]>([
    // AWS hosts
    [`https://sns.us-west-2.amazonaws.com${PEM}`, AWS_ONLY, true],
    [`https://sns.cn-north-1.amazonaws.com.cn${PEM}`, AWS_ONLY, true],
    [`https://SNS.US-EAST-1.AMAZONAWS.COM${PEM}`, AWS_ONLY, true],
    [`https://sns.us-west-2.amazonaws.com:443${PEM}`, AWS_ONLY, true],
    [`https://sns.us-west-2.amazonaws.com${PEM}`, LOCALSTACK, true],
    [`http://sns.us-west-2.amazonaws.com${PEM}`, AWS_ONLY, false],
    [`http://sns.us-west-2.amazonaws.com${PEM}`, LOCALSTACK, false],
    [`https://sns.us-west-2.amazonaws.com:8443${PEM}`, AWS_ONLY, false],
    [`https://sns.us-west-2.amazonaws.com.${PEM}`, AWS_ONLY, false],
    [`https://sns.us-west-2.amazonaws.com.evil.example${PEM}`, AWS_ONLY, false],
    [`https://evil-sns.us-west-2.amazonaws.com${PEM}`, AWS_ONLY, false],
    [`https://s3.us-west-2.amazonaws.com${PEM}`, AWS_ONLY, false],
    [`https://sns.us_west.amazonaws.com${PEM}`, AWS_ONLY, false],
    [`https://sns..amazonaws.com${PEM}`, AWS_ONLY, false],
    [`https://sns.us-west-2.amazonaws.co${PEM}`, AWS_ONLY, false],
    [`https://sns.us-west-2.amazonaws.com.cn.evil${PEM}`, AWS_ONLY, false],
    // userinfo and other tricks
    [`https://sns.us-west-2.amazonaws.com@evil.example${PEM}`, AWS_ONLY, false],
    [`https://user:pass@sns.us-west-2.amazonaws.com${PEM}`, AWS_ONLY, false],
    [`https://evil.example\\@sns.us-west-2.amazonaws.com${PEM}`, AWS_ONLY, false],
    [`https://evil.example#@sns.us-west-2.amazonaws.com${PEM}`, AWS_ONLY, false],
    // other protocols and non-URLs
    [`ftp://sns.us-west-2.amazonaws.com${PEM}`, AWS_ONLY, false],
    [`file:///etc${PEM}`, AWS_ONLY, false],
    ['data:text/plain,x.pem', AWS_ONLY, false],
    [`//sns.us-west-2.amazonaws.com${PEM}`, AWS_ONLY, false],
    ['not a url', AWS_ONLY, false],
    ['', AWS_ONLY, false],
    // path must name a .pem
    ['https://sns.us-west-2.amazonaws.com/', AWS_ONLY, false],
    ['https://sns.us-west-2.amazonaws.com/cert.pem.txt', AWS_ONLY, false],
    ['https://sns.us-west-2.amazonaws.com/?x=a.pem', AWS_ONLY, false],
    ['https://sns.us-west-2.amazonaws.com/cert.pem?x=1', AWS_ONLY, true],
    // configured hosts, exact host[:port]
    [`http://localhost.localstack.cloud:4566/_aws/sns${PEM}`, LOCALSTACK, true],
    [`http://localhost.localstack.cloud:4566/_aws/sns${PEM}`, AWS_ONLY, false],
    [`http://localhost.localstack.cloud:4566/_aws/sns${PEM}`, LOCAL_HTTPS, false],
    [`https://localhost.localstack.cloud:4566/_aws/sns${PEM}`, LOCAL_HTTPS, true],
    [`http://localhost.localstack.cloud:4567/_aws/sns${PEM}`, LOCALSTACK, false],
    [`http://localhost.localstack.cloud/_aws/sns${PEM}`, LOCALSTACK, false],
    [`http://evil.localhost.localstack.cloud:4566/_aws/sns${PEM}`, LOCALSTACK, false],
    ['http://transcoder.internal/sns.pem', LOCALSTACK, true],
    ['http://TRANSCODER.internal:80/sns.pem', LOCALSTACK, true],
    ['http://transcoder.internal:8080/sns.pem', LOCALSTACK, false],
    ['https://transcoder.internal/sns.pem', LOCAL_HTTPS, true],
    ['http://transcoder.internal/sns.pem', LOCAL_HTTPS, false],
    ['http://localhost.localstack.cloud:4566@evil.example/x.pem', LOCALSTACK, false],
  ])('%s with %j → %s', (url, policy, expected) => {
    expect(certUrlAllowed(url, policy)).toBe(expected);
  });

  it('ignores list entries that are not plain host[:port]', () => {
    const policy: UrlPolicy = { allowedHosts: ['evil@good.example', 'good.example/path', ''], requireHttps: false };
    expect(certUrlAllowed('http://good.example/x.pem', policy)).toBe(false);
  });
});

describe('urlHostAllowed (SubscribeURL)', () => {
  it.each<[string, UrlPolicy, boolean]>([
    ['https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=a&Token=b', AWS_ONLY, true],
    ['http://localhost.localstack.cloud:4566/?Action=ConfirmSubscription&Token=b', LOCALSTACK, true],
    ['http://localhost.localstack.cloud:4566/?Action=ConfirmSubscription&Token=b', AWS_ONLY, false],
    ['https://sns.us-west-2.amazonaws.com@evil.example/?Action=ConfirmSubscription', AWS_ONLY, false],
    ['http://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription', AWS_ONLY, false],
  ])('%s with %j → %s', (url, policy, expected) => {
    expect(urlHostAllowed(url, policy)).toBe(expected);
  });
});

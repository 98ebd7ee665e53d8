import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { createTestEnv, type TestEnv } from '@mp/testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemPresets } from '../src/engine/system-presets';
import { KEY_ID, ROLE, SECRET, startApi, type RunningApi } from './support';

// Old boto3 code talks to the engine through botocore with the 2012-09-25 model, which Debian's
// python3-botocore still ships (upstream removed it in 1.42.18).
const DIST = '/usr/lib/python3/dist-packages';
const hasModel = existsSync(`${DIST}/botocore/data/elastictranscoder/2012-09-25/service-2.json`);
const run = promisify(execFile);

const SCRIPT = `
import json, sys, botocore.session
url, key, secret, bucket, role = sys.argv[1:6]
s = botocore.session.get_session()
c = s.create_client('elastictranscoder', region_name='us-east-1', endpoint_url=url, aws_access_key_id=key, aws_secret_access_key=secret)
out = {}
p = c.create_pipeline(Name='boto', InputBucket=bucket, OutputBucket=bucket, Role=role)['Pipeline']
out['found'] = [x['Id'] for page in c.get_paginator('list_pipelines').paginate() for x in page['Pipelines'] if x['Name'] == 'boto'] == [p['Id']]
out['presets'] = sum(len(page['Presets']) for page in c.get_paginator('list_presets').paginate())
c.update_pipeline_status(Id=p['Id'], Status='Paused')
j = c.create_job(PipelineId=p['Id'], Input={'Key': 'a.mp3', 'FrameRate': 'auto', 'Container': 'auto'}, Outputs=[{'Key': 'a.wav', 'PresetId': '1351620000001-300300'}])['Job']
out['submitted'] = j['Status']
out['cancel'] = c.cancel_job(Id=j['Id'])['ResponseMetadata']['HTTPStatusCode']
out['read'] = c.read_job(Id=j['Id'])['Job']['Status']
try:
    c.read_pipeline(Id='1111111111111-aaaaaa')
except c.exceptions.ResourceNotFoundException as e:
    out['notFound'] = e.response['Error']['Code']
bad = s.create_client('elastictranscoder', region_name='us-east-1', endpoint_url=url, aws_access_key_id=key, aws_secret_access_key='wrong')
try:
    bad.list_presets()
except Exception as e:
    out['badSecret'] = e.response['Error']['Code']
print(json.dumps(out))
`;

describe.skipIf(!hasModel)('botocore (old boto3 code)', () => {
  let t: TestEnv;
  let svc: RunningApi;
  beforeAll(async () => {
    t = await createTestEnv();
    svc = await startApi(t);
  });
  afterAll(async () => {
    await svc?.close();
    await t?.cleanup();
  });

  it('works end to end through the 2012-09-25 model: paginators, jobs, typed errors, signatures', async () => {
    const { stdout } = await run('/usr/bin/python3', ['-c', SCRIPT, svc.url, KEY_ID, SECRET, t.bucket, ROLE], {
      env: { ...process.env, PYTHONPATH: DIST },
    });
    expect(JSON.parse(stdout)).toEqual({
      found: true,
      presets: systemPresets('us-east-1', '123456789012').length,
      submitted: 'Submitted',
      cancel: 202,
      read: 'Canceled',
      notFound: 'ResourceNotFoundException',
      badSecret: 'AccessDeniedException',
    });
  });
});

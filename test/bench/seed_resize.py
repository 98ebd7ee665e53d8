# The original system's image-resize Lambda (Python, Pillow, boto3), as a long-lived process for
# bench:image: one S3 event per line on stdin ({"bucket": ..., "key": ...}); one line on stdout per image,
# "ok <seconds>" (the handler's wall time) or "error <message>". "ready" is printed once imports are done.
#
# resize_image and handler are the seed's, line for line, with two changes needed to run it outside Lambda:
# the client takes the S3 endpoint, region and path-style addressing from the environment (S3_ENDPOINT,
# AWS_DEFAULT_REGION; credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY; SigV4, boto3's default), and
# the directories of the two temporary paths are created (the seed's keys carry slashes, upload/original/...,
# and its paths put them under /tmp as they are), under a directory of this process's own, removed at the
# end. The two temporary files are removed after each image, inside the timed handler, so that N images do
# not fill the disk (a Lambda's /tmp goes with its container); that costs well under a millisecond.
#
# Needs Debian's python3-pil and python3-boto3 (apt-get install -y python3-pil python3-boto3).
from __future__ import print_function

import json
import shutil
import os
import sys
import tempfile
import time
import uuid

import boto3
from botocore.config import Config
from PIL import Image

s3_client = boto3.client(
    's3',
    endpoint_url=os.environ.get('S3_ENDPOINT') or None,
    config=Config(s3={'addressing_style': 'path'}, signature_version='s3v4'),
)
TMP = tempfile.mkdtemp(prefix='seed-resize-')


def resize_image(image_path, resized_path):
    with Image.open(image_path) as image:
        image.thumbnail(tuple(x / 2 for x in image.size))
        image.save(resized_path)


def handler(event, context):
    for record in event['Records']:
        bucket = record['s3']['bucket']['name']
        key = record['s3']['object']['key']
        download_path = os.path.join(TMP, '{}{}'.format(uuid.uuid4(), key))
        upload_path = os.path.join(TMP, 'resized-{}'.format(key))
        os.makedirs(os.path.dirname(download_path), exist_ok=True)
        os.makedirs(os.path.dirname(upload_path), exist_ok=True)

        s3_client.download_file(bucket, key, download_path)
        resize_image(download_path, upload_path)
        s3_client.upload_file(upload_path, '{}-resized'.format(bucket), key)
        os.remove(download_path)
        os.remove(upload_path)


def main():
    print('ready', flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        event = {'Records': [{'s3': {'bucket': {'name': req['bucket']}, 'object': {'key': req['key']}}}]}
        t0 = time.perf_counter()
        try:
            handler(event, None)
        except Exception as err:  # reported to the bench, which stops
            print('error {}'.format(str(err).replace('\n', ' ')), flush=True)
            continue
        print('ok {:.6f}'.format(time.perf_counter() - t0), flush=True)
    shutil.rmtree(TMP, ignore_errors=True)


if __name__ == '__main__':
    main()

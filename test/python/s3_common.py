"""Shared helpers of the boto3 scenario scripts in test/python/ (imported from the script's folder)."""

import os
import urllib.error
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

MiB = 1024 * 1024


def client(endpoint=None, **config):
    """An S3 client for the server under test (AWS_ENDPOINT_URL unless `endpoint`), without retries."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint or os.environ["AWS_ENDPOINT_URL"],
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, **config),
    )


def error_of(fn, *args, **kwargs):
    """Calls fn and returns (error code, HTTP status) of the ClientError it must raise."""
    try:
        fn(*args, **kwargs)
    except ClientError as err:
        return err.response["Error"]["Code"], err.response["ResponseMetadata"]["HTTPStatusCode"]
    raise AssertionError(f"{getattr(fn, '__name__', fn)} did not fail")


def fetch(url, method="GET", data=None, headers=None):
    """A plain urllib request: (status, body text), HTTP errors included."""
    req = urllib.request.Request(url, method=method, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req) as res:
            return res.status, res.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()

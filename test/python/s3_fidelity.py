"""boto3 scenarios of S3 fidelity against an inferq server, driven by test/e2e/s3-fidelity-boto3.test.ts.

Usage: python3 s3_fidelity.py SCENARIO BUCKET. The endpoint and credentials come from the
environment (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ...). Each scenario checks what it can with
`assert` and prints one JSON object on stdout for the node test to check as well.
"""
import json
import os
import sys
from datetime import timedelta

from botocore.exceptions import ClientError

from s3_common import MiB, client, error_of


def status_of(fn, *args, **kwargs):
    """The HTTP status of a call, failed or not."""
    try:
        return fn(*args, **kwargs)["ResponseMetadata"]["HTTPStatusCode"]
    except ClientError as err:
        return err.response["ResponseMetadata"]["HTTPStatusCode"]


def upload_parts(s3, bucket, key, parts):
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    listed = []
    for number, body in enumerate(parts, start=1):
        etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body)["ETag"]
        listed.append({"PartNumber": number, "ETag": etag})
    return upload_id, {"Parts": listed}


def delete_odd_keys(bucket):
    s3 = client()
    s3.create_bucket(Bucket=bucket)
    keys = ["it's", 'say "hi"', "a&b", "<tag>", "semi;colon", "ü/日本"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    out = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys]})
    left = s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0)
    return {"deleted": sorted(d["Key"] for d in out.get("Deleted", [])), "errors": out.get("Errors", []), "left": left}


def conditional_writes(bucket):
    s3 = client()
    s3.create_bucket(Bucket=bucket)
    first = s3.put_object(Bucket=bucket, Key="k", Body=b"first", IfNoneMatch="*")["ETag"]
    again = error_of(s3.put_object, Bucket=bucket, Key="k", Body=b"second", IfNoneMatch="*")
    wrong = error_of(s3.put_object, Bucket=bucket, Key="k", Body=b"second", IfMatch='"ffffffffffffffffffffffffffffffff"')
    missing = error_of(s3.put_object, Bucket=bucket, Key="absent", Body=b"x", IfMatch=first)
    kept = s3.get_object(Bucket=bucket, Key="k")["Body"].read().decode()
    s3.put_object(Bucket=bucket, Key="k", Body=b"second", IfMatch=first)
    replaced = s3.get_object(Bucket=bucket, Key="k")["Body"].read().decode()

    upload_id, listed = upload_parts(s3, bucket, "k", [b"p" * (5 * MiB), b"tail"])
    blocked = error_of(s3.complete_multipart_upload, Bucket=bucket, Key="k", UploadId=upload_id, MultipartUpload=listed, IfNoneMatch="*")
    still_open = [p["PartNumber"] for p in s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id)["Parts"]]
    done = s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id, MultipartUpload=listed)["ETag"]
    repeated = s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id, MultipartUpload=listed)["ETag"]
    return {
        "again": again, "wrong": wrong, "missing": missing, "kept": kept, "replaced": replaced,
        "blocked": blocked, "stillOpen": still_open, "done": done, "repeated": repeated,
    }


def parts(bucket):
    s3 = client()
    s3.create_bucket(Bucket=bucket)
    bodies = [os.urandom(5 * MiB), os.urandom(5 * MiB + 7), os.urandom(100)]
    upload_id, listed = upload_parts(s3, bucket, "mp", bodies)
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id, MultipartUpload=listed)
    total = sum(len(b) for b in bodies)
    got, start = [], 0
    for number, body in enumerate(bodies, start=1):
        part = s3.get_object(Bucket=bucket, Key="mp", PartNumber=number)
        data = part["Body"].read()
        assert data == body, f"part {number}"
        assert part["ContentRange"] == f"bytes {start}-{start + len(body) - 1}/{total}", part["ContentRange"]
        got.append([part["ResponseMetadata"]["HTTPStatusCode"], part["PartsCount"], part["ContentLength"]])
        start += len(body)
    head = s3.head_object(Bucket=bucket, Key="mp", PartNumber=2)
    s3.put_object(Bucket=bucket, Key="plain", Body=b"0123456789")
    plain = s3.get_object(Bucket=bucket, Key="plain", PartNumber=1)
    return {
        "parts": got,
        "head": [head["ResponseMetadata"]["HTTPStatusCode"], head["ContentLength"], head["PartsCount"]],
        "beyond": error_of(s3.get_object, Bucket=bucket, Key="mp", PartNumber=4),
        "withRange": error_of(s3.get_object, Bucket=bucket, Key="mp", PartNumber=1, Range="bytes=0-1"),
        "plain": [plain["ResponseMetadata"]["HTTPStatusCode"], plain["ContentRange"], "PartsCount" in plain, plain["Body"].read().decode()],
        "plainBeyond": error_of(s3.get_object, Bucket=bucket, Key="plain", PartNumber=2),
    }


def lost_upload(bucket):
    s3 = client()
    s3.create_bucket(Bucket=bucket)
    for i in range(5):
        s3.create_multipart_upload(Bucket=bucket, Key=f"lost/{i % 2}/file")  # the ids are "lost"
    s3.put_object(Bucket=bucket, Key="obj", Body=b"x")
    s3.delete_object(Bucket=bucket, Key="obj")
    not_empty = error_of(s3.delete_bucket, Bucket=bucket)
    found = []
    for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, PaginationConfig={"PageSize": 2}):
        found.extend((u["Key"], u["UploadId"]) for u in page.get("Uploads", []))
    rolled = s3.list_multipart_uploads(Bucket=bucket, Prefix="lost/", Delimiter="/")
    for key, upload_id in found:
        s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
    s3.delete_bucket(Bucket=bucket)
    return {
        "notEmpty": not_empty,
        "found": [k for k, _ in found],
        "distinct": len({u for _, u in found}),
        "prefixes": [p["Prefix"] for p in rolled.get("CommonPrefixes", [])],
        "gone": error_of(s3.head_bucket, Bucket=bucket)[1],
    }


def conditional_reads(bucket):
    s3 = client()
    s3.create_bucket(Bucket=bucket)
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"body")["ETag"]
    modified = s3.head_object(Bucket=bucket, Key="k")["LastModified"]
    earlier = modified - timedelta(hours=1)
    other = '"0123456789abcdef0123456789abcdef"'
    cases = {
        "ifMatch": {"IfMatch": etag},
        "ifMatchOther": {"IfMatch": other},
        "ifNoneMatch": {"IfNoneMatch": etag},
        "ifNoneMatchOther": {"IfNoneMatch": other},
        "ifModifiedSinceEarlier": {"IfModifiedSince": earlier},
        "ifModifiedSinceNow": {"IfModifiedSince": modified},
        "ifUnmodifiedSinceEarlier": {"IfUnmodifiedSince": earlier},
        "ifUnmodifiedSinceNow": {"IfUnmodifiedSince": modified},
        "matchWinsOverUnmodified": {"IfMatch": etag, "IfUnmodifiedSince": earlier},
        "noneMatchFalseModifiedTrue": {"IfNoneMatch": etag, "IfModifiedSince": earlier},
    }
    out = {}
    for name, condition in cases.items():
        out[name] = [status_of(s3.get_object, Bucket=bucket, Key="k", **condition), status_of(s3.head_object, Bucket=bucket, Key="k", **condition)]
    return out


SCENARIOS = {f.__name__: f for f in [delete_odd_keys, conditional_writes, parts, lost_upload, conditional_reads]}

if __name__ == "__main__":
    name, bucket = sys.argv[1], sys.argv[2]
    print(json.dumps(SCENARIOS[name](bucket)))

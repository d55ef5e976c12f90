"""boto3 scenarios against an inferq server, driven by test/e2e/s3-boto3.test.ts.

Usage: python3 s3_boto3.py SCENARIO BUCKET [ARG]. The endpoint and credentials come from the
environment (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ...). Each scenario checks what it can with
`assert` and prints one JSON object on stdout for the node test to check as well.
"""
import hashlib
import io
import json
import os
import sys

from boto3.s3.transfer import TransferConfig

from s3_common import MiB, client, error_of, fetch


def objects(s3, bucket, bodies):
    """Names and bodies of a bucket's objects, read back through get_object."""
    return {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode() for key in bodies}


def basics(bucket):
    s3 = client()
    s3.create_bucket(Bucket=bucket)
    put = s3.put_object(
        Bucket=bucket, Key="docs/readme.txt", Body=b"0123456789abcdef",
        ContentType="text/x-custom; charset=utf-8", Metadata={"owner": "bob", "Mixed-Case": "Value 1"},
    )
    assert put["ETag"] == '"%s"' % hashlib.md5(b"0123456789abcdef").hexdigest(), put["ETag"]
    head = s3.head_object(Bucket=bucket, Key="docs/readme.txt")
    assert head["ContentLength"] == 16
    assert head["ContentType"] == "text/x-custom; charset=utf-8", head["ContentType"]
    assert head["ETag"] == put["ETag"]
    ranged = s3.get_object(Bucket=bucket, Key="docs/readme.txt", Range="bytes=4-9")
    assert ranged["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert ranged["ContentRange"] == "bytes 4-9/16", ranged["ContentRange"]
    suffix = s3.get_object(Bucket=bucket, Key="docs/readme.txt", Range="bytes=-3")["Body"].read()
    return {
        "metadata": head["Metadata"],
        "contentType": head["ContentType"],
        "range": ranged["Body"].read().decode(),
        "rangeLength": ranged["ContentLength"],
        "suffix": suffix.decode(),
    }


def listing(bucket):
    s3 = client()
    s3.create_bucket(Bucket=bucket)
    keys = ["a.txt", "b/1", "b/2", "c/x/1", "c/y", "d.txt", "e/f/g/h"] + [f"many/{i:02d}" for i in range(12)]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Delimiter="/", PaginationConfig={"PageSize": 2}
    )
    contents, prefixes, page_count = [], [], 0
    for page in pages:
        page_count += 1
        assert page["KeyCount"] <= 2, page["KeyCount"]
        contents += [c["Key"] for c in page.get("Contents", [])]
        prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    nested = [
        c["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="many/", PaginationConfig={"PageSize": 5})
        for c in page.get("Contents", [])
    ]
    return {"contents": contents, "prefixes": prefixes, "pages": page_count, "nested": nested}


def copy_delete(bucket):
    s3 = client()
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="src", Body=b"copy source", ContentType="text/plain", Metadata={"k": "v"})
    s3.copy_object(Bucket=bucket, Key="dst/copied", CopySource={"Bucket": bucket, "Key": "src"})
    copied = s3.get_object(Bucket=bucket, Key="dst/copied")
    replaced = s3.copy_object(
        Bucket=bucket, Key="dst/replaced", CopySource={"Bucket": bucket, "Key": "src"},
        MetadataDirective="REPLACE", Metadata={"new": "meta"}, ContentType="application/octet-stream",
    )
    assert replaced["CopyObjectResult"]["ETag"] == '"%s"' % hashlib.md5(b"copy source").hexdigest()
    replaced_head = s3.head_object(Bucket=bucket, Key="dst/replaced")
    deleted = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "src"}, {"Key": "dst/copied"}, {"Key": "dst/replaced"}, {"Key": "missing"}]}
    )
    left = s3.list_objects_v2(Bucket=bucket).get("KeyCount")
    return {
        "copiedBody": copied["Body"].read().decode(),
        "copiedMeta": copied["Metadata"],
        "copiedType": copied["ContentType"],
        "replacedMeta": replaced_head["Metadata"],
        "replacedType": replaced_head["ContentType"],
        "deleted": sorted(d["Key"] for d in deleted.get("Deleted", [])),
        "errors": deleted.get("Errors", []),
        "left": left,
    }


def transfer(bucket):
    s3 = client()
    s3.create_bucket(Bucket=bucket)
    data = os.urandom(20 * MiB + 12345)
    config = TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=8 * MiB, max_concurrency=2)
    s3.upload_fileobj(io.BytesIO(data), bucket, "big/twenty.bin", Config=config)
    head = s3.head_object(Bucket=bucket, Key="big/twenty.bin")
    out = io.BytesIO()
    s3.download_fileobj(bucket, "big/twenty.bin", out, Config=config)
    got = out.getvalue()
    return {
        "size": head["ContentLength"],
        "etag": head["ETag"],
        "sent": hashlib.sha256(data).hexdigest(),
        "received": hashlib.sha256(got).hexdigest(),
        "receivedSize": len(got),
    }


def presign(bucket, signature):
    s3 = client() if signature == "default" else client(signature_version=signature)
    s3.create_bucket(Bucket=bucket)
    key = f"presigned/{signature} file.txt"
    # The Content-Type is signed by SigV2 (urllib would otherwise send application/x-www-form-urlencoded).
    put_url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": key, "ContentType": "text/plain"}, ExpiresIn=300
    )
    put_status, put_body = fetch(put_url, "PUT", b"sent through a presigned PUT", {"Content-Type": "text/plain"})
    wrong_type_status, _ = fetch(put_url, "PUT", b"other type", {"Content-Type": "application/json"})
    content_type = s3.head_object(Bucket=bucket, Key=key)["ContentType"] if put_status == 200 else None
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300)
    get_status, get_body = fetch(get_url)
    other_status, other_body = fetch(get_url.replace("file.txt", "other.txt", 1))
    return {
        "putUrl": put_url, "putStatus": put_status, "putBody": put_body, "contentType": content_type, "wrongTypeStatus": wrong_type_status,
        "getStatus": get_status, "getBody": get_body,
        "tamperedStatus": other_status, "tamperedBody": other_body,
    }


def errors(bucket):
    s3 = client()
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="small", Body=b"tiny")
    result = {
        "noSuchKey": error_of(s3.get_object, Bucket=bucket, Key="absent"),
        "noSuchKeyHead": error_of(s3.head_object, Bucket=bucket, Key="absent"),
        "noSuchBucket": error_of(s3.list_objects_v2, Bucket=bucket + "-absent"),
        "noSuchBucketPut": error_of(s3.put_object, Bucket=bucket + "-absent", Key="k", Body=b"x"),
        "bucketNotEmpty": error_of(s3.delete_bucket, Bucket=bucket),
        "invalidRange": error_of(s3.get_object, Bucket=bucket, Key="small", Range="bytes=100-200"),
        "alreadyOwned": error_of(s3.create_bucket, Bucket=bucket),
    }

    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp/wrong-etag")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="mp/wrong-etag", UploadId=upload, PartNumber=1, Body=b"only part")
    result["invalidPart"] = error_of(
        s3.complete_multipart_upload, Bucket=bucket, Key="mp/wrong-etag", UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"' + "0" * 32 + '"'}]},
    )
    result["invalidPartNumber"] = error_of(
        s3.complete_multipart_upload, Bucket=bucket, Key="mp/wrong-etag", UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 2, "ETag": part["ETag"]}]},
    )
    result["wrongEtagVisible"] = error_of(s3.head_object, Bucket=bucket, Key="mp/wrong-etag")
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="mp/wrong-etag", UploadId=upload, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    result["completedEtag"] = done["ETag"]
    result["completedBody"] = s3.get_object(Bucket=bucket, Key="mp/wrong-etag")["Body"].read().decode()

    aborted = s3.create_multipart_upload(Bucket=bucket, Key="mp/aborted")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="mp/aborted", UploadId=aborted, PartNumber=1, Body=b"soon gone")
    s3.abort_multipart_upload(Bucket=bucket, Key="mp/aborted", UploadId=aborted)
    result["noSuchUploadPart"] = error_of(
        s3.upload_part, Bucket=bucket, Key="mp/aborted", UploadId=aborted, PartNumber=2, Body=b"late"
    )
    result["noSuchUploadComplete"] = error_of(
        s3.complete_multipart_upload, Bucket=bucket, Key="mp/aborted", UploadId=aborted,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"' + "0" * 32 + '"'}]},
    )
    result["abortedVisible"] = error_of(s3.head_object, Bucket=bucket, Key="mp/aborted")
    return result


def keys(bucket):
    s3 = client()
    s3.create_bucket(Bucket=bucket)
    names = ["../../etc/passwd", "a/../b", "//lead", "sp ace", "ü/日本", "k" * 1024]
    for name in names:
        s3.put_object(Bucket=bucket, Key=name, Body=name.encode())
    listed = [c["Key"] for c in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    bodies = objects(s3, bucket, names)
    assert all(bodies[name] == name for name in names), bodies
    too_long = error_of(s3.put_object, Bucket=bucket, Key="k" * 1025, Body=b"x")
    # 1024 bytes of UTF-8 is the limit, not 1024 characters.
    too_long_utf8 = error_of(s3.put_object, Bucket=bucket, Key="ü" * 513, Body=b"x")
    b_only = error_of(s3.head_object, Bucket=bucket, Key="b")
    return {"listed": listed, "tooLong": too_long, "tooLongUtf8": too_long_utf8, "bMissing": b_only}


SCENARIOS = {
    "basics": basics, "listing": listing, "copy_delete": copy_delete, "transfer": transfer,
    "presign": presign, "errors": errors, "keys": keys,
}

if __name__ == "__main__":
    scenario, bucket, *rest = sys.argv[1:]
    print(json.dumps(SCENARIOS[scenario](bucket, *rest), ensure_ascii=False))

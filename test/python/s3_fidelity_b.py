"""boto3 scenarios for S3 fidelity (UploadPartCopy, multipart checksums, ListBuckets paging,
fetch-owner, GetBucketLocation, encoding-type=url, virtual-hosted addressing), driven by
test/e2e/s3-fidelity-b-boto3.test.ts.

Usage: python3 s3_fidelity_b.py SCENARIO BUCKET. The endpoint and credentials come from the
environment (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ...). Each scenario checks what it can with
`assert` and prints one JSON object on stdout for the node test to check as well.
"""
import base64
import datetime
import hashlib
import io
import json
import os
import socket
import sys
import zlib

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from s3_common import MiB, client, fetch


SMALL_PARTS = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=2)


def error_of(fn, *args, **kwargs):
    """Calls fn and returns [code, HTTP status, message] of the ClientError it must raise."""
    try:
        fn(*args, **kwargs)
    except ClientError as err:
        e = err.response["Error"]
        return [e.get("Code"), err.response["ResponseMetadata"]["HTTPStatusCode"], e.get("Message")]
    raise AssertionError(f"{getattr(fn, '__name__', fn)} did not fail")


def b64(digest):
    return base64.b64encode(digest).decode()


def sha256_b64(data):
    return b64(hashlib.sha256(data).digest())


def crc32_b64(data):
    return b64(zlib.crc32(data).to_bytes(4, "big"))


def missing(s3, bucket, key):
    return error_of(s3.head_object, Bucket=bucket, Key=key)[:2] == ["404", 404]


def part_copy(bucket):
    s3 = client()
    s3.create_bucket(Bucket=bucket)
    data = os.urandom(12 * MiB + 321)
    src = s3.put_object(Bucket=bucket, Key="src/object", Body=data)
    source = {"Bucket": bucket, "Key": "src/object"}
    upload = s3.create_multipart_upload(Bucket=bucket, Key="assembled")["UploadId"]
    copy = lambda n, **kw: s3.upload_part_copy(Bucket=bucket, Key="assembled", UploadId=upload, PartNumber=n, CopySource=source, **kw)
    past = datetime.datetime(2001, 1, 1, tzinfo=datetime.timezone.utc)
    future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    result = {
        "outside": error_of(copy, 1, CopySourceRange="bytes=0-%d" % len(data)),
        "startOutside": error_of(copy, 1, CopySourceRange="bytes=%d-%d" % (len(data), len(data) + 5)),
        "improper": [error_of(copy, 1, CopySourceRange=r)[:2] for r in ["0-2", "bytes=0", "bytes=hello-world", "bytes=0-", "bytes=-5", "bytes=5-2", "bytes=0-2,3-5"]],
        "ifMatchWrong": error_of(copy, 1, CopySourceIfMatch='"' + "0" * 32 + '"')[:2],
        "ifNoneMatchSame": error_of(copy, 1, CopySourceIfNoneMatch=src["ETag"])[:2],
        "ifModifiedSinceFuture": error_of(copy, 1, CopySourceIfModifiedSince=future)[:2],
        "ifUnmodifiedSincePast": error_of(copy, 1, CopySourceIfUnmodifiedSince=past)[:2],
        "noSuchSource": error_of(s3.upload_part_copy, Bucket=bucket, Key="assembled", UploadId=upload, PartNumber=1, CopySource={"Bucket": bucket, "Key": "absent"})[:2],
        "noSuchUpload": error_of(s3.upload_part_copy, Bucket=bucket, Key="assembled", UploadId="nope", PartNumber=1, CopySource=source)[:2],
    }
    first = copy(1, CopySourceRange="bytes=0-%d" % (5 * MiB - 1), CopySourceIfMatch=src["ETag"], CopySourceIfUnmodifiedSince=future)
    second = copy(2, CopySourceRange="bytes=%d-%d" % (5 * MiB, 10 * MiB - 1), CopySourceIfNoneMatch='"other"', CopySourceIfModifiedSince=past)
    third = copy(3, CopySourceRange="bytes=%d-%d" % (10 * MiB, len(data) - 1))
    etags = [p["CopyPartResult"]["ETag"] for p in (first, second, third)]
    assert etags[0] == '"%s"' % hashlib.md5(data[: 5 * MiB]).hexdigest(), etags
    assert isinstance(first["CopyPartResult"]["LastModified"], datetime.datetime)
    listed = s3.list_parts(Bucket=bucket, Key="assembled", UploadId=upload)["Parts"]
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="assembled", UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]},
    )
    assembled = s3.get_object(Bucket=bucket, Key="assembled")["Body"].read()
    # A whole-object copy part (no range), and boto3's managed copy, which uses UploadPartCopy with ranges.
    whole = s3.create_multipart_upload(Bucket=bucket, Key="whole")["UploadId"]
    whole_part = s3.upload_part_copy(Bucket=bucket, Key="whole", UploadId=whole, PartNumber=1, CopySource=source)
    s3.complete_multipart_upload(Bucket=bucket, Key="whole", UploadId=whole, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": whole_part["CopyPartResult"]["ETag"]}]})
    calls = []
    s3.meta.events.register("before-call.s3.UploadPartCopy", lambda params, **kw: calls.append(params["headers"].get("x-amz-copy-source-range")))
    s3.copy(source, bucket, "managed", Config=SMALL_PARTS)
    managed = s3.get_object(Bucket=bucket, Key="managed")
    result.update({
        "sizes": [p["Size"] for p in listed],
        "completedEtag": done["ETag"],
        "assembledMatches": assembled == data,
        "wholeMatches": s3.get_object(Bucket=bucket, Key="whole")["Body"].read() == data,
        "managedRanges": calls,
        "managedEtag": managed["ETag"],
        "managedMatches": managed["Body"].read() == data,
    })
    return result


def drop_checksum_headers(request, **_kwargs):
    """Removes what botocore adds for a request checksum (header or trailer)."""
    for name in [h for h in request.headers.keys() if h.lower().startswith("x-amz-checksum-") or h.lower() == "x-amz-sdk-checksum-algorithm"]:
        del request.headers[name]
    if "x-amz-trailer" in request.headers:
        del request.headers["x-amz-trailer"]


def checksum_composite(bucket):
    s3 = client()
    s3.create_bucket(Bucket=bucket)
    key = "sha/object"
    bodies = [os.urandom(5 * MiB), os.urandom(5 * MiB + 17), os.urandom(999)]
    created = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm="SHA256")
    upload = created["UploadId"]
    up = lambda n, body, **kw: s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=n, Body=body, **kw)
    result = {
        "created": [created.get("ChecksumAlgorithm"), created.get("ChecksumType")],
        "badDigest": error_of(up, 1, bodies[0], ChecksumSHA256=sha256_b64(b"other bytes")),
        "otherAlgorithm": error_of(up, 1, bodies[0], ChecksumAlgorithm="CRC32"),
    }
    s3.meta.events.register("before-sign.s3.UploadPart", drop_checksum_headers)
    result["noChecksum"] = error_of(up, 1, bodies[0])
    s3.meta.events.unregister("before-sign.s3.UploadPart", drop_checksum_headers)
    parts = [up(i + 1, b, ChecksumAlgorithm="SHA256") for i, b in enumerate(bodies)]
    result["partChecksums"] = [p.get("ChecksumSHA256") for p in parts]
    result["expectedPartChecksums"] = [sha256_b64(b) for b in bodies]
    listed = s3.list_parts(Bucket=bucket, Key=key, UploadId=upload)
    result["listed"] = [listed.get("ChecksumAlgorithm"), listed.get("ChecksumType"), [p.get("ChecksumSHA256") for p in listed["Parts"]]]
    with_sums = [{"PartNumber": i + 1, "ETag": p["ETag"], "ChecksumSHA256": p["ChecksumSHA256"]} for i, p in enumerate(parts)]
    complete = lambda listed_parts, **kw: s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": listed_parts}, **kw)
    result["missingPartChecksum"] = error_of(complete, [{k: v for k, v in p.items() if k != "ChecksumSHA256"} for p in with_sums])
    result["wrongPartChecksum"] = error_of(complete, with_sums[:2] + [dict(with_sums[2], ChecksumSHA256=sha256_b64(b"x"))])[:2]
    result["invalidPartChecksum"] = error_of(complete, with_sums[:2] + [dict(with_sums[2], ChecksumSHA256="not base64!")])[:2]
    result["gap"] = error_of(complete, [with_sums[0], with_sums[2]])[:2]
    composite = b64(hashlib.sha256(b"".join(hashlib.sha256(b).digest() for b in bodies)).digest())
    result["wrongExpected"] = error_of(complete, with_sums, ChecksumSHA256=sha256_b64(b"whole"))
    result["wrongCount"] = error_of(complete, with_sums, ChecksumSHA256=composite + "-2")[:2]
    result["wrongType"] = error_of(complete, with_sums, ChecksumType="FULL_OBJECT")[:2]
    result["notVisible"] = missing(s3, bucket, key)
    done = complete(with_sums, ChecksumSHA256=composite + "-3")
    result["completed"] = [done.get("ChecksumSHA256"), done.get("ChecksumType")]
    result["expectedComposite"] = composite + "-3"
    head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    plain_head = s3.head_object(Bucket=bucket, Key=key)
    result["head"] = [head.get("ChecksumSHA256"), head.get("ChecksumType")]
    result["headWithoutMode"] = [plain_head.get("ChecksumSHA256"), plain_head.get("ChecksumType")]
    result["bodyMatches"] = s3.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")["Body"].read() == b"".join(bodies)
    result["invalidAlgorithm"] = error_of(s3.create_multipart_upload, Bucket=bucket, Key="x", ChecksumAlgorithm="SHA512")[:2]
    result["fullObjectSha"] = error_of(s3.create_multipart_upload, Bucket=bucket, Key="x", ChecksumAlgorithm="SHA1", ChecksumType="FULL_OBJECT")
    return result


def checksum_transfer(bucket):
    """boto3's managed transfers: CRC32 composite by default, FULL_OBJECT when the whole CRC32 is given."""
    s3 = client()
    s3.create_bucket(Bucket=bucket)
    data = os.urandom(11 * MiB + 5)
    s3.upload_fileobj(io.BytesIO(data), bucket, "default", Config=SMALL_PARTS)
    default = s3.head_object(Bucket=bucket, Key="default", ChecksumMode="ENABLED")
    full = crc32_b64(data)
    s3.upload_fileobj(io.BytesIO(data), bucket, "full", ExtraArgs={"ChecksumCRC32": full}, Config=SMALL_PARTS)
    head = s3.head_object(Bucket=bucket, Key="full", ChecksumMode="ENABLED")
    got = s3.get_object(Bucket=bucket, Key="full", ChecksumMode="ENABLED")
    validating = type(got["Body"]).__name__
    body = got["Body"].read()
    wrong = crc32_b64(data + b"!")
    try:
        s3.upload_fileobj(io.BytesIO(data), bucket, "wrong", ExtraArgs={"ChecksumCRC32": wrong}, Config=SMALL_PARTS)
        wrong_error = None
    except ClientError as err:
        wrong_error = [err.response["Error"]["Code"], err.response["ResponseMetadata"]["HTTPStatusCode"]]
    return {
        "default": [default.get("ChecksumCRC32"), default.get("ChecksumType")],
        "full": [head.get("ChecksumCRC32"), head.get("ChecksumType")],
        "expectedFull": full,
        "getValidates": validating,
        "bodyMatches": body == data,
        "wrongError": wrong_error,
        "wrongVisible": not missing(s3, bucket, "wrong"),
    }


def list_buckets(bucket):
    s3 = client()
    unchecked = client(parameter_validation=False)
    names = [f"{bucket}-{i}" for i in range(5)]
    for name in names:
        s3.create_bucket(Bucket=name)
    pages = list(s3.get_paginator("list_buckets").paginate(Prefix=bucket + "-", PaginationConfig={"PageSize": 2}))
    one = s3.list_buckets(MaxBuckets=1, Prefix=bucket)
    everything = s3.list_buckets()
    return {
        "pages": [[b["Name"] for b in p["Buckets"]] for p in pages],
        "tokens": [bool(p.get("ContinuationToken")) for p in pages],
        "prefixes": [p.get("Prefix") for p in pages],
        "regions": sorted({b.get("BucketRegion") for p in pages for b in p["Buckets"]}),
        "one": [[b["Name"] for b in one["Buckets"]], bool(one.get("ContinuationToken"))],
        "unpaged": [all(n in [b["Name"] for b in everything["Buckets"]] for n in names), "ContinuationToken" in everything, any("BucketRegion" in b for b in everything["Buckets"])],
        "otherRegion": [b["Name"] for b in s3.list_buckets(BucketRegion="eu-west-1")["Buckets"]],
        "zero": error_of(unchecked.list_buckets, MaxBuckets=0)[:2],
        "tooMany": error_of(unchecked.list_buckets, MaxBuckets=10001)[:2],
        "badToken": error_of(s3.list_buckets, ContinuationToken="garbage")[:2],
    }


def owner_location(bucket):
    s3 = client()
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    v2 = s3.list_objects_v2(Bucket=bucket)["Contents"][0]
    v2_owner = s3.list_objects_v2(Bucket=bucket, FetchOwner=True)["Contents"][0]
    v2_false = s3.list_objects_v2(Bucket=bucket, FetchOwner=False)["Contents"][0]
    v1 = s3.list_objects(Bucket=bucket)["Contents"][0]
    return {
        "v2": "Owner" in v2,
        "v2FetchOwner": v2_owner.get("Owner"),
        "v2FetchOwnerFalse": "Owner" in v2_false,
        "v1": v1.get("Owner"),
        "location": s3.get_bucket_location(Bucket=bucket).get("LocationConstraint"),
        "locationMissing": error_of(s3.get_bucket_location, Bucket=bucket + "-absent")[:2],
    }


KEYS = ["dir one/a b.txt", "dir one/plus+sign", "dir one/100%.csv", "dir one/ünï/日本", "dir one/ctl\x01\x02\ttab", "dir one/x<&>'\"", "dir one/~tilde*star"]


def encoding(bucket):
    s3 = client()
    s3.create_bucket(Bucket=bucket)
    for key in KEYS:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    # botocore decodes only when it set EncodingType itself: asking for it explicitly shows the wire form.
    v2 = s3.list_objects_v2(Bucket=bucket, EncodingType="url", Prefix="dir one/", Delimiter="/", StartAfter="dir one/100%.csv")
    v2_all = s3.list_objects_v2(Bucket=bucket, EncodingType="url", Delimiter=" ")
    v1 = s3.list_objects(Bucket=bucket, EncodingType="url", Prefix="dir one/", Marker="dir one/+", MaxKeys=2)
    # The default (EncodingType set and decoded by botocore) round-trips every key.
    listed = [c["Key"] for c in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    listed_v1 = [c["Key"] for c in s3.list_objects(Bucket=bucket)["Contents"]]
    return {
        "v2": {k: v2.get(k) for k in ("EncodingType", "Prefix", "Delimiter", "StartAfter")},
        "v2Keys": [c["Key"] for c in v2.get("Contents", [])],
        "v2PrefixCommonPrefixes": [p["Prefix"] for p in v2.get("CommonPrefixes", [])],
        "v2CommonPrefixes": [p["Prefix"] for p in v2_all.get("CommonPrefixes", [])],
        "v2AllDelimiter": v2_all.get("Delimiter"),
        "v1": {k: v1.get(k) for k in ("EncodingType", "Prefix", "Marker", "NextMarker", "IsTruncated")},
        "v1Keys": [c["Key"] for c in v1.get("Contents", [])],
        "roundTrip": listed,
        "roundTripV1": listed_v1,
        "badEncoding": error_of(s3.list_objects_v2, Bucket=bucket, EncodingType="base64")[:2],
    }


def resolve_localhost_subdomains():
    """*.localhost does not resolve here (glibc); resolve it to loopback as /etc/hosts would."""
    original = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if isinstance(host, str) and host.lower().endswith(".localhost"):
            host = "127.0.0.1"
        return original(host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo


def virtual_host(bucket):
    resolve_localhost_subdomains()
    port = os.environ["AWS_ENDPOINT_URL"].rsplit(":", 1)[1]
    endpoint = f"http://localhost:{port}"
    s3 = client(endpoint, s3={"addressing_style": "virtual"})
    hosts = {}
    s3.meta.events.register("before-send.s3.*", lambda request, event_name, **kw: hosts.setdefault(request.url.split("/")[2], set()).add(event_name.split(".")[-1]))
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="dir/a b+c.txt", Body=b"virtual", ContentType="text/plain", Metadata={"m": "1"})
    got = s3.get_object(Bucket=bucket, Key="dir/a b+c.txt")
    s3.copy_object(Bucket=bucket, Key="copied", CopySource={"Bucket": bucket, "Key": "dir/a b+c.txt"})
    data = os.urandom(6 * MiB + 3)
    s3.upload_fileobj(io.BytesIO(data), bucket, "big", Config=SMALL_PARTS)
    copy_upload = s3.create_multipart_upload(Bucket=bucket, Key="part-copied")["UploadId"]
    copied_part = s3.upload_part_copy(Bucket=bucket, Key="part-copied", UploadId=copy_upload, PartNumber=1, CopySource={"Bucket": bucket, "Key": "big"}, CopySourceRange="bytes=0-99")
    s3.complete_multipart_upload(Bucket=bucket, Key="part-copied", UploadId=copy_upload, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": copied_part["CopyPartResult"]["ETag"]}]})
    big_matches = s3.get_object(Bucket=bucket, Key="big")["Body"].read() == data
    part_copied = s3.get_object(Bucket=bucket, Key="part-copied")["Body"].read() == data[:100]
    listed = [c["Key"] for c in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    listed_v1 = [c["Key"] for c in s3.list_objects(Bucket=bucket)["Contents"]]
    location = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint")
    s3.head_bucket(Bucket=bucket)
    presigned = {}
    for signature in ("s3", "s3v4"):
        signer = client(endpoint, s3={"addressing_style": "virtual"}, signature_version=signature)
        url = signer.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "dir/a b+c.txt"}, ExpiresIn=300)
        put_url = signer.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": f"presigned-{signature}"}, ExpiresIn=300)
        put_status, _ = fetch(put_url, "PUT", b"via presigned put", {"Content-Type": ""})
        status, body = fetch(url)
        presigned[signature] = {"host": url.split("/")[2], "status": status, "body": body, "putStatus": put_status}
    deleted = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in listed] + [{"Key": "presigned-s3"}, {"Key": "presigned-s3v4"}]})
    s3.delete_bucket(Bucket=bucket)
    return {
        "hosts": {host: sorted(ops) for host, ops in hosts.items()},
        "body": got["Body"].read().decode(),
        "metadata": got["Metadata"],
        "bigMatches": big_matches,
        "partCopied": part_copied,
        "listed": listed,
        "listedV1": listed_v1,
        "location": location,
        "presigned": presigned,
        "deleted": len(deleted.get("Deleted", [])),
        "bucketGone": error_of(s3.head_bucket, Bucket=bucket)[:2],
    }


SCENARIOS = {
    "part_copy": part_copy,
    "checksum_composite": checksum_composite,
    "checksum_transfer": checksum_transfer,
    "list_buckets": list_buckets,
    "owner_location": owner_location,
    "encoding": encoding,
    "virtual_host": virtual_host,
}

if __name__ == "__main__":
    scenario, bucket = sys.argv[1:3]
    print(json.dumps(SCENARIOS[scenario](bucket), ensure_ascii=False))

"""Private S3 buckets with one set of defaults: no public access, SSE-S3, TLS only, access logs."""
from __future__ import annotations

from typing import Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.nag import suppress


def access_log_bucket(scope: Construct, id: str) -> s3.Bucket:
    bucket = s3.Bucket(
        scope, id,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        encryption=s3.BucketEncryption.S3_MANAGED,  # the S3 log delivery service supports SSE-S3 only
        enforce_ssl=True,
        minimum_tls_version=1.2,
        # CloudFront standard logs are written with ACLs, so the log bucket keeps object ACLs enabled.
        object_ownership=s3.ObjectOwnership.OBJECT_WRITER,
        lifecycle_rules=[s3.LifecycleRule(id="expire-logs", expiration=Duration.days(365),
                                          abort_incomplete_multipart_upload_after=Duration.days(1))],
        removal_policy=RemovalPolicy.RETAIN,
    )
    suppress(bucket, "AwsSolutions-S1", "This is the access-log target bucket itself; logging it into itself would loop.")
    return bucket


def private_bucket(scope: Construct, id: str, *, access_logs: s3.IBucket,
                   lifecycle_rules: Sequence[s3.LifecycleRule], versioned: bool = False) -> s3.Bucket:
    return s3.Bucket(
        scope, id,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        minimum_tls_version=1.2,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        versioned=versioned,
        server_access_logs_bucket=access_logs,
        server_access_logs_prefix=f"{id}/",
        lifecycle_rules=list(lifecycle_rules),
        # Ticket data outlives a stack: buckets are retained on delete in every stage.
        removal_policy=RemovalPolicy.RETAIN,
    )


"""List prices the cost model (bench/cost.py) multiplies counted work by, and the hosted help desks it is
compared with. Every figure is a public list price in USD for us-east-1, without free tiers, volume
discounts, Savings Plans or taxes, as published on the vendor's pricing page named beside it.

Recorded on PRICES_DATE from the pricing pages as we last read them; this machine has no internet, so
they were not re-read live that day: check the pages before quoting a figure to anyone.
"""
from __future__ import annotations

from dataclasses import dataclass

PRICES_DATE = "2026-12-04"
REGION = "us-east-1"


@dataclass(frozen=True)
class Price:
    usd: float
    per: str  # the unit the price is for
    source: str


# AWS Lambda, arm64 (https://aws.amazon.com/lambda/pricing/): first tier of duration.
LAMBDA_GB_SECOND = Price(0.0000133334, "GB-second (arm64)", "aws.amazon.com/lambda/pricing")
LAMBDA_REQUEST = Price(0.20 / 1e6, "request", "aws.amazon.com/lambda/pricing")
# SnapStart for Python: the snapshot's cache while the version is active, and each restore.
SNAPSTART_CACHE_GB_SECOND = Price(0.0000015046, "GB-second cached", "aws.amazon.com/lambda/pricing")
SNAPSTART_RESTORE_GB = Price(0.0001397998, "GB restored", "aws.amazon.com/lambda/pricing")
# API Gateway REST API (https://aws.amazon.com/api-gateway/pricing/): first 333 million a month.
API_GATEWAY_REST_REQUEST = Price(3.50 / 1e6, "REST API request", "aws.amazon.com/api-gateway/pricing")
# RDS Data API (https://aws.amazon.com/rds/aurora/pricing/): first billion a month; a call whose
# request plus response exceeds 32 KB counts once per 32 KB.
DATA_API_REQUEST = Price(0.35 / 1e6, "Data API request (32 KB)", "aws.amazon.com/rds/aurora/pricing")
# Aurora Serverless v2, Aurora Standard configuration (https://aws.amazon.com/rds/aurora/pricing/).
AURORA_ACU_HOUR = Price(0.12, "ACU-hour (Aurora Standard)", "aws.amazon.com/rds/aurora/pricing")
AURORA_STORAGE_GB_MONTH = Price(0.10, "GB-month", "aws.amazon.com/rds/aurora/pricing")
AURORA_IO_REQUEST = Price(0.20 / 1e6, "I/O request (Aurora Standard)", "aws.amazon.com/rds/aurora/pricing")
# Amazon SES (https://aws.amazon.com/ses/pricing/).
SES_OUTBOUND_MAIL = Price(0.10 / 1000, "mail sent", "aws.amazon.com/ses/pricing")
SES_INBOUND_MAIL = Price(0.10 / 1000, "mail received", "aws.amazon.com/ses/pricing")
SES_INBOUND_CHUNK = Price(0.09 / 1000, "256 KB chunk of mail received", "aws.amazon.com/ses/pricing")
# Amazon S3 Standard (https://aws.amazon.com/s3/pricing/).
S3_WRITE_REQUEST = Price(0.005 / 1000, "PUT, COPY, POST or LIST request", "aws.amazon.com/s3/pricing")
S3_READ_REQUEST = Price(0.0004 / 1000, "GET or other request", "aws.amazon.com/s3/pricing")
S3_STORAGE_GB_MONTH = Price(0.023, "GB-month (first 50 TB)", "aws.amazon.com/s3/pricing")
# Amazon SNS (https://aws.amazon.com/sns/pricing/): deliveries to SQS are not charged by SNS.
SNS_PUBLISH = Price(0.50 / 1e6, "publish (64 KB)", "aws.amazon.com/sns/pricing")
# Amazon SQS standard queues (https://aws.amazon.com/sqs/pricing/).
SQS_REQUEST = Price(0.40 / 1e6, "request (64 KB)", "aws.amazon.com/sqs/pricing")
# AWS AppSync Events (https://aws.amazon.com/appsync/pricing/): every event published and every
# event delivered to a subscriber is an operation; connections are billed by the minute.
APPSYNC_EVENTS_OPERATION = Price(1.00 / 1e6, "Event API operation (publish or delivery)", "aws.amazon.com/appsync/pricing")
APPSYNC_EVENTS_CONNECTION_MINUTE = Price(0.08 / 1e6, "connection-minute", "aws.amazon.com/appsync/pricing")

AWS_PRICES = {name: value for name, value in globals().items() if isinstance(value, Price)}


@dataclass(frozen=True)
class HostedPlan:
    vendor: str
    plan: str
    usd_per_agent_month: float
    billing: str
    source: str


# Hosted help desks, per agent (seat) and month, as listed on their pricing pages (USD).
HOSTED_PLANS = (
    HostedPlan("Zendesk", "Suite Team", 55.0, "billed annually", "zendesk.com/pricing"),
    HostedPlan("Zendesk", "Suite Professional", 115.0, "billed annually", "zendesk.com/pricing"),
    HostedPlan("Freshdesk", "Growth", 15.0, "billed annually", "freshworks.com/freshdesk/pricing"),
    HostedPlan("Freshdesk", "Pro", 49.0, "billed annually", "freshworks.com/freshdesk/pricing"),
    HostedPlan("Help Scout", "Standard (per-user plan)", 25.0, "billed monthly",
               "docs.helpscout.com/article/596-billing-and-plans-guide (new accounts: contact-based plans)"),
)

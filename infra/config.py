"""Stage configuration read from CDK context (cdk.json, overridden by `-c key=value`).

Every value has a default per stage so that `python app.py` and `python app.py -c stage=prod`
both synthesize without further input; bad values fail synthesis with a message naming the key, and
so does a key that would do nothing (a removed setting, a typo): a setting is never silently ignored.
"""
from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from typing import Any, Mapping

_STAGE = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
_DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_LOCAL_PART = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")

# Regions where SES can receive mail (receipt rules exist only there).
SES_RECEIVING_REGIONS = frozenset({
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "eu-west-1", "eu-west-2",
    "eu-west-3", "eu-central-1", "eu-north-1", "eu-south-1", "ap-southeast-1", "ap-southeast-2",
    "ap-southeast-3", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1",
    "il-central-1", "me-south-1", "sa-east-1", "af-south-1",
})


# CloudFront reads viewer certificates from ACM in this region only.
CLOUDFRONT_CERTIFICATE_REGION = "us-east-1"


class ContextError(ValueError):
    """A context value is missing or malformed; the message names the key and what is allowed."""


# Every setting StageConfig.from_context reads, top-level or under `stages.<stage>` (docs/deploy.md,
# "Context values"); `stage` (top-level only) picks the stage. A key that is neither a setting nor
# one of REMOVED_SETTINGS is refused, so a typo or a setting a release dropped cannot pass silently.
SETTINGS = frozenset({
    "region", "account", "supportDomain", "receivingAddresses", "webBaseUrl", "webDomain", "webCertificateArn",
    "chatAllowedOrigins", "cognitoDomainPrefix", "dbMinCapacity", "dbMaxCapacity", "dbAutoPauseMinutes",
    "dbBackupRetentionDays", "deletionProtection", "reserveConcurrency", "apiReservedConcurrency",
    "queueMaxConcurrency", "pushMaxConcurrency", "pushAuthorizerReservedConcurrency", "apiThrottleRate",
    "apiThrottleBurst", "publicBodyLimitKb", "waf", "wafFormLimit", "wafChatLimit", "apiGatewayCloudWatchRole",
    "receiptRuleSetName", "sweepMaxIdleSeconds", "inboundSilenceMinutes", "reopenRateMaxPercent",
    "quarantineRateMaxPercent", "backlogAgeTargetHours", "outboundFailuresMax", "alarmEmail", "logRetentionDays",
    "emailUnverifiedSender", "emailBulkMail", "emailDmarcAllowlist", "emailSupportDomainCustomers",
    "emailHeuristicThreading",
})
TOP_LEVEL_ONLY = frozenset({"stage", "stages"})

# Settings earlier releases read, and what took their place: a team upgrading is told, not ignored.
REMOVED_SETTINGS = {
    "businessHoursUtc": "the inbound-mail-silent alarm now counts only the minutes support is open, from the "
                        "default team's business hours (its schedule, set in the admin console); set its threshold "
                        "with 'inboundSilenceMinutes'",
    "inboundSilenceHours": "use 'inboundSilenceMinutes' (minutes without inbound mail while support is open, "
                           "default 15)",
    "publicThrottleRate": "the public routes are limited per client IP by WAF: 'wafFormLimit' and 'wafChatLimit' "
                          "(requests per IP per 5 minutes); every route's shared bucket is 'apiThrottleRate' / "
                          "'apiThrottleBurst'",
    "publicThrottleBurst": "the public routes are limited per client IP by WAF: 'wafFormLimit' and 'wafChatLimit' "
                           "(requests per IP per 5 minutes); every route's shared bucket is 'apiThrottleRate' / "
                           "'apiThrottleBurst'",
}

# This app's settings are bare words; the CDK's own context (feature flags `@aws-cdk/...`, the CLI's
# `aws:cdk:...`, lookups cached in cdk.context.json, `acknowledged-issue-numbers`) never is.
_OWN_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def _refuse_keys_that_do_nothing(context: Mapping[str, Any], stages: Mapping[str, Any]) -> None:
    """Every removed or unknown key, top-level or in any stage's block, named in one error."""
    found = [(key, key) for key in context if _OWN_KEY.match(key) and key not in SETTINGS | TOP_LEVEL_ONLY]
    for stage, block in stages.items():
        if isinstance(block, Mapping):
            found += [(f"stages.{stage}.{key}", key) for key in block if key not in SETTINGS]
    problems, unknown = [], False
    for path, key in found:
        if key in REMOVED_SETTINGS:
            problems.append(f"context '{path}' was removed: {REMOVED_SETTINGS[key]}")
            continue
        unknown = True
        close = difflib.get_close_matches(key, SETTINGS, n=1, cutoff=0.75)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        where = " (it is top-level only)" if key in TOP_LEVEL_ONLY else ""
        problems.append(f"context '{path}' is not a setting{where}{hint}")
    if not problems:
        return
    listed = f"the settings are: {', '.join(sorted(SETTINGS))} (docs/deploy.md, \"Context values\")" if unknown else ""
    if len(problems) == 1:
        raise ContextError("; ".join([problems[0], listed] if listed else problems))
    raise ContextError("\n".join(["settings that would do nothing:", *(f"- {p}" for p in problems),
                                  *([listed] if listed else [])]))


def _as_int(key: str, value: Any, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ContextError(f"context '{key}' must be an integer between {low} and {high}, got {value!r}") from None
    if not low <= number <= high:
        raise ContextError(f"context '{key}' must be between {low} and {high}, got {number}")
    return number


def _as_float(key: str, value: Any, low: float, high: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ContextError(f"context '{key}' must be a number between {low} and {high}, got {value!r}") from None
    if not low <= number <= high:
        raise ContextError(f"context '{key}' must be between {low} and {high}, got {number}")
    return number


def _as_bool(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "1", "yes"}:
        return True
    if text in {"false", "0", "no"}:
        return False
    raise ContextError(f"context '{key}' must be true or false, got {value!r}")


def _as_choice(key: str, value: Any, choices: tuple[str, ...]) -> str:
    text = str(value).strip().lower()
    if text not in choices:
        raise ContextError(f"context '{key}' must be one of {', '.join(choices)}, got {value!r}")
    return text


def _as_domains(key: str, value: Any) -> tuple[str, ...]:
    domains = tuple(d.strip().lower() for d in _as_list(key, value) if d.strip())
    for d in domains:
        if not re.fullmatch(r"[a-z0-9.-]+\.[a-z0-9-]+", d):
            raise ContextError(f"context '{key}' must list mail domains (e.g. partner.example), got {d!r}")
    return domains


def _as_list(key: str, value: Any) -> list[str]:
    if isinstance(value, str):  # `-c receivingAddresses=support,orders` or a JSON list
        value = json.loads(value) if value.strip().startswith("[") else [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
        raise ContextError(f"context '{key}' must be a list, got {value!r}")
    return [str(v) for v in value]


@dataclass(frozen=True)
class StageConfig:
    stage: str = "dev"
    region: str = "us-east-1"
    account: str | None = None
    support_domain: str = "example.com"
    # Local parts that receive mail on support_domain; SES also matches their +label forms
    # (support+<token>@domain), which carry the signed reply tokens.
    receiving_local_parts: tuple[str, ...] = ("support",)
    # Public URL of the web app; empty = the CloudFront distribution's URL.
    web_base_url: str = ""
    # Aurora Serverless v2: 0 ACU lets the cluster pause when idle (auto-pause after N minutes).
    db_min_capacity: float = 0.0
    db_max_capacity: float = 4.0
    db_auto_pause_minutes: int = 10
    db_backup_retention_days: int = 1
    deletion_protection: bool = False
    # Reserved concurrency caps what a spike can do to Aurora (ACUs, Data API). Opt-in: a new
    # account's concurrency quota is often 10, and Lambda refuses any reservation there.
    reserve_concurrency: bool = False
    api_reserved_concurrency: int = 50
    queue_max_concurrency: int = 5
    # Push (infra/push.py, docs/deploy.md "Live updates: sizing"): the push consumer's concurrency
    # and the cap on the customers' authorizer.
    push_max_concurrency: int = 5
    push_authorizer_reserved_concurrency: int = 10
    # Stage throttling, a bucket per method (agent routes and each public route apart).
    api_throttle_rate: int = 50
    api_throttle_burst: int = 100
    public_body_limit_kb: int = 64
    # WAF web ACL on the API: per-IP rate rules (requests per IP per 5 minutes), body size limit.
    waf: bool = True
    waf_form_limit: int = 300
    waf_chat_limit: int = 1000
    # The account-wide API Gateway CloudWatch Logs role: created by this stack and kept on delete,
    # or (false) left to the account, where another stage or stack already set it.
    api_gateway_cloudwatch_role: bool = True
    # SES receipt rules: empty = this stack owns and activates its own rule set; a name = add this
    # stage's rule to that (already active) rule set, which another stage or the account owns.
    receipt_rule_set_name: str = ""
    # Custom domain of the web app (CloudFront alias) and its ACM certificate, which CloudFront
    # only takes from us-east-1.
    web_domain: str = ""
    web_certificate_arn: str = ""
    # > 0: a warm sweep / notifier schedule leaves the database alone until the next instant it
    # knows of or this many seconds, so an idle Aurora cluster at 0 ACU can pause.
    sweep_max_idle_seconds: int = 0
    # Alarm thresholds (infra/monitoring.py; what to do when each fires: docs/runbook.md). Inbound
    # silence counts only minutes the support address is open (the sweep's SupportOpen metric).
    inbound_silence_minutes: int = 15
    reopen_rate_max_percent: int = 15
    quarantine_rate_max_percent: int = 25
    backlog_age_target_hours: int = 48
    outbound_failures_max: int = 5
    alarm_email: str = ""
    log_retention_days: int = 30
    # Cognito hosted UI domain prefix (globally unique per region); empty = helpdesk-<stage>-<account id>.
    cognito_domain_prefix: str = ""
    # Customer sites that embed the chat widget (https origins, or "*"): CORS on the public chat routes only.
    chat_allowed_origins: tuple[str, ...] = ()
    # Inbound mail policy (helpdesk/config.py reads these from the environment of inbound_email and api):
    # a sender SES could not authenticate who matches a ticket by subject tag or writes to a closed one
    # (new_ticket | quarantine); newsletters and list mail (quarantine | ticket); domains whose DMARC
    # failures are still accepted; colleagues at the support domain as customers; threading layer 4.
    email_unverified_sender: str = "new_ticket"
    email_bulk_mail: str = "quarantine"
    email_dmarc_allowlist: tuple[str, ...] = ()
    email_support_domain_customers: bool = False
    email_heuristic_threading: bool = False

    @property
    def is_prod(self) -> bool:
        return self.stage == "prod"

    @property
    def stack_name(self) -> str:
        return f"Helpdesk-{self.stage}"

    @property
    def support_address(self) -> str:
        return f"{self.receiving_local_parts[0]}@{self.support_domain}"

    @classmethod
    def from_context(cls, context: Mapping[str, Any]) -> "StageConfig":
        """`context`: the whole CDK context (e.g. `app.node.get_all_context()`).

        Precedence, for every key: `stages.<stage>.<key>`, then the top-level `<key>` (cdk.json or
        `-c key=value`: the default for every stage), then the built-in stage defaults below.
        """
        stage = str(context.get("stage") or "dev")
        if not _STAGE.match(stage):
            raise ContextError(f"context 'stage' must match {_STAGE.pattern} (e.g. dev, staging, prod), got {stage!r}")
        stages = context.get("stages") or {}
        if not isinstance(stages, Mapping):
            raise ContextError("context 'stages' must be an object of per-stage overrides")
        for name, block in stages.items():
            if block is not None and not isinstance(block, Mapping):
                raise ContextError(f"context 'stages.{name}' must be an object of settings for stage {name!r}")
        _refuse_keys_that_do_nothing(context, stages)
        per_stage = stages.get(stage) or {}
        prod = stage == "prod"

        def value(key: str, default: Any) -> Any:
            if key not in SETTINGS:  # read only what SETTINGS names, so that it is the whole list
                raise KeyError(f"infra/config.py reads {key!r}, which SETTINGS does not list")
            for source in (per_stage.get(key), context.get(key)):
                if source is not None and source != "":
                    return source
            return default

        region = str(value("region", "us-east-1"))
        if not _REGION.match(region):
            raise ContextError(f"context 'region' must be an AWS region such as us-east-1, got {region!r}")
        if region not in SES_RECEIVING_REGIONS:
            raise ContextError(
                f"context 'region' {region!r} cannot receive mail with SES; use one of {sorted(SES_RECEIVING_REGIONS)}")
        account = value("account", None)
        if account is not None and not re.fullmatch(r"\d{12}", str(account)):
            raise ContextError(f"context 'account' must be a 12-digit AWS account id, got {account!r}")
        domain = str(value("supportDomain", "example.com")).lower()
        if not _DOMAIN.match(domain):
            raise ContextError(f"context 'supportDomain' must be a domain name such as support.example.com, got {domain!r}")
        local_parts = tuple(p.lower() for p in _as_list("receivingAddresses", value("receivingAddresses", ["support"])))
        if not local_parts or not all(_LOCAL_PART.match(p) and "+" not in p for p in local_parts):
            raise ContextError(
                "context 'receivingAddresses' must list mailbox names without '@' or '+' (e.g. [\"support\", \"billing\"]), "
                f"got {list(local_parts)!r}")
        web_base_url = str(value("webBaseUrl", ""))
        if web_base_url and not web_base_url.startswith("https://"):
            raise ContextError(f"context 'webBaseUrl' must start with https://, got {web_base_url!r}")
        min_capacity = _as_float("dbMinCapacity", value("dbMinCapacity", 0.5 if prod else 0), 0, 256)
        max_capacity = _as_float("dbMaxCapacity", value("dbMaxCapacity", 16 if prod else 4), 1, 256)
        if max_capacity < min_capacity:
            raise ContextError(f"context 'dbMaxCapacity' ({max_capacity}) must be >= 'dbMinCapacity' ({min_capacity})")
        alarm_email = str(value("alarmEmail", ""))
        if alarm_email and "@" not in alarm_email:
            raise ContextError(f"context 'alarmEmail' must be an email address, got {alarm_email!r}")
        chat_origins = tuple(o.rstrip("/") for o in _as_list("chatAllowedOrigins", value("chatAllowedOrigins", [])))
        for origin in chat_origins:
            if origin != "*" and not re.fullmatch(r"https://[A-Za-z0-9.-]+(:\d{1,5})?", origin):
                raise ContextError("context 'chatAllowedOrigins' must list https://host[:port] origins (no path) or \"*\", "
                                   f"got {origin!r}")
        cognito_prefix = str(value("cognitoDomainPrefix", ""))
        if cognito_prefix and not re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", cognito_prefix):
            raise ContextError(
                f"context 'cognitoDomainPrefix' must be lowercase letters, digits and hyphens, got {cognito_prefix!r}")
        rule_set_name = str(value("receiptRuleSetName", ""))
        if rule_set_name and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", rule_set_name):
            raise ContextError("context 'receiptRuleSetName' must be an SES rule set name (letters, digits, '.', '_', "
                               f"'-', up to 64), got {rule_set_name!r}")
        web_domain = str(value("webDomain", "")).lower()
        certificate_arn = str(value("webCertificateArn", ""))
        if web_domain and not _DOMAIN.match(web_domain):
            raise ContextError(f"context 'webDomain' must be a domain name such as help.acme.com, got {web_domain!r}")
        if bool(web_domain) != bool(certificate_arn):
            raise ContextError("context 'webDomain' and 'webCertificateArn' go together: CloudFront serves a custom "
                               "domain only with an ACM certificate for it")
        if certificate_arn:
            match = re.fullmatch(r"arn:aws[a-z-]*:acm:([a-z0-9-]+):\d{12}:certificate/[0-9a-f-]{36}", certificate_arn)
            if not match:
                raise ContextError("context 'webCertificateArn' must be an ACM certificate ARN "
                                   f"(arn:aws:acm:us-east-1:<account>:certificate/<id>), got {certificate_arn!r}")
            if match.group(1) != CLOUDFRONT_CERTIFICATE_REGION:
                raise ContextError(
                    f"context 'webCertificateArn' is in {match.group(1)}, but CloudFront only uses ACM certificates "
                    f"from {CLOUDFRONT_CERTIFICATE_REGION}: request or import the certificate for {web_domain} there")
        if web_base_url and web_domain and web_base_url.rstrip("/") != f"https://{web_domain}":
            raise ContextError(f"context 'webBaseUrl' ({web_base_url}) must be https://{web_domain} when 'webDomain' is "
                               "set (or leave it out: it follows webDomain)")
        if web_domain:
            web_base_url = f"https://{web_domain}"
        return cls(
            cognito_domain_prefix=cognito_prefix,
            chat_allowed_origins=chat_origins,
            email_unverified_sender=_as_choice("emailUnverifiedSender", value("emailUnverifiedSender", "new_ticket"),
                                               ("new_ticket", "quarantine")),
            email_bulk_mail=_as_choice("emailBulkMail", value("emailBulkMail", "quarantine"), ("quarantine", "ticket")),
            email_dmarc_allowlist=_as_domains("emailDmarcAllowlist", value("emailDmarcAllowlist", [])),
            email_support_domain_customers=_as_bool("emailSupportDomainCustomers",
                                                    value("emailSupportDomainCustomers", False)),
            email_heuristic_threading=_as_bool("emailHeuristicThreading", value("emailHeuristicThreading", False)),
            stage=stage,
            region=region,
            account=str(account) if account else None,
            support_domain=domain,
            receiving_local_parts=local_parts,
            web_base_url=web_base_url.rstrip("/"),
            db_min_capacity=min_capacity,
            db_max_capacity=max_capacity,
            db_auto_pause_minutes=_as_int("dbAutoPauseMinutes", value("dbAutoPauseMinutes", 10), 5, 1440),
            db_backup_retention_days=_as_int("dbBackupRetentionDays", value("dbBackupRetentionDays", 14 if prod else 1), 1, 35),
            deletion_protection=_as_bool("deletionProtection", value("deletionProtection", prod)),
            reserve_concurrency=_as_bool("reserveConcurrency", value("reserveConcurrency", False)),
            api_reserved_concurrency=_as_int("apiReservedConcurrency", value("apiReservedConcurrency", 100 if prod else 20), 1, 1000),
            queue_max_concurrency=_as_int("queueMaxConcurrency", value("queueMaxConcurrency", 5), 2, 1000),
            push_max_concurrency=_as_int("pushMaxConcurrency", value("pushMaxConcurrency", 5), 2, 1000),
            push_authorizer_reserved_concurrency=_as_int("pushAuthorizerReservedConcurrency",
                                                         value("pushAuthorizerReservedConcurrency", 10), 1, 1000),
            # Sized for 2,000 agents with push (docs/deploy.md, "Live updates: sizing"): about 150 requests/s
            # at the busiest, twice that allowed; dev keeps the small default.
            api_throttle_rate=_as_int("apiThrottleRate", value("apiThrottleRate", 300 if prod else 50), 1, 10000),
            api_throttle_burst=_as_int("apiThrottleBurst", value("apiThrottleBurst", 600 if prod else 100), 1, 5000),
            public_body_limit_kb=_as_int("publicBodyLimitKb", value("publicBodyLimitKb", 64), 1, 64),
            waf=_as_bool("waf", value("waf", True)),
            # WAF's smallest rate limit is 10 requests per window.
            waf_form_limit=_as_int("wafFormLimit", value("wafFormLimit", 300), 10, 2_000_000_000),
            waf_chat_limit=_as_int("wafChatLimit", value("wafChatLimit", 1000), 10, 2_000_000_000),
            api_gateway_cloudwatch_role=_as_bool("apiGatewayCloudWatchRole", value("apiGatewayCloudWatchRole", True)),
            receipt_rule_set_name=rule_set_name,
            web_domain=web_domain,
            web_certificate_arn=certificate_arn,
            sweep_max_idle_seconds=_as_int("sweepMaxIdleSeconds",
                                           value("sweepMaxIdleSeconds", 0 if min_capacity > 0 else 3600), 0, 86400),
            inbound_silence_minutes=_as_int("inboundSilenceMinutes", value("inboundSilenceMinutes", 15), 5, 1440),
            reopen_rate_max_percent=_as_int("reopenRateMaxPercent", value("reopenRateMaxPercent", 15), 1, 100),
            quarantine_rate_max_percent=_as_int("quarantineRateMaxPercent", value("quarantineRateMaxPercent", 25), 1, 100),
            backlog_age_target_hours=_as_int("backlogAgeTargetHours", value("backlogAgeTargetHours", 48), 1, 8760),
            outbound_failures_max=_as_int("outboundFailuresMax", value("outboundFailuresMax", 5), 1, 100000),
            alarm_email=alarm_email,
            log_retention_days=_as_int("logRetentionDays", value("logRetentionDays", 365 if prod else 30), 1, 3653),
        )

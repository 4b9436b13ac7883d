"""The static web app (web/) in a private bucket behind CloudFront with origin access control."""
from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from infra.config import StageConfig
from infra.nag import suppress
from infra.storage import private_bucket

WEB_DIR = Path(__file__).resolve().parent.parent / "web"


LIVE_MODULE_PATH = "/js/live.js"  # web/js/live.js (web/chat/widget.js imports it)


class Web(Construct):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig, access_logs: s3.IBucket) -> None:
        super().__init__(scope, id)
        self.bucket = private_bucket(
            self, "Site", access_logs=access_logs,
            lifecycle_rules=[s3.LifecycleRule(id="tidy", abort_incomplete_multipart_upload_after=Duration.days(1))])
        # A custom domain: CloudFront's alias with its ACM certificate (us-east-1, checked by
        # infra/config.py); the viewer minimum is then TLS 1.2.
        certificate = (acm.Certificate.from_certificate_arn(self, "Certificate", config.web_certificate_arn)
                       if config.web_domain else None)
        site = origins.S3BucketOrigin.with_origin_access_control(self.bucket)  # one origin, one OAC, both behaviors
        self.distribution = cloudfront.Distribution(
            self, "Cdn",
            comment=f"Helpdesk web ({config.stage})",
            default_behavior=cloudfront.BehaviorOptions(
                origin=site,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
            ),
            # The chat widget, embedded on customers' sites, imports the push client module from here:
            # a cross-origin module import needs CORS (the file is public code, like the widget).
            additional_behaviors={LIVE_MODULE_PATH: cloudfront.BehaviorOptions(
                origin=site,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=cloudfront.ResponseHeadersPolicy.CORS_ALLOW_ALL_ORIGINS_WITH_PREFLIGHT_AND_SECURITY_HEADERS,
            )},
            default_root_object="index.html",
            domain_names=[config.web_domain] if config.web_domain else None,
            certificate=certificate,
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            enable_logging=True, log_bucket=access_logs, log_file_prefix="cloudfront/",
        )
        self.url = config.web_base_url or f"https://{self.distribution.distribution_domain_name}"
        self.custom_domain = config.web_domain
        suppress(self.distribution, "AwsSolutions-CFR1",
                 "Customers write in from any country; no geo restriction for a support portal.")
        suppress(self.distribution, "AwsSolutions-CFR2",
                 "Static files only; the dynamic API has its own regional WAF. A CloudFront WAF must live in us-east-1.")
        if not config.web_domain:
            suppress(self.distribution, "AwsSolutions-CFR4",
                     "No custom domain configured (webDomain/webCertificateArn): the default *.cloudfront.net "
                     "certificate allows TLSv1; with them the distribution's minimum is TLSv1.2_2021 (set above).")

    def deploy_site(self, site_config: dict) -> s3deploy.BucketDeployment | None:
        """Uploads web/ plus a generated config.json (API URL, Cognito hosted UI) if web/ exists;
        the committed web/config.json holds local-stack defaults and is not uploaded."""
        if not WEB_DIR.is_dir():
            return None
        deployment = s3deploy.BucketDeployment(
            self, "Deploy",
            sources=[s3deploy.Source.asset(str(WEB_DIR), exclude=["config.json", "**/.*"]),
                     s3deploy.Source.json_data("config.json", site_config)],
            destination_bucket=self.bucket,
            distribution=self.distribution,
            distribution_paths=["/*"],
            memory_limit=512,
            prune=True,
        )
        suppress(deployment, "AwsSolutions-IAM4",
                 "CDK's BucketDeployment handler uses AWSLambdaBasicExecutionRole for its own logs.")
        suppress(deployment, "AwsSolutions-IAM5",
                 "CDK's BucketDeployment handler copies objects: grants on the asset bucket and site bucket objects.")
        suppress(deployment, "AwsSolutions-L1", "The BucketDeployment handler's runtime is managed by aws-cdk-lib.")
        return deployment

"""API Gateway REST API in front of the api function, Cognito for agents, WAF for the public routes.

Routes (all Lambda proxy to the one api function):
- ANY /api/v1/{proxy+}                 Cognito user pool authorizer (ID token; groups agent/lead/admin)
- ANY /api/v1/public/{proxy+}          no authorizer (web form, chat): tighter stage throttling
- ANY /api/v1/portal/{proxy+}          no authorizer (signed portal links): tighter stage throttling
- POST /api/v1/channels/slack/events   no authorizer (Slack signs requests): body validated as JSON event

Throttling: API Gateway usage plans only throttle requests that carry an API key, which public
callers (browsers, Slack) cannot send. Stage throttling is a bucket per method, shared by all
callers of that method, so it only caps the total; each caller is limited by WAF rate rules per
client IP, sized for what one browser does: the web form and portal (wafFormLimit) and the chat
widget, which polls every 3 s (wafChatLimit), each per 5 minutes.
"""
from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from infra.config import StageConfig
from infra.nag import suppress

GROUPS = ("agent", "lead", "admin")
PUBLIC_PREFIXES = ("public", "portal")
CHAT_PREFIX = "public/chat"  # its own resource only when chatAllowedOrigins are set (its CORS preflight)
SLACK_EVENTS_PATH = "/api/v1/channels/slack/events"
WAF_WINDOW_SECONDS = 300  # the WAF rate limits count requests per IP over this window


class Api(Construct):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig, handler: lambda_.IFunction,
                 web_origin: str) -> None:
        super().__init__(scope, id)
        self.user_pool = cognito.UserPool(
            self, "Agents",
            self_sign_up_enabled=False,  # agents are invited by an admin
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True),
                fullname=cognito.StandardAttribute(required=False, mutable=True)),
            password_policy=cognito.PasswordPolicy(
                min_length=12, require_lowercase=True, require_uppercase=True, require_digits=True,
                require_symbols=True, temp_password_validity=Duration.days(3)),
            mfa=cognito.Mfa.REQUIRED if config.is_prod else cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            deletion_protection=config.is_prod,
            removal_policy=RemovalPolicy.RETAIN if config.is_prod else RemovalPolicy.DESTROY,
        )
        for precedence, group in enumerate(reversed(GROUPS)):  # admin 0, lead 1, agent 2
            cognito.CfnUserPoolGroup(self, f"{group.capitalize()}Group", user_pool_id=self.user_pool.user_pool_id,
                                     group_name=group, precedence=precedence,
                                     description=f"Helpdesk role '{group}' (claim cognito:groups)")
        # Admins invite agents from the console (POST /agents/{id}/invite: helpdesk.admin.invitations):
        # the function behind the entry point (an alias of a SnapStart version) gets the pool and the grant.
        function = handler.version.lambda_ if isinstance(handler, lambda_.Alias) else handler
        function.add_environment("USER_POOL_ID", self.user_pool.user_pool_id)
        self.user_pool.grant(function, "cognito-idp:AdminCreateUser", "cognito-idp:AdminAddUserToGroup")
        # The web app signs agents in through the hosted UI (authorization code + PKCE, web/js/auth.js)
        # and sends the ID token; the authorizer reads its claims (cognito:groups).
        self.domain_prefix = config.cognito_domain_prefix or f"helpdesk-{config.stage}-{Aws.ACCOUNT_ID}"
        self.hosted_ui = self.user_pool.add_domain(
            "HostedUi", cognito_domain=cognito.CognitoDomainOptions(domain_prefix=self.domain_prefix))
        self.redirect_uri = f"{web_origin}/index.html"
        self.client = self.user_pool.add_client(
            "WebClient",
            auth_flows=cognito.AuthFlow(user_srp=True),
            generate_secret=False,  # a browser app cannot keep a secret (PKCE instead)
            prevent_user_existence_errors=True,
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
                callback_urls=[self.redirect_uri], logout_urls=[self.redirect_uri]),
            id_token_validity=Duration.hours(1),
            access_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(30),
        )

        access_logs = logs.LogGroup(self, "AccessLogs", retention=logs.RetentionDays.ONE_YEAR,
                                    removal_policy=RemovalPolicy.DESTROY)
        self.rest_api = apigw.RestApi(
            self, "RestApi",
            rest_api_name=f"helpdesk-{config.stage}",
            description="Helpdesk REST API (/api/v1)",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # The role API Gateway logs with is one setting per account and region. Kept when the
            # stack is deleted, so another stage's stack still logs (and deploys) after this one goes.
            cloud_watch_role=config.api_gateway_cloudwatch_role,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN if config.api_gateway_cloudwatch_role else None,
            deploy_options=apigw.StageOptions(
                stage_name=config.stage,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False, http_method=True, ip=True, protocol=True, request_time=True,
                    resource_path=True, response_length=True, status=True, user=True),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # request bodies hold customer data: never in execution logs
                metrics_enabled=True,
                tracing_enabled=True,
                throttling_rate_limit=config.api_throttle_rate,
                throttling_burst_limit=config.api_throttle_burst,
            ),
            default_cors_preflight_options=apigw.CorsOptions(
                allow_origins=[web_origin],
                allow_methods=apigw.Cors.ALL_METHODS,
                allow_headers=[*apigw.Cors.DEFAULT_HEADERS, "Idempotency-Key"],
                max_age=Duration.hours(1),
            ),
        )
        # Errors API Gateway answers itself (401 from the authorizer, 429 throttling, 5xx) carry the
        # CORS header too, or the browser hides them from the web app.
        for response_type in (apigw.ResponseType.DEFAULT_4_XX, apigw.ResponseType.DEFAULT_5_XX):
            self.rest_api.add_gateway_response(
                f"Cors{response_type.response_type}", type=response_type,
                response_headers={"Access-Control-Allow-Origin": f"'{web_origin}'"})
        authorizer = apigw.CognitoUserPoolsAuthorizer(
            self, "AgentAuthorizer", cognito_user_pools=[self.user_pool], results_cache_ttl=Duration.minutes(5))
        integration = apigw.LambdaIntegration(handler, proxy=True)
        # Required parameters and, where a method declares a model, the JSON body are checked
        # before the function runs (the function validates every body with pydantic as well).
        validator = self.rest_api.add_request_validator(
            "RequestValidator", validate_request_parameters=True, validate_request_body=True)
        proxy_params = {"method.request.path.proxy": True}

        v1 = self.rest_api.root.add_resource("api").add_resource("v1")
        v1.add_resource("{proxy+}").add_method(
            "ANY", integration,
            authorization_type=apigw.AuthorizationType.COGNITO, authorizer=authorizer,
            request_parameters=proxy_params, request_validator=validator)
        self.public_methods: list[apigw.Method] = []
        public_resources = {prefix: v1.add_resource(prefix) for prefix in PUBLIC_PREFIXES}
        for resource in public_resources.values():
            self.public_methods.append(resource.add_resource("{proxy+}").add_method(
                "ANY", integration, authorization_type=apigw.AuthorizationType.NONE,
                request_parameters=proxy_params, request_validator=validator))
        if config.chat_allowed_origins:
            # The chat widget embedded on customers' sites: their origins pass the preflight API Gateway
            # answers itself, on the chat routes only (the function adds the same for the responses).
            chat = public_resources["public"].add_resource("chat", default_cors_preflight_options=apigw.CorsOptions(
                allow_origins=[web_origin, *config.chat_allowed_origins],
                allow_methods=apigw.Cors.ALL_METHODS, allow_headers=list(apigw.Cors.DEFAULT_HEADERS),
                max_age=Duration.hours(1)))
            self.public_methods.append(chat.add_resource("{proxy+}").add_method(
                "ANY", integration, authorization_type=apigw.AuthorizationType.NONE,
                request_parameters=proxy_params, request_validator=validator))
        slack_event = self.rest_api.add_model(
            "SlackEvent", content_type="application/json", model_name="SlackEvent",
            schema=apigw.JsonSchema(
                schema=apigw.JsonSchemaVersion.DRAFT4, type=apigw.JsonSchemaType.OBJECT, required=["type"],
                properties={"type": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING, max_length=100)}))
        self.public_methods.append(
            v1.add_resource("channels").add_resource("slack").add_resource("events").add_method(
                "POST", integration, authorization_type=apigw.AuthorizationType.NONE,
                request_validator=validator, request_models={"application/json": slack_event}))

        self.web_acl = self._web_acl(config) if config.waf else None

        for method in self.public_methods:
            suppress(method, "AwsSolutions-APIG4",
                     "Public by design (customer web form, portal links signed with HMAC, Slack requests signed by "
                     "Slack and verified in the function); throttled per stage method and by WAF rate rules.")
            suppress(method, "AwsSolutions-COG4",
                     "Customers and Slack are not Cognito users; these routes authenticate by signature in the function.")
        suppress(self.rest_api, "AwsSolutions-IAM4",
                 "API Gateway's account-level CloudWatch role uses the AWS managed AmazonAPIGatewayPushToCloudWatchLogs policy.",
                 applies_to=["Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"])
        if not config.is_prod:
            suppress(self.user_pool, "AwsSolutions-COG2",
                     "MFA is optional outside prod so test agents can sign in quickly; prod requires it.")
        if not config.waf:
            suppress(self.rest_api, "AwsSolutions-APIG3", "WAF disabled by context (waf=false) for this stage.")

    def _web_acl(self, config: StageConfig) -> wafv2.CfnWebACL:
        def visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
            return wafv2.CfnWebACL.VisibilityConfigProperty(
                cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True)

        # The URI path WAF sees starts with the stage name (/dev/api/v1/...): hence CONTAINS.
        def under(*paths: str) -> wafv2.CfnWebACL.StatementProperty:
            matches = [wafv2.CfnWebACL.StatementProperty(byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
                field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(uri_path={}),
                positional_constraint="CONTAINS", search_string=path,
                text_transformations=[wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="LOWERCASE")]))
                for path in paths]
            return matches[0] if len(matches) == 1 else wafv2.CfnWebACL.StatementProperty(
                or_statement=wafv2.CfnWebACL.OrStatementProperty(statements=matches))

        def per_ip(name: str, priority: int, limit: int, scope: wafv2.CfnWebACL.StatementProperty | None = None):
            return wafv2.CfnWebACL.RuleProperty(
                name=name, priority=priority, action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                statement=wafv2.CfnWebACL.StatementProperty(rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                    aggregate_key_type="IP", limit=limit, evaluation_window_sec=WAF_WINDOW_SECONDS,
                    scope_down_statement=scope)),
                visibility_config=visibility(name))

        chat = f"/api/v1/{CHAT_PREFIX}/"
        public_path = under("/api/v1/public/", "/api/v1/portal/", "/api/v1/channels/")
        # The web form (with its KB suggestions and uploads) and the portal; the chat has its own rule.
        form_path = wafv2.CfnWebACL.StatementProperty(and_statement=wafv2.CfnWebACL.AndStatementProperty(statements=[
            under("/api/v1/public/", "/api/v1/portal/"),
            wafv2.CfnWebACL.StatementProperty(not_statement=wafv2.CfnWebACL.NotStatementProperty(statement=under(chat))),
        ]))
        rules = [
            per_ip("PerIpRateLimit", 0, 3000),
            per_ip("FormPerIpRateLimit", 1, config.waf_form_limit, form_path),
            per_ip("ChatPerIpRateLimit", 2, config.waf_chat_limit, under(chat)),
            # Public bodies larger than the limit are blocked before they reach the function. WAF
            # inspects an API Gateway body up to the association's inspection limit (16 KB by
            # default, raised below to cover the limit); longer bodies count as a match.
            wafv2.CfnWebACL.RuleProperty(
                name="PublicBodySizeLimit", priority=3, action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                statement=wafv2.CfnWebACL.StatementProperty(and_statement=wafv2.CfnWebACL.AndStatementProperty(statements=[
                    public_path,
                    wafv2.CfnWebACL.StatementProperty(size_constraint_statement=wafv2.CfnWebACL.SizeConstraintStatementProperty(
                        comparison_operator="GT", size=config.public_body_limit_kb * 1024,
                        field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(body=wafv2.CfnWebACL.BodyProperty(
                            oversize_handling="MATCH")),
                        text_transformations=[wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")])),
                ])),
                visibility_config=visibility("PublicBodySizeLimit")),
            wafv2.CfnWebACL.RuleProperty(
                name="AWSManagedRulesKnownBadInputsRuleSet", priority=4,
                override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                statement=wafv2.CfnWebACL.StatementProperty(managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                    vendor_name="AWS", name="AWSManagedRulesKnownBadInputsRuleSet")),
                visibility_config=visibility("KnownBadInputs")),
            wafv2.CfnWebACL.RuleProperty(
                name="AWSManagedRulesAmazonIpReputationList", priority=5,
                override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                statement=wafv2.CfnWebACL.StatementProperty(managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                    vendor_name="AWS", name="AWSManagedRulesAmazonIpReputationList")),
                visibility_config=visibility("IpReputation")),
        ]
        inspection_kb = next(kb for kb in (16, 32, 48, 64) if kb >= config.public_body_limit_kb)
        acl = wafv2.CfnWebACL(
            self, "WebAcl", scope="REGIONAL", default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=visibility(f"helpdesk-{config.stage}-api"), rules=rules,
            association_config=None if inspection_kb == 16 else wafv2.CfnWebACL.AssociationConfigProperty(
                request_body={"API_GATEWAY": wafv2.CfnWebACL.RequestBodyAssociatedResourceTypeConfigProperty(
                    default_size_inspection_limit=f"KB_{inspection_kb}")}))
        wafv2.CfnWebACLAssociation(self, "WebAclAssociation", web_acl_arn=acl.attr_arn,
                                   resource_arn=self.rest_api.deployment_stage.stage_arn)
        return acl

    @property
    def url(self) -> str:
        return self.rest_api.url

    @property
    def hosted_ui_url(self) -> str:
        return f"https://{self.domain_prefix}.auth.{Aws.REGION}.amazoncognito.com"

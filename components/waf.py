"""An optional WAFv2 web ACL in front of the API stage (Security Hub APIGateway.4).

Two rules: a rate-based block per client IP, then AWS's managed common rule set (OWASP-style
bad inputs). Everything else is allowed: the API's own AWS_IAM and resource policy decide
who may call what. Each rule's metrics go to CloudWatch under the rule's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import pulumi
import pulumi_aws as aws

from components.component import Component, Outputs

COMMON_RULE_SET = "AWSManagedRulesCommonRuleSet"
RATE_RULE_PRIORITY = 0
COMMON_RULE_PRIORITY = 1


@dataclass
class ApiFirewallArgs:
    name_prefix: str
    stage_arn: pulumi.Input[str]  # arn:aws:apigateway:<region>::/restapis/<id>/stages/<stage>
    rate_limit: int = 1000  # requests per client IP in any 5-minute window


if TYPE_CHECKING:  # naming aws.wafv2 at import would load it (0.4 s) for stacks without WAF
    Visibility = TypeVar("Visibility", aws.wafv2.WebAclVisibilityConfigArgs,
                          aws.wafv2.WebAclRuleVisibilityConfigArgs)


def _visibility(kind: type[Visibility], metric: str) -> Visibility:
    """CloudWatch metrics and sampled requests under `metric` (the ACL's or one rule's)."""
    return kind(cloudwatch_metrics_enabled=True, metric_name=metric,
                sampled_requests_enabled=True)


class ApiFirewall(Component[ApiFirewallArgs]):
    """Owns the WAFv2 WebAcl (per-IP rate limit, AWS's common rule set) and the
    WebAclAssociation that puts it in front of the API's stage."""

    web_acl: aws.wafv2.WebAcl
    association: aws.wafv2.WebAclAssociation

    def declare(self, name: str, args: ApiFirewallArgs) -> Outputs:
        prefix = args.name_prefix
        self.web_acl = aws.wafv2.WebAcl(
            f"{name}-acl",
            name=f"{prefix}-api",
            description=f"{prefix}: per-IP rate limit and AWS common rule set for the API",
            scope="REGIONAL",
            default_action=aws.wafv2.WebAclDefaultActionArgs(
                allow=aws.wafv2.WebAclDefaultActionAllowArgs()),
            rules=[
                aws.wafv2.WebAclRuleArgs(
                    name=f"{prefix}-rate-per-ip",
                    priority=RATE_RULE_PRIORITY,
                    action=aws.wafv2.WebAclRuleActionArgs(
                        block=aws.wafv2.WebAclRuleActionBlockArgs()),
                    statement=aws.wafv2.WebAclRuleStatementArgs(
                        rate_based_statement=aws.wafv2.WebAclRuleStatementRateBasedStatementArgs(
                            limit=args.rate_limit,
                            aggregate_key_type="IP",
                            evaluation_window_sec=300,
                        )),
                    visibility_config=_visibility(aws.wafv2.WebAclRuleVisibilityConfigArgs,
                                                  f"{prefix}-rate-per-ip"),
                ),
                aws.wafv2.WebAclRuleArgs(
                    name=f"{prefix}-{COMMON_RULE_SET}",
                    priority=COMMON_RULE_PRIORITY,
                    override_action=aws.wafv2.WebAclRuleOverrideActionArgs(
                        none=aws.wafv2.WebAclRuleOverrideActionNoneArgs()),
                    statement=aws.wafv2.WebAclRuleStatementArgs(
                        managed_rule_group_statement=aws.wafv2.
                        WebAclRuleStatementManagedRuleGroupStatementArgs(
                            vendor_name="AWS", name=COMMON_RULE_SET)),
                    visibility_config=_visibility(aws.wafv2.WebAclRuleVisibilityConfigArgs,
                                                  f"{prefix}-{COMMON_RULE_SET}"),
                ),
            ],
            visibility_config=_visibility(aws.wafv2.WebAclVisibilityConfigArgs, f"{prefix}-api"),
            opts=self.child(),
        )
        self.association = aws.wafv2.WebAclAssociation(
            f"{name}-association",
            resource_arn=args.stage_arn,
            web_acl_arn=self.web_acl.arn,
            opts=self.child(),
        )
        return {"webAclArn": self.web_acl.arn}

"""IAM rules: invoke grants no wider than the model, OIDC trust conditions, Lambda roles."""

from __future__ import annotations

import json

import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

import access
from components import policies
from harness_core.recorder import ACCOUNT, API_ID, REGION, ProgramRun
from policy import rules
from tests.support.pack import (
    by_name,
    mutate,
    policy_resource,
    policy_resources,
    resource_violations,
    stack_violations,
)
from tests.support.programs import CLIENT_ID, ISSUER

EXEC = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API_ID}"
KEY = ISSUER.removeprefix("https://")  # the issuer as IAM names its provider and keys
PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{KEY}"
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/pets-unit-pets"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE = "aws:iam/role:Role"
ALLOWED = "allowed: DELETE/pets/*, GET/pets, POST/pets, POST/pets/purchase"


def doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def invoke(resource, action="execute-api:Invoke", effect="Allow") -> dict:
    return {"Effect": effect, "Action": action, "Resource": resource}


def role_policy(policy: str) -> dict[str, str]:
    return {"role": "pets-unit-admin", "name": "invoke-allowed-routes", "policy": policy}


def invoke_messages(policy: str, resource_type: str = ROLE_POLICY) -> list[str]:
    props = ({"assumeRolePolicy": doc(), "inlinePolicies": [{"name": "x", "policy": policy}]}
             if resource_type == ROLE else role_policy(policy))
    return resource_violations(rules.IAM_NO_BROAD_INVOKE, resource_type, props)


# --- iam-no-broad-invoke ----------------------------------------------------------------

def program_invoke_policy(program: ProgramRun, extra_arn: str) -> tuple[str, dict]:
    """The admin role's invoke policy as the program declares it, plus one ARN."""
    declared = program.named("pets-unit-admin-invoke")
    policy = declared.json_input("policy")
    policy["Statement"][0]["Resource"].append(extra_arn)
    return declared.type, {**declared.inputs, "policy": json.dumps(policy)}


def test_widening_a_role_to_every_route_is_refused(program: ProgramRun):
    resource_type, props = program_invoke_policy(program, f"{EXEC}/v1/*")
    messages = resource_violations(rules.IAM_NO_BROAD_INVOKE, resource_type, props)
    assert len(messages) == 1, messages
    assert messages[0].startswith("policy statement 0 (InvokeAllowedRoutes) grants "
                                  f"execute-api:Invoke too broadly, '{EXEC}/v1/*' has a wildcard")
    assert ALLOWED in messages[0]


def test_wildcard_method_is_refused(program: ProgramRun):
    resource_type, props = program_invoke_policy(program, f"{EXEC}/v1/*/pets")
    messages = resource_violations(rules.IAM_NO_BROAD_INVOKE, resource_type, props)
    assert len(messages) == 1 and "wildcard in its method or path" in messages[0], messages


def test_purchase_for_admin_is_not_a_pack_violation(program: ProgramRun):
    """Which class may call which route is ACCESS.md's and the matrix tests' job."""
    purchase = policies.route_arn(EXEC, "v1", access.PURCHASE_PET)
    resource_type, props = program_invoke_policy(program, purchase)
    assert purchase in props["policy"]
    assert resource_violations(rules.IAM_NO_BROAD_INVOKE, resource_type, props) == []


@pytest.mark.parametrize(("resource", "expected"), [
    ("*", "Resource '*'"),
    (f"arn:aws:execute-api:{REGION}:{ACCOUNT}:*/v1/GET/pets", "wildcard or empty API id"),
    (f"{EXEC}/*/GET/pets", "wildcard or empty stage"),
    (f"arn:aws:execute-api:*:{ACCOUNT}:{API_ID}/v1/GET/pets", "wildcard or empty region"),
    (f"arn:aws:execute-api:{REGION}:*:{API_ID}/v1/GET/pets", "wildcard or empty account"),
    (f"{EXEC}/v1/GET/pets/*", "wildcard in its method or path"),
    (f"{EXEC}/v1/POST/pets/purchas?", "wildcard in its method or path"),
    (f"{EXEC}/v1/GET/admin", "'GET/admin', which is not a route in access.ROUTES"),
    ("arn:aws:execute-api:*", "is not an execute-api ARN"),
])
def test_invoke_beyond_model_routes_is_refused(resource, expected):
    messages = invoke_messages(doc(invoke(resource)))
    assert len(messages) == 1 and expected in messages[0], messages


@pytest.mark.parametrize("action", ["execute-api:*", "*", "execute-api:Inv*", "*:Invoke",
                                    "Execute-API:invok?"])
def test_action_wildcards_covering_invoke_are_refused(action):
    messages = invoke_messages(doc(invoke(f"{EXEC}/v1/GET/pets", action=action)))
    assert len(messages) == 1, messages
    assert f"grants '{action}', which includes execute-api:Invoke" in messages[0]


def test_not_action_and_not_resource_are_refused():
    messages = invoke_messages(doc(
        {"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"},
        {"Effect": "Allow", "Action": "execute-api:Invoke", "NotResource": f"{EXEC}/v1/GET/pets"},
    ))
    assert len(messages) == 2, messages
    assert "statement 0: Allow with NotAction grants every action" in messages[0]
    assert "statement 1: Allow with NotResource grants every resource" in messages[1]


def test_element_names_in_another_case_are_still_read():
    messages = invoke_messages(doc({"effect": "Allow", "action": "execute-api:*",
                                    "resource": "*"}))
    assert len(messages) == 1 and "'execute-api:*'" in messages[0], messages


def test_deny_statements_may_use_wildcards():
    assert invoke_messages(doc(invoke("*", action="execute-api:*", effect="Deny"))) == []


@pytest.mark.parametrize("resource_type", [
    "aws:iam/policy:Policy", "aws:iam/userPolicy:UserPolicy", "aws:iam/groupPolicy:GroupPolicy",
])
def test_every_identity_policy_kind_is_checked(resource_type):
    messages = resource_violations(rules.IAM_NO_BROAD_INVOKE, resource_type,
                                   {"policy": doc(invoke(f"{EXEC}/v1/*"))})
    assert len(messages) == 1 and "wildcard in its method or path" in messages[0], messages


def test_role_inline_policy_is_checked():
    messages = invoke_messages(doc(invoke("*", action="execute-api:*")), ROLE)
    assert len(messages) == 1 and messages[0].startswith("inline policy 'x'"), messages


def test_api_resource_policy_for_everyone_is_refused():
    messages = resource_violations(
        rules.IAM_NO_BROAD_INVOKE, "aws:apigateway/restApiPolicy:RestApiPolicy",
        {"restApiId": API_ID,
         "policy": doc({**invoke(f"{EXEC}/v1/GET/pets"), "Principal": "*"})})
    assert len(messages) == 1 and "allows everyone (Principal '*'" in messages[0], messages


def test_invalid_document_is_refused():
    messages = invoke_messages("{not json")
    assert len(messages) == 1 and "is not a valid policy document" in messages[0], messages


def test_document_unknown_in_preview_is_deferred_not_passed():
    """The engine reports "can't run during preview" and checks again at `up`."""
    with pytest.raises(UnknownValueError):
        invoke_messages(UNKNOWN_STRING_VALUE)


# --- iam-managed-policies-allowlisted ---------------------------------------------------

@pytest.mark.parametrize(("resource_type", "props"), [
    ("aws:iam/rolePolicyAttachment:RolePolicyAttachment",
     {"role": "r", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
    (ROLE, {"assumeRolePolicy": doc(),
            "managedPolicyArns": ["arn:aws:iam::aws:policy/AmazonAPIGatewayInvokeFullAccess"]}),
    ("aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
     {"roleName": "r", "policyArns": ["arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"]}),
    ("aws:iam/policyAttachment:PolicyAttachment",
     {"roles": ["r"], "policyArn": "arn:aws:iam::aws:policy/PowerUserAccess"}),
])
def test_broad_aws_managed_policy_is_refused(resource_type, props):
    messages = resource_violations(rules.IAM_MANAGED_POLICIES_ALLOWLISTED, resource_type, props)
    assert len(messages) == 1, messages
    assert "attaches the AWS managed policy arn:aws:iam::aws:policy/" in messages[0]
    assert "write a least-privilege policy" in messages[0]


@pytest.mark.parametrize("arn", [
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    f"arn:aws:iam::{ACCOUNT}:policy/pets-custom",
])
def test_allowlisted_and_customer_policies_pass(arn):
    assert resource_violations(rules.IAM_MANAGED_POLICIES_ALLOWLISTED,
                               "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                               {"role": "r", "policyArn": arn}) == []


# --- iam-trust-oidc-conditions ----------------------------------------------------------

def oidc(condition: dict | None = None, principal=None, **extra) -> dict:
    statement = {"Effect": "Allow", "Principal": principal or {"Federated": PROVIDER},
                 "Action": "sts:AssumeRoleWithWebIdentity", **extra}
    if condition is not None:
        statement["Condition"] = condition
    return statement


AUD = {f"{KEY}:aud": CLIENT_ID}
SUB = {f"{KEY}:sub": ["auth0|*"]}


def trust_messages(*statements: dict) -> list[str]:
    return resource_violations(rules.IAM_TRUST_OIDC_CONDITIONS, ROLE,
                               {"name": "pets-unit-admin", "assumeRolePolicy": doc(*statements)})


def test_model_trust_policies_pass():
    members = access.Membership(sub_patterns=("auth0|*",), subjects=("auth0|1",),
                                session_tags={"class": "admin"})
    trust = policies.trust_policy(PROVIDER, ISSUER, CLIENT_ID, members)
    assert trust_messages(*trust["Statement"]) == []


def test_missing_audience_is_refused():
    messages = trust_messages(oidc({"StringLike": SUB}))
    assert len(messages) == 1, messages
    assert f'require the audience with Condition StringEquals {{"{KEY}:aud"' in messages[0]


def test_audience_by_pattern_is_refused():
    messages = trust_messages(oidc({"StringLike": {**SUB, f"{KEY}:aud": "*"}}))
    assert len(messages) == 1 and "require the audience" in messages[0], messages


def test_audience_of_another_provider_is_refused():
    messages = trust_messages(oidc({"StringEquals": {"other.example.com/:aud": CLIENT_ID},
                                    "StringLike": SUB}))
    assert len(messages) == 1 and "require the audience" in messages[0], messages


@pytest.mark.parametrize("condition", [
    {"StringEquals": AUD},
    {"StringEquals": AUD, "StringLike": {f"{KEY}:sub": "*"}},
    {"StringEquals": AUD, "StringLikeIfExists": SUB},
    {"StringEquals": AUD, "ForAllValues:StringLike": SUB},
    {"StringEquals": {**AUD, "aws:RequestTag/class": "*"}},
])
def test_missing_or_everyone_class_condition_is_refused(condition):
    messages = trust_messages(oidc(condition))
    assert len(messages) == 1, messages
    assert "require the user class" in messages[0]
    assert "every user of the provider gets this role" in messages[0]


def test_every_allow_statement_needs_the_conditions():
    messages = trust_messages(oidc({"StringEquals": AUD, "StringLike": SUB}),
                              oidc({"StringEquals": AUD}, Sid="Loose"))
    assert len(messages) == 1 and messages[0].startswith("trust statement 1 (Loose)"), messages


def test_second_principal_on_an_oidc_role_is_refused():
    messages = trust_messages(
        oidc({"StringEquals": AUD, "StringLike": SUB}),
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
         "Action": "sts:AssumeRole"})
    assert len(messages) == 1 and "would bypass membership" in messages[0], messages


@pytest.mark.parametrize("principal", ["*", {"AWS": "*"}, {"AWS": ["arn:aws:iam::1:root", "*"]}])
def test_everyone_may_not_assume_a_role(principal):
    messages = trust_messages({"Effect": "Allow", "Principal": principal,
                               "Action": "sts:AssumeRole"})
    assert len(messages) == 1, messages
    assert "lets everyone (Principal '*') assume the role" in messages[0]


def test_not_principal_is_refused():
    messages = trust_messages({"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::1:root"},
                               "Action": "sts:AssumeRole"})
    assert len(messages) == 1 and "Allow with NotPrincipal" in messages[0], messages


# --- lambda-roles-least-privilege (stack) -----------------------------------------------

def function_doc(actions, resource=TABLE_ARN) -> str:
    return doc({"Effect": "Allow", "Action": actions, "Resource": resource})


def lambda_messages(resources) -> list[tuple[str, str | None]]:
    return stack_violations(rules.LAMBDA_ROLES_LEAST_PRIVILEGE, resources)


@pytest.mark.parametrize("action", ["dynamodb:*", "*", "dynamodb:Get*", "logs:*"])
def test_wildcard_action_on_a_function_role_is_refused(program: ProgramRun, action):
    resources = policy_resources(program.declared)
    mutate(resources, "pets-unit-list-pets-policy", policy=function_doc([action]))
    violations = lambda_messages(resources)
    assert len(violations) == 1, violations
    message, urn = violations[0]
    assert message.startswith("role policy pets-unit-list-pets-policy statement 0 (Lambda "
                              "execution role pets-unit-list-pets-role)")
    assert f"grants '{action}': list each action" in message
    assert urn.endswith("::pets-unit-list-pets-policy")


@pytest.mark.parametrize(("resource", "expected"), [
    ("*", "beyond the table, Resource '*'"),
    (f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/other", "table/other'"),
    (f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/*", "table/*'"),
    (f"{TABLE_ARN}/index/byOwner", "/index/byOwner'"),
])
def test_dynamodb_beyond_the_table_is_refused(program: ProgramRun, resource, expected):
    resources = policy_resources(program.declared)
    mutate(resources, "pets-unit-add-pet-policy",
           policy=function_doc(["dynamodb:PutItem"], resource))
    messages = [m for m, _ in lambda_messages(resources)]
    assert len(messages) == 1 and expected in messages[0], messages
    assert "grant them on the stack's tables only" in messages[0]
    if resource != "*":
        assert ("is not the ARN of a table of this stack (tables: pets-unit-idempotency, "
                "pets-unit-pets)") in messages[0]


def test_dynamodb_on_the_tables_own_index_is_allowed(program: ProgramRun):
    """GET /pets queries the table's declared list index; that is still the table."""
    resources = policy_resources(program.declared)
    mutate(resources, "pets-unit-add-pet-policy",
           policy=function_doc(["dynamodb:Query"], f"{TABLE_ARN}/index/by-created"))
    assert lambda_messages(resources) == []


def test_function_role_inline_policy_is_checked(program: ProgramRun):
    resources = policy_resources(program.declared)
    role = by_name(resources, "pets-unit-purchase-pet-role")
    mutate(resources, role.name,
           inlinePolicies=[{"name": "extra", "policy": function_doc(["dynamodb:*"], "*")}])
    messages = [m for m, _ in lambda_messages(resources)]
    assert len(messages) == 2, messages
    assert all(m.startswith("role pets-unit-purchase-pet-role inline policy 'extra'")
               for m in messages)


def test_policy_attached_to_a_function_role_is_checked(program: ProgramRun):
    resources = policy_resources(program.declared)
    role = by_name(resources, "pets-unit-remove-pet-role")
    policy = policy_resource("aws:iam/policy:Policy", "extra",
                             {"arn": f"arn:aws:iam::{ACCOUNT}:policy/extra",
                              "policy": function_doc(["dynamodb:Scan"], "*")})
    attachment = policy_resource(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "extra-attachment",
        {"role": "pets-unit-remove-pet-fn", "policyArn": f"arn:aws:iam::{ACCOUNT}:policy/extra"},
        deps={"role": [role], "policyArn": [policy]})
    resources += [policy, attachment]
    violations = lambda_messages(resources)
    assert len(violations) == 1, violations
    assert violations[0][0].startswith("policy extra (attached by extra-attachment)")
    assert violations[0][1].endswith("::extra-attachment")


def test_role_policy_found_by_role_name_without_dependency(program: ProgramRun):
    resources = policy_resources(program.declared)
    resources.append(policy_resource(ROLE_POLICY, "literal", {
        "role": "pets-unit-add-pet-fn", "policy": function_doc(["dynamodb:*"])}))
    messages = [m for m, _ in lambda_messages(resources)]
    assert len(messages) == 1 and messages[0].startswith("role policy literal"), messages


def test_roles_not_trusted_by_lambda_are_not_function_roles(program: ProgramRun):
    resources = policy_resources(program.declared)
    mutate(resources, "pets-unit-admin-invoke", policy=function_doc(["dynamodb:*"], "*"))
    assert lambda_messages(resources) == []
    mutate(resources, "pets-unit-list-pets-policy", policy=function_doc(["dynamodb:*"], "*"))
    assert len(lambda_messages(resources)) == 2


def test_table_named_while_its_arn_is_unknown_in_preview(program: ProgramRun):
    resources = policy_resources(program.declared, preview=True)
    mutate(resources, "pets-unit-add-pet-policy", policy=function_doc(["dynamodb:PutItem"]))
    assert lambda_messages(resources) == []
    other = TABLE_ARN.replace("pets-unit-pets", "other")
    mutate(resources, "pets-unit-add-pet-policy",
           policy=function_doc(["dynamodb:PutItem"], other))
    messages = [m for m, _ in lambda_messages(resources)]
    assert len(messages) == 1 and "table/other" in messages[0], messages


# --- iam-managing-class-needs-grant -------------------------------------------------------

def managing_messages(*statements: dict, name: str = "pets-unit-admin",
                      tags: dict | None = None) -> list[str]:
    props = {"name": name, "assumeRolePolicy": doc(*statements)}
    if tags is not None:
        props["tags"] = tags
    return resource_violations(rules.IAM_MANAGING_CLASS_NEEDS_GRANT, ROLE, props)


def test_the_seed_rule_for_admins_is_refused():
    """Every Auth0 database user, self-registered ones too, would manage the shop."""
    messages = managing_messages(oidc({"StringEquals": AUD, "StringLike": SUB}))
    assert len(messages) == 1, messages
    assert "admin class manages the shop" in messages[0]
    assert "self-registered user satisfies this statement" in messages[0]


def test_the_rule_finds_the_class_by_tag_when_the_name_hides_it():
    messages = managing_messages(oidc({"StringEquals": AUD, "StringLike": SUB}),
                                 name="shop-operators", tags={"pets:userClass": "admin"})
    assert len(messages) == 1, messages


@pytest.mark.parametrize("members", [
    access.Membership(subjects=("auth0|alice",)),
    access.Membership(session_tags={"pets-class": "admin"}),
    access.Membership(subjects=("auth0|alice",), session_tags={"pets-class": "admin"}),
    access.Membership(sub_patterns=("auth0|alice",)),  # no wildcard: one person
])
def test_admins_by_grant_pass(members):
    trust = policies.trust_policy(PROVIDER, ISSUER, CLIENT_ID, members)
    assert managing_messages(*trust["Statement"]) == []


def test_one_open_statement_beside_a_grant_is_refused():
    messages = managing_messages(
        oidc({"StringEquals": {**AUD, "aws:RequestTag/pets-class": "admin"}}, Sid="Grant"),
        oidc({"StringEquals": AUD, "StringLike": {f"{KEY}:sub": "auth0|?*"}}, Sid="Open"))
    assert len(messages) == 1 and messages[0].startswith("trust statement 1 (Open)"), messages


def test_a_class_that_only_reads_and_buys_may_use_patterns():
    assert managing_messages(oidc({"StringEquals": AUD, "StringLike": SUB}),
                             name="pets-unit-buyer", tags={"pets:userClass": "buyer"}) == []


# --- lambda-roles-match-model (stack) ----------------------------------------------------

IDEMPOTENCY_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/pets-unit-idempotency"


def model_messages(resources) -> list[str]:
    return [m for m, _ in stack_violations(rules.LAMBDA_ROLES_MATCH_MODEL, resources)]


def declared_policy(program: ProgramRun, name: str) -> dict:
    return program.named(name).json_input("policy")


def test_the_programs_function_roles_match_the_model(program: ProgramRun):
    assert model_messages(policy_resources(program.declared)) == []


def test_another_route_on_the_idempotency_table_is_refused(program: ProgramRun):
    """The purchase takes no Idempotency-Key: its role gets nothing on the records."""
    resources = policy_resources(program.declared)
    policy = declared_policy(program, "pets-unit-purchase-pet-policy")
    policy["Statement"].append({"Sid": "Records", "Effect": "Allow",
                                "Action": ["dynamodb:GetItem"], "Resource": IDEMPOTENCY_ARN})
    mutate(resources, "pets-unit-purchase-pet-policy", policy=json.dumps(policy))
    (message,) = model_messages(resources)
    assert message.startswith("role policy pets-unit-purchase-pet-policy statement 2 (Records) "
                              "(Lambda execution role pets-unit-purchase-pet-role, the function "
                              "of POST /pets/purchase) grants dynamodb:getitem on the "
                              "idempotency table 'pets-unit-idempotency'"), message
    assert "(Route.idempotency_actions: none)" in message


def test_more_on_the_idempotency_table_than_the_utility_needs_is_refused(program: ProgramRun):
    resources = policy_resources(program.declared)
    policy = declared_policy(program, "pets-unit-add-pet-policy")
    records = next(s for s in policy["Statement"] if s["Sid"] == "IdempotencyTable")
    records["Action"] = [*records["Action"], "dynamodb:Scan"]
    mutate(resources, "pets-unit-add-pet-policy", policy=json.dumps(policy))
    (message,) = model_messages(resources)
    assert "grants dynamodb:scan on the idempotency table" in message
    assert ("Route.idempotency_actions: dynamodb:deleteitem, dynamodb:getitem, "
            "dynamodb:putitem, dynamodb:updateitem") in message


def test_the_utilitys_actions_on_the_pets_table_are_refused(program: ProgramRun):
    """The add's idempotency actions belong to the records, not to the pets."""
    resources = policy_resources(program.declared)
    policy = declared_policy(program, "pets-unit-add-pet-policy")
    pets = next(s for s in policy["Statement"] if s["Sid"] == "PetsTable")
    pets["Action"] = [*pets["Action"], "dynamodb:DeleteItem", "dynamodb:UpdateItem"]
    mutate(resources, "pets-unit-add-pet-policy", policy=json.dumps(policy))
    (message,) = model_messages(resources)
    assert ("grants dynamodb:deleteitem, dynamodb:updateitem on the pets table "
            "'pets-unit-pets'") in message
    assert "(Route.table_actions: dynamodb:putitem)" in message


def test_a_wildcard_is_wider_than_the_model(program: ProgramRun):
    resources = policy_resources(program.declared)
    mutate(resources, "pets-unit-add-pet-policy",
           policy=function_doc(["dynamodb:*"], IDEMPOTENCY_ARN))
    (message,) = model_messages(resources)
    assert "grants dynamodb:* on the idempotency table" in message

"""ACCESS.md: the access model as a reviewable document, and its parser.

`python -m policy.access_doc > ACCESS.md` (what `make access` runs) renders
the model; tests/policy/test_access_doc.py fails when the checked-in file
differs, so every access change shows up as a diff of ACCESS.md in review.
`access_matrix_from_doc` reads the matrix back for the suites that measure
access (offline IAM engine, emulator) and compare with what was reviewed.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from pathlib import Path

import access
from components import naming
from components.config import Settings, parse_settings
from components.oidc_client import grant_role_name
from components.stack_files import stack_file_config, stack_names

ALLOWED = "✔"
DENIED = "✘"
MATRIX_HEADING = "## Matrix"
WHO_HEADING = "## Who becomes which class"
FIELDS_HEADING = "## What each class reads of a pet"
PROOF_HEADING = "## Proved for every request"
NO_CLASS = "no class"
STACK = "<stack>"
ROOT = Path(__file__).resolve().parent.parent


# The names the program gives, for a stack or for the placeholder `<stack>`
# (components/naming.py); tests/policy/test_access_doc.py checks them against a program run.
def role_name(user_class: access.UserClass, stack: str = STACK) -> str:
    return naming.class_role_name(naming.stack_prefix(stack), user_class)


def function_name(route: access.Route, stack: str = STACK) -> str:
    return naming.function_name(naming.stack_prefix(stack), route)


def execution_role_name(route: access.Route, stack: str = STACK) -> str:
    return naming.execution_role_name(function_name(route, stack))


def table_name(stack: str = STACK) -> str:
    return naming.table_name(naming.stack_prefix(stack))


def idempotency_table_name(stack: str = STACK) -> str:
    return naming.idempotency_table_name(naming.stack_prefix(stack))


def _code(text: str) -> str:
    return f"`{text}`"


def _cell(text: str) -> str:
    """Table cells end at `|`: escape it (Auth0 subs and summaries may carry one)."""
    return text.replace("|", "\\|")


def _codes(items: Sequence[str]) -> str:
    return ", ".join(_code(i) for i in items) if items else "none"


def _matrix(classes: Sequence[access.UserClass], routes: Sequence[access.Route]) -> list[str]:
    matrix = access.access_matrix(tuple(classes), tuple(routes))
    lines = [
        MATRIX_HEADING,
        "",
        "| Route | " + " | ".join(c.name for c in classes) + " |",
        "|---|" + ":-:|" * len(classes),
    ]
    for route in routes:
        label = _code(route.id) + (" (public)" if route.public else "")
        cells = [ALLOWED if matrix[c.name][route.id] else DENIED for c in classes]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", f"{ALLOWED} allowed, {DENIED} denied (IAM refuses the signed call: 403)."]
    return lines


def _membership(members: access.Membership) -> list[str]:
    lines = ["- Members: an ID token for the stack's client (`<issuer>:aud` = `pets:oidcClientId`) "
             "that matches any one of:"]
    for pattern in members.sub_patterns:
        lines.append(f"  - `sub` like {_code(pattern)} (StringLike `<issuer>:sub`)")
    for subject in members.subjects:
        lines.append(f"  - `sub` equal to {_code(subject)} (StringEquals `<issuer>:sub`)")
    if members.session_tags:
        tags = ", ".join(f"`{k}={v}`" for k, v in sorted(members.session_tags.items()))
        lines.append(f"  - session tags {tags} (StringEquals `aws:RequestTag/<key>`, from the "
                     "token's `https://aws.amazon.com/tags` claim; needs `sts:TagSession`)")
    return lines


def _classes(classes: Sequence[access.UserClass]) -> list[str]:
    lines = ["## User classes", ""]
    for user_class in classes:
        lines += [f"### {user_class.name}", ""]
        if user_class.description:
            lines += [user_class.description, ""]
        lines += [
            f"- Role: {_code(role_name(user_class))}",
            f"- May invoke: {_codes([r.id for r in user_class.routes])}",
            "- Invoke ARNs: "
            + _codes([f"<executionArn>/<stage>/{r.arn_suffix}" for r in user_class.routes]),
            *_membership(user_class.members),
            "",
        ]
    lines += ["A stack may replace a class's membership in `Pulumi.<stack>.yaml` "
              "(`pets:userClasses`), never the routes it may call.", ""]
    return lines


def _routes(routes: Sequence[access.Route]) -> list[str]:
    lines = [
        "## Routes",
        "",
        f"Each route has its own Lambda function and execution role; table actions are granted on "
        f"{_code(table_name())} only, idempotency actions on {_code(idempotency_table_name())} "
        "only (the records of `Idempotency-Key`s, for a route that takes one).",
        "",
        "| Route | Summary | Authorization | Handler (handlers/app.py) | Lambda function "
        "| Execution role | Table actions | Idempotency actions |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in routes:
        lines.append(
            f"| {_code(r.id)} | {_cell(r.summary)} | {'none (public)' if r.public else 'AWS_IAM'} "
            f"| {_code(r.handler)} | {_code(function_name(r))} | {_code(execution_role_name(r))} "
            f"| {_codes(sorted(r.table_actions))} | {_codes(sorted(r.idempotency_actions))} |")
    return lines


def _fields(classes: Sequence[access.UserClass],
            fields: Sequence[access.PetField]) -> list[str]:
    lines = [
        FIELDS_HEADING,
        "",
        "What the API answers of a pet to a member of each class (every route that returns "
        "pets, `access.PET_FIELDS`). The class is the role API Gateway authenticated (the role "
        "part of the caller's assumed-role ARN, never its session name); the pet's own buyer "
        "is the subject of a verified ID token in `X-Id-Token`, never anything else the client "
        "sends. A field that names the buyer is for classes recognised by an explicit grant "
        "and for the buyer themself only (access.py refuses anything else).",
        "",
        "| Field | " + " | ".join(c.name for c in classes) + " | the pet's own buyer | About |",
        "|---|" + ":-:|" * (len(classes) + 1) + "---|",
    ]
    for field in fields:
        cells = [ALLOWED if field.name in access.readable_fields(c.name, fields=tuple(fields))
                 else DENIED for c in classes]
        own = ALLOWED if field.buyer_reads or access.EVERY_CLASS in field.readers else DENIED
        about = _cell(field.description) + ("; names the buyer" if field.names_the_buyer
                                            else "")
        lines.append(f"| {_code(field.name)} | " + " | ".join(cells) + f" | {own} | {about} |")
    lines += ["", f"{ALLOWED} in the answer, {DENIED} left out.", ""]
    return lines


def stack_settings(root: Path = ROOT) -> list[Settings]:
    """Every stack file's settings, parsed as `pulumi up` would (a bad one raises ConfigError)."""
    return [parse_settings(stack, stack_file_config(root / f"Pulumi.{stack}.yaml"))
            for stack in stack_names(root)]


def _token_row(token: access.TokenClaims, classes: tuple[access.UserClass, ...]) -> str:
    tags = ", ".join(f"`{k}={v}`" for k, v in sorted(token.session_tags.items())) or "none"
    becomes = ", ".join(access.classes_of(token, classes)) or NO_CLASS
    return (f"| {_cell(token.label)} | {_code(_cell(token.sub))} | "
            f"{'ours' if token.own_client else 'another client'} | "
            f"{'ours' if token.own_issuer else 'another issuer'} | {tags} | {becomes} |")


def _rule_summary(members: access.Membership) -> str:
    rules = [f"`sub` like {_code(_cell(p))}" for p in members.sub_patterns]
    rules += [f"`sub` = {_code(_cell(s))}" for s in members.subjects]
    rules += [f"session tag `{k}={v}`" for k, v in sorted(members.session_tags.items())]
    return " or ".join(rules)


def _who_becomes(stacks: Sequence[Settings]) -> list[str]:
    lines = [
        WHO_HEADING,
        "",
        "Per stack file, the ID tokens anyone can obtain (`access.token_kinds`) and the class "
        "each becomes under that stack's membership rules. The offline IAM engine evaluates "
        "the trust policies the program synthesizes for each stack and must agree "
        "(tests/offline/test_who_becomes.py); a class that manages the shop is reachable only "
        "by an explicit grant (access.py refuses a sub pattern for it).",
        "",
    ]
    for settings in stacks:
        classes = settings.user_classes
        client = _client(settings)
        lines += [f"### Stack `{settings.stack}`", "",
                  f"Issuer {_code(settings.oidc_issuer)}, client {client}"
                  + (f"; Auth0 tenant {_code(settings.auth0_tenant)} managed by the program"
                     if settings.auth0_tenant else "") + ".", ""]
        for user_class in classes:
            how = _rule_summary(user_class.members)
            if settings.auth0_tenant and user_class.members.session_tags:
                how += (f" (Auth0 role {_code(grant_role_name(settings.prefix, user_class))},"
                        " asserted by the post-login Action)")
            lines.append(f"- {user_class.name}: {how}")
        lines += ["", "| ID token | `sub` | `aud` | issuer | session tags | Becomes |",
                  "|---|---|---|---|---|---|"]
        lines += [_token_row(t, classes) for t in access.token_kinds(classes)]
        lines += ["", *_shared(classes), ""]
    return lines


def _shared(classes: Sequence[access.UserClass]) -> list[str]:
    """Which tokens reach two classes, stated (access.shared_members), never accidental."""
    pairs = [(a, b, access.shared_members(a.members, b.members))
             for i, a in enumerate(classes) for b in classes[i + 1:]]
    shared = [f"- {a.name} and {b.name}: a token meeting {_cell('; or '.join(rules))}"
              for a, b, rules in pairs if rules]
    if not shared:
        return ["No token reaches two classes."]
    return ["Tokens that reach two classes:", *shared]


def _client(settings: Settings) -> str:
    return (_code(settings.oidc_client_id) if settings.oidc_client_id
            else "the managed Auth0 application's client id")


def _proved(stacks: Sequence[Settings]) -> list[str]:
    """What `make prove` proves per stack file; each claim's label is a theorem of prover/
    (tests/prover/test_access_md_claims.py checks the two lists are the same)."""
    lines = [
        PROOF_HEADING,
        "",
        "`make prove` (run by `make test`) proves each claim below for its stack file, on the "
        "policies the program synthesizes from it, and `python -m devstack prove` on what the "
        "running local stack holds: the z3 SMT solver covers every request at once (every ARN "
        "string, every caller, every value of every ID-token claim, in printable characters), "
        "not a sample. A false claim fails the run with its shortest counterexamples, replayed "
        "through iam-simulate (prover/). Role sessions are judged with `aws:PrincipalArn` as AWS "
        "gives it (the role's ARN) and as MiniStack gives it (the session's ARN).",
        "",
    ]
    for settings in stacks:
        stage = settings.stage
        lines += [f"### Stack `{settings.stack}`", ""]
        for c in settings.user_classes:
            routes = _codes([r.id for r in c.routes])
            arns = _codes([f"<executionArn>/{stage}/{r.arn_suffix}" for r in c.routes])
            lines += [
                f"- `{c.name}: identity`: the role `{role_name(c, settings.stack)}`'s own "
                f"policies allow `execute-api:Invoke` on exactly {arns}, whatever the ARN",
                f"- `{c.name}: api-policy`: on this API, its resource policy alone allows that "
                f"role exactly {routes} and the CORS preflights, and explicitly denies it "
                "everything else (a second wall)",
                f"- `{c.name}: effective`: on this API, both policies together allow that role "
                f"exactly {routes} and the CORS preflights",
                f"- `{c.name}: trust`: its trust policy admits exactly the tokens of issuer "
                f"{_code(settings.oidc_issuer)} for {_client(settings)} with "
                f"{_rule_summary(c.members)} (a token carrying session tags by its tags alone, "
                "which need `sts:TagSession`)",
            ]
        lines += [
            "- `universe`: a printable character appears in no policy, so what holds for every "
            "printable string holds for every string without control characters",
            "- `others`: the API's resource policy explicitly denies anyone else (other roles' "
            "sessions, users, anonymous callers) everything on this API but the CORS "
            "preflights, which it allows",
            "- `methods`: every route is a method with AWS_IAM authorization, and the only other "
            "methods are the routes' unauthenticated OPTIONS preflights",
            "- `other-roles`: no other role of the stack admits any web-identity token",
            "- `memberships`: each ID token above becomes the classes its table says, and two "
            "classes share a token exactly as stated there",
            "",
        ]
    return lines


def _stack_sections(path: str | Path, heading: str) -> dict[str, list[str]]:
    """{stack: its lines} of a section whose `### Stack `<name>`` parts follow `heading`."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    try:
        start = lines.index(heading)
    except ValueError:
        raise ValueError(f"{path}: no {heading!r} section") from None
    sections: dict[str, list[str]] = {}
    stack = None
    for line in lines[start + 1:]:
        if line.startswith("## "):
            break
        if match := re.fullmatch(r"### Stack `(?P<stack>[^`]+)`", line):
            stack = match["stack"]
            sections[stack] = []
        elif stack:
            sections[stack].append(line)
    return sections


def proved_from_doc(path: str | Path) -> dict[str, list[str]]:
    """{stack: [claim label]} read from the checked-in ACCESS.md's proof section."""
    return {stack: [m["label"] for line in lines
                    if (m := re.match(r"- `(?P<label>[^`]+)`: ", line))]
            for stack, lines in _stack_sections(path, PROOF_HEADING).items()}


def render(
    classes: Sequence[access.UserClass] | None = None,
    routes: Sequence[access.Route] | None = None,
    stacks: Sequence[Settings] | None = None,
) -> str:
    """The whole of ACCESS.md for a model (default: access.py as it is now)."""
    classes = access.USER_CLASSES if classes is None else classes
    routes = access.ROUTES if routes is None else routes
    stacks = stack_settings() if stacks is None else stacks
    public = [r for r in routes if r.public]
    lines = [
        "# Access matrix of the pets API",
        "",
        "<!-- Generated from access.py by `make access` (python -m policy.access_doc). Do not",
        "     edit by hand: change access.py, run `make access`, review the diff. -->",
        "",
        "Every route needs a SigV4 signature (AWS_IAM) by the role of a user class, unless it is "
        "public. A user gets a class's role with an OIDC ID token its trust policy accepts "
        "(membership below). `pets-<stack>` is the stack's resource prefix.",
        "",
        *_matrix(classes, routes),
        "",
        "## Public routes",
        "",
        (_codes([r.id for r in public]) + " (no signature needed; every class and anonymous "
         "callers)") if public else "None: every route requires AWS_IAM.",
        "",
        *_classes(classes),
        *_fields(classes, access.PET_FIELDS),
        *_who_becomes(stacks),
        *_proved(stacks),
        *_routes(routes),
    ]
    return "\n".join(lines)


_ROUTE_CELL = re.compile(r"^`(?P<id>[^`]+)`( \(public\))?$")


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def access_matrix_from_doc(path: str | Path) -> dict[str, dict[str, bool]]:
    """{class: {route id: allowed}} read from the checked-in ACCESS.md.

    The same shape as access.access_matrix(), so measured matrices compare
    with what reviewers approved. Raises ValueError on a malformed table.
    """
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    try:
        start = lines.index(MATRIX_HEADING)
    except ValueError:
        raise ValueError(f"{path}: no {MATRIX_HEADING!r} section") from None
    table = []
    for line in lines[start + 1:]:
        if line.startswith("|"):
            table.append(line)
        elif table:
            break
    if len(table) < 2:
        raise ValueError(f"{path}: the matrix table is missing")
    header = _cells(table[0])
    if header[0] != "Route" or len(header) < 2:
        raise ValueError(f"{path}: matrix header must be '| Route | <class> ... |'")
    classes = header[1:]
    matrix: dict[str, dict[str, bool]] = {c: {} for c in classes}
    for line in table[2:]:
        cells = _cells(line)
        match = _ROUTE_CELL.match(cells[0])
        if match is None or len(cells) != len(header):
            raise ValueError(f"{path}: malformed matrix row {line!r}")
        for user_class, cell in zip(classes, cells[1:], strict=True):
            if cell not in (ALLOWED, DENIED):
                raise ValueError(f"{path}: cell {cell!r} in {line!r} is neither "
                                 f"{ALLOWED} nor {DENIED}")
            matrix[user_class][match["id"]] = cell == ALLOWED
    return matrix


def who_becomes_from_doc(path: str | Path) -> dict[str, dict[str, list[str]]]:
    """{stack: {ID token label: classes}} read from the checked-in ACCESS.md."""
    tables: dict[str, dict[str, list[str]]] = {}
    for stack, lines in _stack_sections(path, WHO_HEADING).items():
        tables[stack] = {}
        for line in lines:
            if line.startswith("| ") and not line.startswith("| ID token"):
                cells = [c.replace("\\|", "|")
                         for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
                label, becomes = cells[0].strip(), cells[-1].strip()
                tables[stack][label] = [] if becomes == NO_CLASS else becomes.split(", ")
    return tables


def main() -> None:
    # Bytes, so the marks survive a non-UTF-8 locale when redirected to ACCESS.md.
    sys.stdout.buffer.write((render() + "\n").encode("utf-8"))


if __name__ == "__main__":
    main()
